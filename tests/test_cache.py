"""vsq.cache.store and vsq.pipeline.artifacts: hits, a miss for each kind of change, damaged entries rebuilt."""

import json
import os
from pathlib import Path

import pytest

import hostile
import tiny
from vsq.pipeline import artifacts
from vsq.cache.store import Cache, file_digest
from vsq.pipeline.job import prepare
from vsq.frameworks import for_config
from vsq.frameworks.keras.recipes import default_recipe

REPO = Path(__file__).resolve().parents[1]


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


def test_no_cache_builds_again_without_pulling_an_entry_from_under_its_readers(tmp_path):
    """A reader that found an entry keeps reading it while a --no-cache run builds the same key; that run
    uses its own build, and nothing of it is left in the cache once its process has ended."""
    import subprocess
    import sys

    with Cache(tmp_path).put("tflite", "k") as folder:
        (folder / "model.tflite").write_bytes(b"first build")
    reading = Cache(tmp_path).get("tflite", "k")
    refresh = ("import sys; from pathlib import Path; from vsq.cache.store import Cache, Cached\n"
               "cached = Cached(Cache(Path(sys.argv[1]), enabled=False), {})\n"
               "entry = cached.get_or_build('tflite', 'k', 'model', "
               "lambda folder: (folder / 'model.tflite').write_bytes(b'second build'))\n"
               "print((entry / 'model.tflite').read_text())")
    done = subprocess.run([sys.executable, "-c", refresh, str(tmp_path)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "second build"  # the --no-cache run used what it built
    assert (reading / "model.tflite").read_bytes() == b"first build"  # the reader's entry is untouched
    assert [p.name for p in (tmp_path / "tflite").iterdir()] == ["k"]  # its own build went with its process


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
        "model_info": artifacts.model_info_key(prints, for_config(job.config).describe_settings(job.config)),
        "float": artifacts.float_tflite_key(prints),
        "quantized": artifacts.recipe_key(job, prints, default_recipe(job.config)),
        "evaluation": artifacts.evaluation_key(job, prints, "model-digest", runtime),
        "screen": artifacts.screen_key(job, prints),
    }


def test_same_inputs_same_keys_in_other_processes(project):
    """The keys of one project computed here and in two processes with other hash seeds (a key that rests on
    set or dict order, id() or hash() of a str differs between them)."""
    import subprocess
    import sys
    from pathlib import Path

    here = keys(project)
    script = ("import json, sys; sys.path.insert(0, sys.argv[2]); from pathlib import Path; "
              "from test_cache import keys; print(json.dumps(keys(Path(sys.argv[1]))))")
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", script, str(project), str(Path(__file__).parent)],
                              capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed})
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(done.stdout.splitlines()[-1]) == here, seed


def test_thresholds_and_outputs_do_not_matter(project):
    assert keys(project) == keys(project, output_dir="elsewhere", evaluate_result_dir="r2",
                                  thresholds={"max_top1_drop": 3})


CHANGES = {
    # name: (what to change, keys that must change)
    "model file": (lambda p: hostile.write_h5(p / "model.h5", hostile.model_config()),
                   {"model_info", "float", "quantized", "screen"}),
    "calibration image": (lambda p: (p / "images" / "red" / "red_0.jpg").write_bytes(
        (p / "images" / "red" / "red_1.jpg").read_bytes()), {"quantized"}),
    "evaluation image": (lambda p: (p / "evaluate" / "images" / "red" / "red_0.JPEG").write_bytes(
        (p / "evaluate" / "images" / "red" / "red_1.JPEG").read_bytes()), {"evaluation", "screen"}),
    "labels.json": (lambda p: (p / "evaluate" / "labels.json").write_text(
        json.dumps({"blue": 1, "green": 0, "red": 2})), {"evaluation", "screen"}),
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
    ({"input_tensor_size": 17}, {"quantized", "evaluation", "screen"}),  # a Keras model declares its own shape
    ({"iteration_count": 3}, {"quantized"}),
    ({"seed": 1}, {"quantized"}),
    ({"target_platform": "tflite"}, {"quantized"}),
    ({"preprocessing": {"resize": "nearest"}}, {"quantized", "evaluation", "screen"}),
    ({"preprocessing": {"normalization": "[-1,1]"}}, {"quantized", "evaluation", "screen"}),
    ({"preprocessing": {"channel_order": "BGR"}}, {"quantized", "evaluation", "screen"}),
    ({"tflite_runtime": {"op_resolver": "builtin_ref"}}, {"evaluation"}),
    ({"screen": {"max_images": 20}}, {"screen"}),
    ({"screen": {"min_gain_points": 5}}, {"screen"}),
    ({"thresholds": {"min_float_top1": 0.0}, "expected_top1": {"top1": 0.9}}, set()),
])
def test_each_setting_change_misses(project, setting, expected):
    before, after = keys(project), keys(project, **setting)
    assert {name for name in before if before[name] != after[name]} == expected


def test_stack_version_change_misses(project, monkeypatch):
    before = keys(project)
    monkeypatch.setattr(artifacts, "stack", lambda: {"tensorflow": "9.9", "model_compression_toolkit": "9.9"})
    after = keys(project)
    assert all(before[name] != after[name] for name in before)


