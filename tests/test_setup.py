"""README's commands are what CI runs, and the tests' setup script installs what the tests need."""

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_command(after: str) -> str:
    """The first indented command line of README.md after the text `after`."""
    section = (REPO / "README.md").read_text().split(after, 1)[1]
    return next(line.strip() for line in section.splitlines() if line.startswith("    "))


def test_readmes_test_command_is_exactly_what_ci_runs():
    lines = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert readme_command("Run the project's own tests") == lines[-1]
    assert lines[-1].startswith("bash scripts/setup_tests.sh && ")


def test_setup_script_installs_chromium_when_it_is_missing(tmp_path):
    """With no chromium on the machine the script asks apt for it (here a stand-in apt-get that records
    its arguments), then sets up the IMX500 converter, which is in place."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    for tool in ("apt-get", "sudo"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> {calls}\n')
        (bin_dir / tool).chmod(0o755)
    environment = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CHROMIUM": "no-such-browser"}
    done = subprocess.run(["bash", str(REPO / "scripts" / "setup_tests.sh")], env=environment, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "apt-get install -y -qq chromium" in calls.read_text()
    assert "IMX500 converter already installed" in done.stdout


def test_setup_script_installs_nothing_that_is_there(tmp_path):
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "apt-get $*" >> {calls}\n')
    (bin_dir / "apt-get").chmod(0o755)
    environment = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CHROMIUM": "sh"}  # a command that exists
    done = subprocess.run(["bash", str(REPO / "scripts" / "setup_tests.sh")], env=environment, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not calls.exists()
