"""vsq.cache and vsq.artifacts: hits, a miss for each kind of change, damaged entries rebuilt."""

import json
import os

import pytest

import tiny
from vsq import artifacts
from vsq.cache import Cache, file_digest
from vsq.job import prepare
from vsq.variants import default_recipe


def test_put_then_get(tmp_path):
    cache = Cache(tmp_path)
    assert cache.get("tflite", "k") is None
    with cache.put("tflite", "k") as folder:
        (folder / "model.tflite").write_bytes(b"model")
    entry = cache.get("tflite", "k")
    assert (entry / "model.tflite").read_bytes() == b"model"


def test_failed_build_leaves_no_entry(tmp_path):
    cache = Cache(tmp_path)
    with pytest.raises(RuntimeError):
        with cache.put("tflite", "k") as folder:
            (folder / "model.tflite").write_bytes(b"half")
            raise RuntimeError("converter died")
    assert cache.get("tflite", "k") is None
    assert list((tmp_path / "tflite").iterdir()) == []  # no temporary folder left behind


@pytest.mark.parametrize("damage", ["truncate", "delete-file", "delete-manifest", "garbage-manifest"])
def test_damaged_entry_is_a_miss_and_removed(tmp_path, damage):
    cache = Cache(tmp_path)
    with cache.put("tflite", "k") as folder:
        (folder / "model.tflite").write_bytes(b"0123456789")
    entry = cache.entry("tflite", "k")
    if damage == "truncate":
        (entry / "model.tflite").write_bytes(b"01234")
    elif damage == "delete-file":
        (entry / "model.tflite").unlink()
    elif damage == "delete-manifest":
        (entry / "manifest.json").unlink()
    else:
        (entry / "manifest.json").write_text("{not json")
    assert cache.get("tflite", "k") is None
    assert not entry.exists()


def test_disabled_cache_never_reads_but_stores(tmp_path):
    with Cache(tmp_path).put("tflite", "k") as folder:
        (folder / "a").write_bytes(b"a")
    assert Cache(tmp_path, enabled=False).get("tflite", "k") is None
    assert Cache(tmp_path).get("tflite", "k") is not None


def test_folder_digest_covers_names_and_contents(tmp_path):
    (tmp_path / "saved").mkdir()
    (tmp_path / "saved" / "a").write_bytes(b"1")
    first = file_digest(tmp_path / "saved")
    (tmp_path / "saved" / "a").write_bytes(b"2")
    assert file_digest(tmp_path / "saved") != first


def keys(project, **overrides):
    job = prepare(tiny.write_config(project, **overrides))
    prints = artifacts.Fingerprints.of(job)
    runtime = vars(job.config.tflite_runtime)
    return {
        "float": artifacts.float_tflite_key(prints),
        "quantized": artifacts.recipe_key(job, prints, default_recipe(job.config)),
        "evaluation": artifacts.evaluation_key(job, prints, "model-digest", runtime),
    }


def test_same_inputs_same_keys(project):
    assert keys(project) == keys(project)


def test_thresholds_and_outputs_do_not_matter(project):
    assert keys(project) == keys(project, output_dir="elsewhere", evaluate_result_dir="r2",
                                  thresholds={"max_top1_drop": 3})


CHANGES = {
    # name: (what to change, keys that must change)
    "model file": (lambda p: (p / "model.h5").write_bytes(b"another model"), {"float", "quantized"}),
    "calibration image": (lambda p: (p / "images" / "red" / "red_0.jpg").write_bytes(
        (p / "images" / "red" / "red_1.jpg").read_bytes()), {"quantized"}),
    "evaluation image": (lambda p: (p / "evaluate" / "images" / "red" / "red_0.JPEG").write_bytes(
        (p / "evaluate" / "images" / "red" / "red_1.JPEG").read_bytes()), {"evaluation"}),
    "labels.json": (lambda p: (p / "evaluate" / "labels.json").write_text(
        json.dumps({"blue": 1, "green": 0, "red": 2})), {"evaluation"}),
    "calibration image added": (lambda p: os.link(p / "images" / "red" / "red_0.jpg",
                                                  p / "images" / "red" / "red_99.jpg"), {"quantized"}),
}


@pytest.mark.parametrize("change", CHANGES)
def test_each_input_change_misses(project, change):
    mutate, expected = CHANGES[change]
    before = keys(project)
    mutate(project)
    after = keys(project)
    assert {name for name in before if before[name] != after[name]} == expected


@pytest.mark.parametrize("setting, expected", [
    ({"batch_size": 4}, {"quantized"}),
    ({"iteration_count": 3}, {"quantized"}),
    ({"seed": 1}, {"quantized"}),
    ({"target_platform": "tflite"}, {"quantized"}),
    ({"preprocessing": {"resize": "nearest"}}, {"quantized", "evaluation"}),
    ({"preprocessing": {"normalization": "[-1,1]"}}, {"quantized", "evaluation"}),
    ({"tflite_runtime": {"op_resolver": "builtin_ref"}}, {"evaluation"}),
])
def test_each_setting_change_misses(project, setting, expected):
    before, after = keys(project), keys(project, **setting)
    assert {name for name in before if before[name] != after[name]} == expected


def test_stack_version_change_misses(project, monkeypatch):
    before = keys(project)
    monkeypatch.setattr(artifacts, "stack", lambda: {"tensorflow": "9.9", "model_compression_toolkit": "9.9"})
    after = keys(project)
    assert all(before[name] != after[name] for name in before)