def test_a_detection_package_moves_a_detector_s_keys_and_no_classifier_s(project, tmp_path, monkeypatch):
    """edge-mdt-cl's post-processing makes every detection and pycocotools every mAP: their versions are in a
    detector's keys and stack (the detection task's packages), and in no classifier's, whose keys and accepted
    baselines must not move when a detector's package is upgraded."""
    from runs import relocated
    from vsq.util import versions

    detection = relocated(REPO / "examples" / "detection.json", tmp_path / "detection")

    def detector_keys():
        prints = artifacts.Fingerprints.of(prepare(detection))
        return prints, artifacts.model_info_key(prints, {}), artifacts.float_tflite_key(prints)

    classifier, (_, *detector), found = keys(project), detector_keys(), versions.version_of
    for name in ("edge_mdt_cl", "pycocotools"):
        monkeypatch.setattr(versions, "version_of", lambda component: "9.9" if component == name else found(component))
        prints, *after = detector_keys()
        assert prints.stack[name] == "9.9" and all(a != b for a, b in zip(detector, after)), name
        assert keys(project) == classifier, name
        assert name not in artifacts.Fingerprints.of(prepare(tiny.write_config(project))).stack


def test_image_library_change_misses_everything_decoded(project, monkeypatch):
    """Another Pillow or JPEG decoder gives other pixels: every artifact made from decoded images is made again."""
    before = keys(project)
    monkeypatch.setattr(artifacts, "image_library", lambda: {"pillow": "99.0", "jpeg": "libjpeg-turbo 9.9"})
    after = keys(project)
    assert {name for name in before if before[name] != after[name]} == {"quantized", "evaluation", "screen"}


FILLER = """
import sys, time
from pathlib import Path
from vsq.cache.store import Cache

root, me, start, rounds = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
PARTS = 8
cache = Cache(root)
while time.time() < start:
    time.sleep(0.001)
for i in range(rounds):
    for key in (f"shared-{i}", f"{me}-{i}"):  # the same entries as the other process, and its own
        with cache.put("model", key) as folder:
            for part in range(PARTS):
                (folder / f"part{part}.bin").write_bytes(key.encode() * 20_000)
        entry = cache.get("model", key)
        assert entry is not None, f"{key}: missing right after it was put"
        for part in range(PARTS):
            assert (entry / f"part{part}.bin").read_bytes() == key.encode() * 20_000, key
print("filled")
"""

WATCHER = """
import json, sys
from pathlib import Path

root, stop = Path(sys.argv[1]) / "model", Path(sys.argv[2])
seen, partial = set(), []
while not stop.exists():
    for entry in (root.iterdir() if root.is_dir() else ()):
        if entry.name.startswith("."):  # being built or being removed: not an entry
            continue
        seen.add(entry.name)
        try:
            files = json.loads((entry / "manifest.json").read_text())["files"]
            if len(files) != 8:
                partial.append(f"{entry.name}: lists {sorted(files)}")
            for name in files:  # sizes only, so that a scan is quick and sees every moment
                if (entry / name).stat().st_size != len(entry.name) * 20_000:
                    partial.append(f"{entry.name}: {name} is incomplete")
        except (OSError, ValueError, KeyError) as error:
            partial.append(f"{entry.name}: {error}")
print(json.dumps({"seen": len(seen), "partial": partial[:5]}))
"""


def test_two_processes_fill_one_cache_at_once(tmp_path):
    """Two real processes put the same and different entries into one cache concurrently, while a third
    reads every entry it can see: both succeed, every entry is complete, none is ever seen partial."""
    import subprocess
    import sys
    import time

    root, stop, rounds = tmp_path / "cache", tmp_path / "stop", 25
    watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(root), str(stop)], stdout=subprocess.PIPE, text=True,
                               cwd=tmp_path)
    start = time.time() + 1.5  # both fillers have started and imported vsq by then
    fillers = [subprocess.Popen([sys.executable, "-c", FILLER, str(root), me, str(start), str(rounds)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
               for me in ("a", "b")]
    outputs = [filler.communicate(timeout=120) for filler in fillers]
    stop.touch()
    seen = json.loads(watcher.communicate(timeout=60)[0])

    assert [filler.returncode for filler in fillers] == [0, 0], [err[-1000:] for _, err in outputs]
    assert seen["partial"] == [] and seen["seen"] > 0, seen
    expected = {f"{who}-{i}" for who in ("shared", "a", "b") for i in range(rounds)}
    assert {entry.name for entry in (root / "model").iterdir()} == expected  # no temporary folder left over
    cache = Cache(root)
    for key in expected:
        assert (cache.get("model", key) / "part7.bin").read_bytes() == key.encode() * 20_000


def test_cache_dir_option_and_environment(tmp_path, monkeypatch):
    """--vsq-cache-dir wins (conftest), else $VSQ_CACHE_DIR, else $XDG_CACHE_HOME/vsq, else ~/.cache/vsq."""
    from vsq.cache.store import default_root

    monkeypatch.setenv("VSQ_CACHE_DIR", str(tmp_path / "shared"))
    assert default_root() == tmp_path / "shared"
    monkeypatch.delenv("VSQ_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_root() == tmp_path / "xdg" / "vsq"
