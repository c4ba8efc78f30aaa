"""A failed check reads as one short sentence with its figures and its configuration's name."""

import ast
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import tiny
from runs import run_suites

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
OBJECT_DUMPS = ("PosixPath(", "Job(", "EvaluationSet(", "Config(", "Variant(", "ModelInfo(", "Calibration(")


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


def given_file_checks() -> set[str]:
    """The checks of given files (quantized_model, models): a configuration with imx500 cannot give a quantized
    file, and this one gives none; tests/test_given.py shows them failing with their messages."""
    from vsq.sections.given import GIVEN

    return {f"test_{spec.name}" for spec in GIVEN.checks}


def test_every_check_fails_with_a_short_message_naming_the_configuration(harness, tiny_model):
    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, name="breakme.json", source_keras_model=str(tiny_model),
                               variants=["tf_dynamic_range", {"kind": "tf_full_integer", "io_type": "uint8"}],
                               imx500={}, explanation={"when": "always"})  # the worst layers in the messages
    baseline = harness.path / "baseline.json"
    baseline.write_text(json.dumps({"format": 1, "configurations": {"breakme": {
        "accepted": "2026-01-01", "top_1": {"keras": 1.5, "tflite": 1.5, "tflite_quantized": 1.5, "keras_quantized": 1.5}}}}))
    shutil.copy(REPO / "tests" / "breaking_conftest.py", harness.path / "suites" / "conftest.py")

    result = run_suites(harness, config, extra=[f"--baseline={baseline}", "--junitxml=junit.xml"])

    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    failures = {}
    for case in ET.parse(harness.path / "junit.xml").iter("testcase"):
        failure = case.find("failure")
        if failure is not None:
            failures.setdefault(case.get("name").split("[")[0], []).append(failure.get("message"))
    expected = suite_checks() - pytorch_only_checks() - given_file_checks()  # the Keras framework's, no given file
    assert set(failures) == expected, "checks that did not fail: " + str(expected - set(failures))
    for name, messages in failures.items():
        for message in messages:
            assert "breakme" in message, f"{name}: {message}"
            assert len(message) < 400, f"{name}: {len(message)} characters: {message}"
            assert not any(dump in message for dump in OBJECT_DUMPS), f"{name}: {message}"
    for name in ("test_quantized_top1_drop_within_threshold", "test_quantized_keras_top1_drop_within_threshold",
                 "test_quantized_top1_above_minimum"):
        assert "; lowest SQNR: " in failures[name][0], f"{name}: no per-layer explanation: {failures[name][0]}"


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
