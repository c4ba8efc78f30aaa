"""A failed check reads as one short sentence with its figures and its configuration's name."""

import ast
import json
import shutil
from pathlib import Path

import pytest

import tiny
from runs import assert_short_messages, junit_failures, run_suites

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def suite_checks() -> set[str]:
    """Every test of suites/ that runs in an ordinary run (benchmarks run on their own): the checks each
    suite names in its checks_as_tests(...) call, as test_<check>."""
    names = set()
    for path in (REPO / "suites").glob("test_*.py"):
        if path.name != "test_benchmarks.py":
            calls = [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)
                     and getattr(node.func, "id", None) == "checks_as_tests"]
            names |= {f"test_{arg.value.partition('[')[0]}" for call in calls for arg in call.args
                      if isinstance(arg, ast.Constant)}
    return names


def pytorch_only_checks() -> set[str]:
    from vsq.frameworks.keras.checks import EXPORT_CHECKS as KERAS
    from vsq.frameworks.pytorch.checks import EXPORT_CHECKS as PYTORCH

    return {f"test_{spec.name}" for spec in PYTORCH} - {f"test_{spec.name}" for spec in KERAS}


def other_task_checks() -> set[str]:
    """test_<check> of the tasks other than classification (deselected for a classifier's configuration)."""
    from vsq.tasks import TASKS

    classification = {f"test_{spec.name}" for spec in TASKS["classification"].checks}
    return {f"test_{spec.name}" for task in TASKS.values() for spec in task.checks} - classification


def checks_no_real_input_fails() -> set[str]:
    """test_<check> for every check item that tests/test_checks_fail_for_real.py's table lists as reachable only
    behind prepare()'s refusal, or by no input at all: what tests/breaking_conftest.py still spoils."""
    from test_checks_fail_for_real import REAL_FAILURES

    return {f"test_{item.partition('[')[0]}" for item, (kind, _) in REAL_FAILURES.items()
            if kind in ("refusal", "unreachable")}


def test_every_check_no_real_input_reaches_fails_with_a_short_message_naming_the_configuration(harness, tiny_model,
                                                                                                shared_cache):
    """The checks a real input fails show their messages in their own tests (the table's); here, the rest."""
    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, name="breakme.json", source_keras_model=str(tiny_model))
    shutil.copy(REPO / "tests" / "breaking_conftest.py", harness.path / "suites" / "conftest.py")

    result = run_suites(harness, config, extra=["--junitxml=junit.xml"], cache=shared_cache)

    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    failures = junit_failures(harness.path / "junit.xml")
    # a Keras classifier
    expected = (checks_no_real_input_fails() & suite_checks()) - pytorch_only_checks() - other_task_checks()
    assert set(failures) == expected, f"did not fail: {expected - set(failures)}; also failed: {set(failures) - expected}"
    assert_short_messages(failures, "breakme")


def test_skipped_unreadable_images_are_accounted_for(harness, tiny_model, shared_cache):
    tiny.write_data(harness.path)
    broken = harness.path / "evaluate" / "images" / "red" / "red_0.JPEG"
    broken.write_bytes(broken.read_bytes()[:200])  # a truncated JPEG
    config = tiny.write_config(harness.path, source_keras_model=str(tiny_model), unreadable_images="skip")

    result = run_suites(harness, config, extra=["-v"], cache=shared_cache)

    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["*test_every_evaluation_image_was_evaluated*PASSED*"])
    images = json.loads((harness.path / "results" / "results.json").read_text())["images"]
    assert (images["found"], images["used"]) == (36, 35)
    assert [entry["file"] for entry in images["skipped"]] == [str(broken)] and images["skipped"][0]["reason"]
