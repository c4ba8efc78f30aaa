"""The shape of the code: small modules, packages in layers that import only downward (every import counted:
function-level and TYPE_CHECKING ones too), no cycle, no heavy imports when vsq is imported, pytest only in the
plugin."""

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_LINES = 400


def modules() -> dict[str, Path]:
    """vsq's modules by dotted name."""
    found = {}
    for path in (REPO / "vsq").rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def test_no_module_is_over_400_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


# The packages' layers, lowest first: a package imports only packages of lower layers (at any depth of a file,
# under TYPE_CHECKING too), never one of its own layer or above. docs/architecture.md says what each holds.
LAYERS = (
    ("util", "errors", "statistics"),  # foundations: no vsq vocabulary
    ("runtimes", "tools"),  # file kinds and their predictors; the external tools vsq runs
    ("configuration",),  # the configuration file, its schema, its typed values (preprocessing included)
    ("data",),  # images and their readers
    ("cache",),  # the artifact store
    ("core",),  # the vocabulary every higher layer shares: checks and verdicts, model roles, explanation types
    ("provenance", "tasks"),  # what a run measured (digests, commit); what outputs mean and how they are judged
    ("frameworks",),  # Keras, PyTorch: load, quantize, export, explain
    ("pipeline",),  # one configuration's run: jobs, builds, evaluation, the document, the verdicts map
    ("rendering",),  # primitives for tables, HTML and charts, from a results document alone
    ("sections",),  # optional parts of a run (screen, variants, IMX500, explanation, baseline)
    ("reporting",),  # summaries, HTML and JUnit reports, history and trends
    ("api", "init"), ("run_command",), ("__main__",), ("pytest_plugin",), ("vsq",),  # the faces; "vsq" is the package's own __init__
)
LAYER_OF = {package: level for level, packages in enumerate(LAYERS) for package in packages}


def package_of(module: str) -> str:
    """vsq.cache.store -> pipeline; vsq -> vsq (the package's __init__)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "vsq"


def every_import(path: Path, known: set[str]) -> set[str]:
    """The vsq modules a file imports, at any depth: function-level and TYPE_CHECKING imports too."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vsq"):
            out.add(node.module)
            out |= {f"{node.module}.{alias.name}" for alias in node.names} & known
        elif isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name.startswith("vsq")}
    return out & known


def package_edges() -> dict[tuple[str, str], list[str]]:
    """(importing package, imported package) -> the modules that import it."""
    found, edges = modules(), {}
    for name, path in found.items():
        for imported in every_import(path, set(found)):
            if package_of(imported) != package_of(name):
                edges.setdefault((package_of(name), package_of(imported)), []).append(name)
    return edges


def test_every_package_has_a_layer():
    assert {package_of(name) for name in modules()} - set(LAYER_OF) == set()


def test_packages_import_only_lower_layers_counting_function_level_and_type_checking_imports():
    upward = {f"{a} -> {b}": sorted(who) for (a, b), who in package_edges().items()
              if LAYER_OF.get(a, -1) <= LAYER_OF.get(b, -1)}
    assert upward == {}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for child in sorted(graph.get(node, ())):
            if state.get(child) == "open":
                cycles.append(stack[stack.index(child):] + [child])
            elif child not in state:
                visit(child, stack + [child])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return cycles


def test_no_package_import_cycle():
    graph = {}
    for a, b in package_edges():
        graph.setdefault(a, set()).add(b)
    assert _cycles(graph) == []


def test_no_module_import_cycle_counting_function_level_and_type_checking_imports():
    # A step module names what it reads of the pipeline by a protocol of vsq.core (Run, Steps), not by the
    # Pipeline class that imports it.
    found = modules()
    graph = {name: every_import(path, set(found)) - {name} for name, path in found.items()}
    assert _cycles(graph) == []


def test_a_type_checking_import_counts_and_closes_a_cycle(tmp_path):
    source = tmp_path / "steps.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from vsq.pipeline.pipeline import Pipeline\n")
    imported = every_import(source, set(modules()))
    assert imported == {"vsq.pipeline.pipeline"}
    assert _cycles({"vsq.pipeline.steps": imported, "vsq.pipeline.pipeline": {"vsq.pipeline.steps"}}) != []


def test_importing_vsq_and_its_configuration_imports_no_tensorflow_mct_or_pytest():
    code = ("import sys, vsq, vsq.pipeline.job, vsq.configuration.config; "
            "print(sorted(m for m in ('tensorflow', 'pytest', 'model_compression_toolkit') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert done.stdout.strip() == "[]"


def test_pytest_is_imported_only_by_the_plugin():
    users = [name for name, path in modules().items() if "pytest" in {
        alias.name.split(".")[0] for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])}]
    assert [name for name in users if not name.startswith("vsq.pytest_plugin")] == []
    assert "vsq.pytest_plugin.hooks" in users  # the plugin is where the modules are looked for


def test_every_check_has_its_suite_test_and_every_suite_test_its_check():
    from test_suite_messages import suite_checks
    from vsq.frameworks.keras.checks import EXPORT_CHECKS as KERAS
    from vsq.frameworks.pytorch.checks import EXPORT_CHECKS as PYTORCH
    from vsq.pipeline.checks import CORE_CHECKS
    from vsq.sections import all_sections

    from vsq.tasks import TASKS

    specs = [*CORE_CHECKS, *KERAS, *PYTORCH, *(spec for section in all_sections() for spec in section.checks),
             *(spec for task in TASKS.values() for spec in task.checks)]
    assert {f"test_{spec.name}" for spec in specs} == suite_checks()
