""".github/workflows/vsq.yml runs models and configurations from pull requests: its actions are pinned by
commit, its checkouts keep no token, and no expression is pasted into a script (actionlint, in
tests/test_report_cli.py, checks the rest)."""

import re
from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "vsq.yml"


def steps():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_every_action_is_pinned_by_a_full_commit_sha():
    used = [step["uses"] for step in steps() if "uses" in step]
    assert used and [use for use in used if not re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", use)] == []
    # and each pin says which release it is, for the reader and for update tools
    assert len(re.findall(r"uses: \S+@[0-9a-f]{40}  # v\d+\.\d+\.\d+\n", WORKFLOW.read_text())) == len(used)


def test_checkouts_keep_no_credentials():
    checkouts = [step for step in steps() if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(step.get("with", {}).get("persist-credentials") is False for step in checkouts)


def test_no_expression_is_interpolated_into_a_script():
    scripts = [step["run"] for step in steps() if "run" in step]
    assert scripts and [script for script in scripts if "${{" in script] == []
