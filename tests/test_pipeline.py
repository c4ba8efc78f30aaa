"""One pipeline, three faces: pytest's suites, `python -m vsq run` and vsq.run() give the same figures and
verdicts; a variant's failure stays its own; results.json of an older vsq is still read."""

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import tiny
from runs import relocated, run_suites
from vsq.pipeline import results

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def essentials(document: dict) -> dict:
    """What must be identical between the faces: every figure a verdict rests on, and every verdict."""
    variants = document.get("variants", {}).get("models", {})
    return {"top_1": {key: model["top_1_accuracy"] for key, model in document["models"].items()},
            "paired": {key: model.get("paired") for key, model in document["models"].items()},
            "variants": {name: (row.get("top_1_accuracy"), row.get("within_threshold")) for name, row in variants.items()},
            "recommended": document.get("variants", {}).get("recommended"),
            "checks": {name: check["verdict"] for name, check in document["checks"].items()},
            "gate": document["gate"]}


def pytest_run(folder: Path, *args) -> subprocess.CompletedProcess:
    """`pytest suites/ ...` in a copy of the harness (in a process of its own: vsq.run below imports the
    stack into this one, which pytester's module snapshots would unload and reload)."""
    for name in ("pytest.ini",):
        shutil.copy(REPO / name, folder / name)
    for name in ("suites",):
        shutil.copytree(REPO / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    return subprocess.run([sys.executable, "-m", "pytest", "suites/", "-p", "no:cacheprovider", *map(str, args)],
                          cwd=folder, capture_output=True, text=True, timeout=900)


EXAMPLES = ("configuration.json", "examples/variants.json")  # same model and images: one build serves both


def test_pytest_the_command_and_the_library_give_the_same_figures_and_verdicts(tmp_path):
    """Both examples in each face, one cache: the reference models are built once for the two configurations."""
    cache = tmp_path / "cache"

    def face(name):
        return [relocated(REPO / example, tmp_path / name / Path(example).stem) for example in EXAMPLES]

    by_pytest = face("pytest")
    suites = pytest_run(tmp_path, *[arg for config in by_pytest for arg in ("--config", config)],
                        f"--vsq-cache-dir={cache}")
    assert suites.returncode == 0, suites.stdout[-3000:]
    by_command = face("command")
    done = subprocess.run([sys.executable, "-m", "vsq", "run", *map(str, by_command), "--cache-dir", str(cache),
                           "--junit", str(tmp_path / "junit.xml")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    import vsq

    by_library = [vsq.run(config, cache_dir=cache, progress=False) for config in face("library")]

    documents = {face: [results.read(config.parent / "results" / "results.json") for config in configs]
                 for face, configs in (("pytest", by_pytest), ("command", by_command))}
    for index, library in enumerate(by_library):
        pytest_document, command_document = documents["pytest"][index], documents["command"][index]
        assert essentials(pytest_document) == essentials(command_document) == essentials(library.document)
        assert library.verdict == "PASS" and library.failures() == {}
        assert library.top1["keras"] == pytest_document["top_1_accuracy_keras"]
        assert "<table" in library._repr_html_() and "vsq-chart" in library._repr_html_()
        assert set(library.document["cache"].values()) == {"hit"}  # the third face built nothing
    # The two examples share their reference models: the second configuration of a face built none of them again.
    first, second = (document["cache"] for document in documents["pytest"])
    assert first.get("model_quantized.tflite") and \
        not any(first[what] == second[what] == "built" for what in first.keys() & second.keys()), (first, second)
    lines = done.stdout.splitlines()
    assert lines[0] == "== vsq: Top-1 accuracy ==" and [line.split()[-1] for line in lines[3:5]] == ["PASS", "PASS"]
    cases = list(ET.parse(tmp_path / "junit.xml").iter("testcase"))
    assert len(cases) == sum(len(document["checks"]) for document in documents["command"])
    assert not any(case.find("failure") is not None for case in cases)


def test_a_variant_that_builds_but_cannot_be_loaded_fails_only_its_own_checks(harness, tiny_model):
    """A variant's .tflite that no interpreter loads (here: the cached file replaced by garbage, with its
    manifest made to match) fails that variant's checks; every other check of the configuration passes."""
    from vsq.cache.store import MANIFEST, file_digest

    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model=str(tiny_model),
                               variants=["tf_float16", "tf_dynamic_range"])
    assert run_suites(harness, config).ret == pytest.ExitCode.OK
    [entry] = [path.parent for path in (harness.path / "cache" / "tflite").glob("*/model_tf_float16.tflite")]
    (entry / "model_tf_float16.tflite").write_bytes(b"not a flatbuffer" * 64)
    manifest = json.loads((entry / MANIFEST).read_text())
    # A manifest that vouches for the broken file, as a cache shared by trusted jobs would hold it.
    manifest["files"]["model_tf_float16.tflite"] = {"bytes": (entry / "model_tf_float16.tflite").stat().st_size,
                                                    "sha256": file_digest(entry / "model_tf_float16.tflite")}
    (entry / MANIFEST).write_text(json.dumps(manifest))
    for stale in (harness.path / "cache" / "evaluation").iterdir():  # its evaluation would hide the broken file
        shutil.rmtree(stale)

    result = run_suites(harness, config, extra=["--junitxml=junit.xml"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    failed = {case.get("name"): case.find("failure").get("message") for case in ET.parse(harness.path / "junit.xml")
              .iter("testcase") if case.find("failure") is not None}
    assert set(failed) == {"test_variant_weights_stored_as_its_kind[configuration-tf_float16]",
                           "test_variant_top1_drop_within_threshold[configuration-tf_float16]",
                           "test_variant_top1_above_minimum[configuration-tf_float16]"}, failed
    assert "model_tf_float16.tflite could not be evaluated: TFLite interpreter failed while loading" in \
        failed["test_variant_top1_drop_within_threshold[configuration-tf_float16]"]
    document = json.loads((harness.path / "results" / "results.json").read_text())
    assert document["variants"]["models"]["tf_dynamic_range"]["top_1_accuracy"] == 1.0
    assert document["gate"]["verdict"] == "FAIL" and document["gate"]["tests"]["failed"] == 3


def test_results_json_of_the_previous_format_is_read_and_reported():
    """tests/data/results-format1.json was written by vsq before the verdicts map (a real run: a tiny
    model below its min_top1, with a tf_float16 variant)."""
    old = results.read(REPO / "tests" / "data" / "results-format1.json")
    assert old["format"] == results.FORMAT
    assert old["checks"]["quantized_top1_above_minimum"]["verdict"] == "FAIL"
    assert old["checks"]["variant_top1_above_minimum[tf_float16]"]["verdict"] == "FAIL"
    assert old["models"]["tflite_quantized"]["decision"]["undecided"] is True
    done = subprocess.run([sys.executable, "-m", "vsq", "report", str(REPO / "tests" / "data" / "results-format1.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stderr == ""
    assert "vsq report: 1 configuration(s), 1 failed" in done.stdout
    assert "Top-1 0.9167 is below thresholds.min_top1 0.9500" in done.stdout
