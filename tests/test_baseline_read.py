"""A baseline file is untrusted input (vsq.sections.baseline_read): a malformed entry is one line naming the file,
the configuration entry, the key and the fix, never a traceback nor a false drop; accepting again replaces it."""

import json

import pytest

from vsq.errors import VsqError
from vsq.sections import baseline
from vsq.sections.baseline_read import checked

GOOD = {"accepted": "2026-12-06T10:00:00+0000", "top_1": {"keras": 0.7, "tflite": None}}


def _read(tmp_path, entry) -> dict | None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"format": 2, "configurations": {"nightly": entry}}))
    return checked(path, "nightly", baseline.read(path)["configurations"].get("nightly"), "top_1")


def test_a_well_formed_entry_is_read_as_it_is(tmp_path):
    assert _read(tmp_path, GOOD) == GOOD
    assert _read(tmp_path, {"top_1": {"keras": 0, "tflite": 1}}) is not None


@pytest.mark.parametrize("entry, said", [
    (["not", "an", "entry"], "configurations.nightly is a list, not an object"),
    ({"top_1": "0.7"}, "configurations.nightly.top_1 is a string, not an object of figures per model"),
    ({"top_1": {"keras": "0.7"}}, "configurations.nightly.top_1.keras is 0.7, not a number from 0 to 1"),
    ({"top_1": {"keras": True}}, "configurations.nightly.top_1.keras is true, not a number from 0 to 1"),
    ({"top_1": {"keras": 70.5}}, "configurations.nightly.top_1.keras is 70.5, not a number from 0 to 1"),
    ({"top_1": {"keras": -0.1}}, "configurations.nightly.top_1.keras is -0.1, not a number from 0 to 1"),
    ({"top_1": {"keras": [0.7]}}, "configurations.nightly.top_1.keras is [0.7], not a number from 0 to 1"),
    ({"top_1": {"keras": 0.7}, "accepted": "x\n" * 100}, "configurations.nightly.accepted is x\\nx\\n"),
    ({"top_1": {"keras": 0.7}, "per_image": {"id_bytes": 8, "count": 10 ** 12, "ids": "", "correct": {}}},
     "configurations.nightly.per_image is not a per-image record vsq wrote"),
    ({"top_1": {"keras": 0.7}, "per_image": {"id_bytes": 8, "count": 1, "ids": "!!!!!!!!!!!!", "correct": {}}},
     "configurations.nightly.per_image is not a per-image record vsq wrote"),
])
def test_a_malformed_entry_is_one_line_naming_file_entry_key_and_fix(tmp_path, entry, said):
    with pytest.raises(VsqError) as raised:
        _read(tmp_path, entry)
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'baseline.json'}: {said}"), message
    assert message.endswith("accept again with --accept-baseline (or restore the file's .previous copy)")
    assert "\n" not in message and len(message) < 400


def test_a_hostile_name_or_value_stays_one_bounded_line(tmp_path):
    path = tmp_path / "baseline.json"
    name = "n\u2028" * 500
    path.write_text(json.dumps({"configurations": {name: {"top_1": {"m\n" * 500: "v\n" * 10_000}}}}))
    with pytest.raises(VsqError) as raised:
        checked(path, name, baseline.read(path)["configurations"][name], "top_1")
    assert "\n" not in str(raised.value) and "\u2028" not in str(raised.value) and len(str(raised.value)) < 400


def test_accepting_over_a_malformed_entry_replaces_it_and_shows_no_figures_of_it(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"configurations": {"failing": ["hostile"]}}))
    from vsq.pipeline import results
    from pathlib import Path

    document = results.read(Path(__file__).parent / "data" / "results-failing.json")
    assert baseline.accept(path, "failing", document) is None
    written = baseline.read(path)["configurations"]["failing"]
    assert checked(path, "failing", written, "top_1") == written


@pytest.mark.slow
def test_a_run_against_a_malformed_baseline_fails_its_checks_in_one_line_not_a_traceback(tmp_path, tiny_model,
                                                                                          shared_cache):
    import subprocess
    import sys

    import tiny

    tiny.write_data(tmp_path)
    config = tiny.write_config(tmp_path, source_keras_model=str(tiny_model))
    from vsq.configuration.config import load_config

    name = load_config(config).name
    (tmp_path / "baseline.json").write_text(json.dumps({"configurations": {name: {"top_1": {"keras": "0.7"}}}}))
    done = subprocess.run([sys.executable, "-m", "vsq", "run", config, "--baseline", "baseline.json",
                           f"--cache-dir={shared_cache}"], cwd=tmp_path, capture_output=True, text=True)
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "Traceback" not in output, output[-3000:]
    assert f"configurations.{name}.top_1.keras is 0.7, not a number from 0 to 1" in output, output[-3000:]
