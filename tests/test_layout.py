"""The shape of the code: small modules, no import cycle (function-level imports counted), no heavy imports
when vsq is imported, pytest only in the plugin."""

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


def _runtime_nodes(tree):
    """Every node of a module but those under `if TYPE_CHECKING:` (imported by type checkers only)."""
    skipped = {id(child) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test)
               for statement in node.body for child in ast.walk(statement)}
    return [node for node in ast.walk(tree) if id(node) not in skipped]


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The vsq modules a file imports, at any depth of the file (function-level imports too)."""
    out = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vsq"):
            out.add(node.module)
            out |= {f"{node.module}.{alias.name}" for alias in node.names} & known
        elif isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name.startswith("vsq")}
    return out & known


def test_no_module_is_over_400_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_import_cycle_counting_function_level_imports():
    found = modules()
    graph = {name: imports_of(path, set(found)) - {name} for name, path in found.items()}
    # A package's __init__ is imported with any of its modules; edges into a package's own modules from its
    # __init__ are its re-exports, not a cycle of the architecture.
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for child in sorted(graph[node]):
            if state.get(child) == "open":
                cycles.append(stack[stack.index(child):] + [child])
            elif child not in state:
                visit(child, stack + [child])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_importing_vsq_and_its_configuration_imports_no_tensorflow_mct_or_pytest():
    code = ("import sys, vsq, vsq.configuration.job, vsq.configuration.config; "
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

    specs = [*CORE_CHECKS, *KERAS, *PYTORCH, *(spec for section in all_sections() for spec in section.checks)]
    assert {f"test_{spec.name}" for spec in specs} == suite_checks()
