""".github/workflows/vsq.yml runs models and configurations from pull requests: its actions are pinned by
commit, its checkouts keep no token, and no expression is pasted into a script (actionlint, in
tests/test_report_cli.py, checks the rest)."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "vsq.yml"


def steps():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_every_action_is_pinned_by_a_full_commit_sha():
    used = [step["uses"] for step in steps() if "uses" in step]
    assert used and [use for use in used if not re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w.-]+)?@[0-9a-f]{40}", use)] == []
    # and each pin says which release it is, for the reader and for update tools
    assert len(re.findall(r"uses: \S+@[0-9a-f]{40}  # v\d+\.\d+\.\d+\n", WORKFLOW.read_text())) == len(used)


def test_checkouts_keep_no_credentials():
    checkouts = [step for step in steps() if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(step.get("with", {}).get("persist-credentials") is False for step in checkouts)


def test_no_expression_is_interpolated_into_a_script():
    scripts = [step["run"] for step in steps() if "run" in step]
    assert scripts and [script for script in scripts if "${{" in script] == []


def workflow_jobs():
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    return (next(job for job in jobs.values() if "matrix" in job.get("strategy", {})),
            next(job for job in jobs.values() if "needs" in job))


def cache_steps(job: dict, kind: str) -> list[dict]:
    """The job's actions/cache/<kind> steps (restore or save)."""
    return [step for step in job["steps"] if step.get("uses", "").startswith(f"actions/cache/{kind}@")]


def test_each_history_is_restored_from_earlier_runs_and_saved_where_vsq_writes_it():
    from vsq.configuration.config import load_config
    from vsq.reporting.history import HISTORY_FILE

    matrix_job, report_job = workflow_jobs()
    for job in (matrix_job, report_job):
        (restore,), (save,) = cache_steps(job, "restore"), cache_steps(job, "save")
        assert save["with"]["path"] == restore["with"]["path"]
        assert save["with"]["key"] == f"${{{{ steps.{restore['id']}.outputs.cache-primary-key }}}}"
        # a new key per run (keys are immutable), found next time by prefix: this branch's, else the default's
        prefix = restore["with"]["key"].split("${{ github.run_id }}")[0]
        assert prefix.endswith("${{ github.ref_name }}-")
        assert restore["with"]["restore-keys"].splitlines() == [
            prefix, prefix.replace("${{ github.ref_name }}", "${{ github.event.repository.default_branch }}")]
        # a failed night is history too; a pull request reads the default branch's and never writes it
        assert save["if"] == "always() && github.event_name != 'pull_request'"
        steps = job["steps"]
        assert steps.index(restore) < next(i for i, step in enumerate(steps) if "vsq" in step.get("run", "")) \
            and steps.index(save) > steps.index(restore)

    restored = cache_steps(matrix_job, "restore")[0]["with"]["path"]
    for entry in matrix_job["strategy"]["matrix"]["include"]:
        config = load_config(REPO / entry["config"])
        written = (config.evaluate_result_dir / HISTORY_FILE).resolve().relative_to(REPO).as_posix()
        assert restored.replace("${{ matrix.results }}", entry["results"]) == written, entry
    bound = next(step for step in matrix_job["steps"] if "vsq history" in step.get("run", ""))
    assert '--keep "$HISTORY_RUNS"' in bound["run"] and bound["env"]["RESULTS"] == "${{ matrix.results }}"

    report = next(step["run"] for step in report_job["steps"] if "vsq report" in step.get("run", ""))
    assert f"--history {cache_steps(report_job, 'restore')[0]['with']['path']} --keep \"$HISTORY_RUNS\"" in report
    assert int(yaml.safe_load(WORKFLOW.read_text())["env"]["HISTORY_RUNS"]) > 1


def test_every_bundled_framework_runs_in_the_matrix_in_its_own_environment():
    from vsq.configuration.config import load_config

    matrix_job, _ = workflow_jobs()
    entries = matrix_job["strategy"]["matrix"]["include"]
    frameworks = {"pytorch" if load_config(REPO / entry["config"]).source_pytorch_model else "keras": entry["venv"]
                  for entry in entries}
    bundled = {path.name for path in (REPO / "vsq" / "frameworks").iterdir() if (path / "__init__.py").exists()}
    assert set(frameworks) == bundled and frameworks == {"keras": ".venv", "pytorch": ".venv-torch"}
    steps = matrix_job["steps"]
    cached = next(step for step in steps if step.get("with", {}).get("path") == ".venv-torch")
    assert cached["if"] == "matrix.venv == '.venv-torch'" and "hashFiles('requirements-pytorch.txt'" in \
        cached["with"]["key"]
    made = next(step for step in steps if step.get("run") == "bash scripts/setup_pytorch.sh")
    assert made["if"] == cached["if"] and steps.index(cached) < steps.index(made)
    run = next(step for step in steps if "suites/" in step.get("run", ""))
    assert run["run"].lstrip().splitlines()[-2].strip().startswith('"$VENV/bin/pytest" suites/') \
        and run["env"]["VENV"] == "${{ matrix.venv }}"


def test_the_baseline_compared_with_is_the_file_the_reports_candidate_becomes():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    matrix_job, report_job = workflow_jobs()
    baseline = workflow["env"]["BASELINE"]
    run = next(step["run"] for step in matrix_job["steps"] if "suites/" in step.get("run", ""))
    assert 'if [ -f "$BASELINE" ]; then compare=(--baseline "$BASELINE"); fi' in run and '"${compare[@]}"' in run
    report = next(step["run"] for step in report_job["steps"] if "vsq report" in step.get("run", ""))
    candidate = re.search(r"--baseline-candidate (\S+)", report).group(1)
    uploaded = next(step for step in report_job["steps"] if step.get("uses", "").startswith("actions/upload-artifact@"))
    assert candidate.startswith(uploaded["with"]["path"])
    readme = (REPO / "README.md").read_text()
    assert f"`{baseline}`" in readme and f"`{candidate.split('/')[-1]}`" in readme  # which file goes where
