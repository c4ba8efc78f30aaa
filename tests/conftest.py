import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests import the tiny-project helpers as `tiny`

import tiny  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# tests/pytorch/ needs the PyTorch environment (.venv-torch): tests/test_pytorch.py runs it there with its own
# pytest; the main venv has no torch to collect it with.
collect_ignore = [] if importlib.util.find_spec("torch") else ["pytorch"]


@pytest.fixture
def project(tmp_path):
    """A tiny project without a model: images, labels.json and a valid model file path."""
    tiny.write_data(tmp_path)
    (tmp_path / "model.h5").write_bytes(b"not checked by load_config")
    return tmp_path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A real Keras .h5 classifier for the tiny projects (made once per test session)."""
    return tiny.write_model(tmp_path_factory.mktemp("model") / "model.h5")


@pytest.fixture
def harness(pytester):
    """A pytester folder holding a copy of the harness (conftest, fixtures, suites, pytest.ini)."""
    for name in ("conftest.py", "pytest.ini"):
        shutil.copy(REPO / name, pytester.path / name)
    for name in ("fixtures", "suites"):
        shutil.copytree(REPO / name, pytester.path / name, ignore=shutil.ignore_patterns("__pycache__"))
    return pytester
