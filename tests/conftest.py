import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

# h5py cannot be imported twice in one process: import it before any pytester snapshot drops it from sys.modules
# (tests/pytorch runs in .venv-torch, which has no h5py).
if importlib.util.find_spec("h5py"):
    import h5py  # noqa: F401

sys.path.insert(0, str(Path(__file__).parent))  # tests import the tiny-project helpers as `tiny`

import tiny  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
# tests/pytorch/ needs the PyTorch environment (.venv-torch): tests/test_pytorch.py runs it there with its own
# pytest; the main venv has no torch to collect it with.
collect_ignore = [] if importlib.util.find_spec("torch") else ["pytorch"]


# Made once per run whichever worker asks (the first one's file or cache serves both): no need to group their users.
RUN_WIDE = {"tiny_model", "shared_cache"}


def shared_fixtures(item, folder: Path = TESTS) -> dict[str, str]:
    """{fixture: "session" or "module"} of the session- and module-scoped fixtures defined in `folder` that the item
    uses, RUN_WIDE's left out."""
    shared = {}
    for name, definitions in item._fixtureinfo.name2fixturedefs.items():
        code = getattr(definitions[-1].func, "__code__", None)  # None for fixtures that are not Python functions
        if definitions[-1].scope in ("session", "module") and name not in RUN_WIDE and code \
                and folder in Path(code.co_filename).parents:
            shared[name] = definitions[-1].scope
    return shared


def group_by_shared_fixtures(items, folder: Path = TESTS) -> None:
    """With `--dist loadgroup` (README's test command) the tests that share a session- or module-scoped fixture run
    on one xdist worker, so that what the fixture builds (models, conversions, runs) is built once, not on both:
    a session fixture's users form its group, a module fixture's users their module's, and a module some of whose
    tests use a session fixture joins that group whole (its module fixtures with it). Other tests are spread one by
    one, as `--dist load` spreads them. (tests/test_sharing.py runs the rule on two workers.)"""
    scopes = {}
    for item in items:  # {"session" or "module": the first such fixture the item uses}
        scopes[item] = {}
        for name, scope in shared_fixtures(item, folder).items():
            scopes[item].setdefault(scope, name)
    joined = {item.module.__name__: found["session"] for item, found in scopes.items() if "session" in found}
    for item, found in scopes.items():
        if found:
            item.add_marker(pytest.mark.xdist_group(joined.get(item.module.__name__, item.module.__name__)))


def slow_singletons_first(items) -> list:
    """xdist hands out the groups first (most tests first), then the single tests in collection order: a slow
    single test collected late (tests/test_pytorch.py's runs of minutes) would start when the other worker has
    nothing left and leave it idle. Slow tests of no group go first; the quick ones fill the end on both workers.
    A moved test shares no module fixture with its module's other tests, so no fixture is built twice."""
    moves = [bool(item.get_closest_marker("slow") and not item.get_closest_marker("xdist_group")) for item in items]
    return [item for item, move in zip(items, moves) if move] + [item for item, move in zip(items, moves) if not move]


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks
def pytest_collection_modifyitems(items):
    group_by_shared_fixtures(items)
    items[:] = slow_singletons_first(items)


@pytest.fixture
def project(tmp_path):
    """A tiny project without a real model: images, labels.json and model.h5, an HDF5 file with a model
    configuration and no weights (what vsq checks before loading a model, made without TensorFlow)."""
    import hostile

    tiny.write_data(tmp_path)
    hostile.write_h5(tmp_path / "model.h5", hostile.model_config(hostile.layer("Dense", "dense", units=3)))
    return tmp_path


def run_folder(tmp_path_factory) -> Path:
    """The folder of this test run: under xdist, the parent of the workers' own folders."""
    import os

    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def run_wide_file(tmp_path_factory, name: str, make) -> Path:
    """One file for the whole run, the same on both xdist workers: the first worker's `make(path)` wins (a hard
    link, atomic), the other uses it."""
    import os

    path = run_folder(tmp_path_factory) / name
    path.parent.mkdir(exist_ok=True)
    if not path.is_file():
        made = make(tmp_path_factory.mktemp("run-wide") / path.name)
        try:
            os.link(made, path)
        except FileExistsError:
            pass
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A real Keras .h5 classifier for the tiny projects: one file for the whole run, the same on both xdist
    workers. Keras writes other bytes at every save and the cache keys a model by its SHA-256, so a model per
    worker would make shared_cache build every tiny project twice."""
    return run_wide_file(tmp_path_factory, "tiny-model/model.h5", tiny.write_model)


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One artifact cache for the whole test run, shared by both xdist workers (the cache takes concurrent
    builders: tests/test_cache.py), for tests that only read what is built: the tiny projects' builds are made
    once. Tests that count builds or touch cache files keep a cache of their own."""
    root = run_folder(tmp_path_factory)
    (root / "shared-cache").mkdir(exist_ok=True)
    return root / "shared-cache"


@pytest.fixture(scope="session")
def example_detector():
    """The bundled detector (examples/detection.json) and MCT's PTQ of it (tests/detection_example.py), made once:
    its users (tests/test_detection_model.py, tests/test_detection_task.py) form one xdist group."""
    import detection_example

    return detection_example.quantized(REPO / "examples" / "detection.json")


@pytest.fixture
def harness(pytester):
    """A pytester folder holding a copy of the harness (suites, pytest.ini; the plugin is vsq.pytest_plugin)."""
    for name in ("pytest.ini",):
        shutil.copy(REPO / name, pytester.path / name)
    for name in ("suites",):
        shutil.copytree(REPO / name, pytester.path / name, ignore=shutil.ignore_patterns("__pycache__"))
    return pytester


RUNTIME_KINDS = ("onnxruntime_float", "onnxruntime_int8", "openvino_float", "openvino_int8")


@pytest.fixture(scope="session")
def runtime_files(tmp_path_factory, tiny_model):
    """The tiny model built once per session as each ONNX Runtime and OpenVINO kind, by vsq's recipes on a tiny
    project's calibration batches: {"job": Job, "home": the HOME the builds ran with, kind: path}. HOME points at
    an empty folder while they build, so a test can see that OpenVINO's and NNCF's telemetry wrote nothing."""
    import os

    from vsq.configuration.config import Variant
    from vsq.pipeline.job import prepare
    from vsq.data.calibration import decode_calibration
    from vsq.frameworks.keras.models import load_keras_model
    from vsq.frameworks.keras.recipes import build_variant

    root, home = tmp_path_factory.mktemp("runtimes"), tmp_path_factory.mktemp("home")
    tiny.write_data(root, mislabelled=4)  # not every prediction right: agreement is not trivially Top-1
    job = prepare(tiny.write_config(root, source_keras_model=str(tiny_model)))
    model, batches = load_keras_model(job.config), decode_calibration(job).iterate
    saved_home, os.environ["HOME"] = os.environ.get("HOME"), str(home)
    try:
        built = {kind: build_variant(Variant(kind, kind), model, batches, job.config,
                                     job.config.output_dir / Variant(kind, kind).file_name) for kind in RUNTIME_KINDS}
    finally:
        if saved_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = saved_home
    return {"job": job, "home": home, **built}
