"""Running the harness's suites in a fresh pytest process (pytester), as a user would; a bundled example's
configuration moved to a test's folder."""

import json
import time
from pathlib import Path

DATA_KEYS = ("source_keras_model", "dataset_image_dir", "evaluate_image_dir", "evaluate_label_file")


def relocated(example: Path, folder: Path, file: str | None = None, **changes) -> Path:
    """The example configuration with its data where it is and its outputs in `folder` (output/, results/),
    `changes` set over its keys, written to folder/`file` (default: the example's name)."""
    data = json.loads(example.read_text())
    for key in DATA_KEYS:
        data[key] = str((example.parent / data[key]).resolve())
    data.update({"output_dir": "output", "evaluate_result_dir": "results", **changes})
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / (file or example.name)
    config.write_text(json.dumps(data))
    return config


def run_suites(harness, *configs, extra=(), cache=None):
    """`pytest suites/ --config ...` in the harness copy, with an artifact cache of the test's own (or `cache`:
    the session's shared_cache, for a test that neither counts builds nor touches the cache's files).

    The result gets `elapsed`: the whole process's wall time in seconds.
    """
    args = ["suites/", f"--vsq-cache-dir={cache or harness.path / 'cache'}"]
    for config in configs:
        args += ["--config", str(config)]
    started = time.perf_counter()
    result = harness.runpytest_subprocess(*args, *extra)
    result.elapsed = time.perf_counter() - started
    return result


OBJECT_DUMPS = ("PosixPath(", "Job(", "EvaluationSet(", "Config(", "Variant(", "ModelInfo(", "Calibration(")


def junit_failures(junit) -> dict[str, list[str]]:
    """test name (without its [parameters]) -> the messages of its failed items, from a JUnit XML file."""
    import xml.etree.ElementTree as ET

    failures = {}
    for case in ET.parse(junit).iter("testcase"):
        failure = case.find("failure")
        if failure is not None:
            failures.setdefault(case.get("name").split("[")[0], []).append(failure.get("message"))
    return failures


def assert_short_messages(failures: dict, configuration: str) -> None:
    """Every failed check's message (a str, or a list of them per check) names the configuration, is one short
    sentence, and shows no Python object's repr."""
    for name, messages in failures.items():
        for message in [messages] if isinstance(messages, str) else messages:
            assert configuration in message, f"{name}: {message}"
            assert len(message) < 400, f"{name}: {len(message)} characters: {message}"
            assert not any(dump in message for dump in OBJECT_DUMPS), f"{name}: {message}"
