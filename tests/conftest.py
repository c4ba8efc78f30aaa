import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests import the tiny-project helpers as `tiny`

import tiny  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path):
    """A tiny project without a real model: images, labels.json and model.h5, an HDF5 file with a model
    configuration and no weights (what vsq checks before loading a model, made without TensorFlow)."""
    import hostile

    tiny.write_data(tmp_path)
    hostile.write_h5(tmp_path / "model.h5", hostile.model_config(hostile.layer("Dense", "dense", units=3)))
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
