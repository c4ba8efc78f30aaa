"""A new user's path, outside the repository: `pip install CHECKOUT` in a fresh venv, then `vsq init`, `vsq run`
and `pytest --config` on a model and images made here.

The fresh venv installs vsq itself (--no-deps, no index) and reaches the stack (TensorFlow, MCT, pytest) through
a .pth line naming this venv's site-packages, so that the test downloads nothing: only vsq's own packaging
(pyproject.toml, setup.py, the entry points, the suites as vsq.suites) is under test.
"""

import json
import shutil
import subprocess
import sys
import sysconfig
import time
import venv
from pathlib import Path

import pytest

import tiny

REPO = Path(__file__).resolve().parents[1]
SOURCE = ("pyproject.toml", "setup.py", "README.md", "vsq", "suites")  # what a checkout's build reads


def fresh_venv(root: Path) -> Path:
    venv.create(root, with_pip=False)
    python = root / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "vsq_test_stack.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


@pytest.mark.slow
def test_pip_install_then_init_run_and_pytest_from_a_folder_outside_the_repository(tmp_path, tiny_model):
    checkout = tmp_path / "checkout"  # a copy: building in the repository would leave build/ there
    checkout.mkdir()
    for name in SOURCE:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / name, checkout / name)
    python = fresh_venv(tmp_path / "venv")
    started = time.perf_counter()
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
                                "--no-index", "--no-build-isolation", checkout], capture_output=True, text=True)
    print(f"pip install of the checkout: {time.perf_counter() - started:.1f} s")
    assert installed.returncode == 0, installed.stderr

    work = tmp_path / "work"
    tiny.write_data(work)
    shutil.copy(tiny_model, work / "model.h5")
    where = subprocess.run([python, "-c", "import vsq; print(vsq.__file__)"], cwd=work, capture_output=True, text=True)
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "venv")  # the installed copy, not the checkout

    vsq = tmp_path / "venv" / "bin" / "vsq"
    init = subprocess.run([vsq, "init", "evaluate/images", "--model", "model.h5", "--calibration", "images"],
                          cwd=work, capture_output=True, text=True)
    assert init.returncode == 0, init.stderr
    assert init.stdout.splitlines()[-1] == "next: vsq run configuration.json"
    cache = f"--cache-dir={tmp_path / 'cache'}"
    run = subprocess.run([vsq, "run", "configuration.json", cache], cwd=work, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads((work / "evaluate" / "results" / "results.json").read_text())
    assert results["gate"]["verdict"] == "PASS"

    suites = subprocess.run([python, "-m", "pytest", "--config", "configuration.json", "-p", "no:cacheprovider",
                             f"--vsq-cache-dir={tmp_path / 'cache'}", "--junitxml=junit.xml"],
                            cwd=work, capture_output=True, text=True)
    assert suites.returncode == 0, suites.stdout[-3000:] + suites.stderr[-2000:]
    assert "test_schema_valid" in (work / "junit.xml").read_text()  # the installed suites ran
    assert " passed" in suites.stdout.splitlines()[-1]


@pytest.mark.slow
def test_pytest_config_in_another_folder_runs_the_suites_of_this_editable_install(tmp_path, tiny_model):
    """README's set-up installs the checkout editable: `pytest --config` elsewhere collects the checkout's own
    suites/ folder, where no conftest.py may define plugins (pytest refuses that outside the rootdir)."""
    work = tmp_path / "elsewhere"
    tiny.write_data(work)
    tiny.write_config(work, source_keras_model=str(tiny_model))
    done = subprocess.run([sys.executable, "-m", "pytest", "--config", "configuration.json", "-p", "no:cacheprovider",
                           f"--vsq-cache-dir={tmp_path / 'cache'}", "-k", "test_config or test_datasets"],
                          cwd=work, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout.splitlines()[-1] and "error" not in done.stdout.splitlines()[-1]
