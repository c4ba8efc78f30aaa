"""Symbolic links planted at every file vsq writes in output_dir and evaluate_result_dir: a run replaces each
link with its own file or folder and never writes through it (vsq.util.atomic), so what the links point at is
unchanged. One cold run (every artifact built: the converter writes straight into output_dir) and one warm run
(every artifact delivered from the cache), each with every section on: variants, IMX500 (a stand-in converter,
granted), the explanation, a baseline accepted into evaluate_result_dir."""

import json
import os
import subprocess
import sys

import pytest

import hostile
import tiny

pytestmark = pytest.mark.slow

OUTPUTS = {"output": ["model.tflite", "model_quantized.tflite", "model_quantized.keras", "model_tf_float16.tflite",
                      "imx500/", "imx500_converter.log"],
           "results": ["results.json", "predictions.csv", "history.jsonl", "xquant/", "baseline.json",
                       "baseline.previous.json", ".baseline.json.lock"]}
BASELINE = {"format": 2, "configurations": {}}


def plant(root, victims, names) -> dict:
    """A link at each output name, to a file or folder of `victims` holding known bytes; victim -> its bytes."""
    kept = {}
    for folder, files in names.items():
        for name in files:
            target = victims / f"{folder}-{name.strip('/').lstrip('.')}"
            if name.endswith("/"):
                target.mkdir(parents=True)
                (target / "keep.txt").write_text("the victim's folder")
                kept[target / "keep.txt"] = (target / "keep.txt").read_bytes()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(BASELINE) if name == "baseline.json" else f"the victim's {name}")
                kept[target] = target.read_bytes()
            hostile.link(root / folder / name.rstrip("/"), target)
    return kept


def run(root, config):
    return subprocess.run([sys.executable, "-m", "vsq", "run", str(config), "--cache-dir", str(root / "cache"),
                           "--baseline", str(root / "results" / "baseline.json"), "--accept-baseline",
                           "--imx500-converter", str(root / "bin" / "imxconv-tf")],
                          capture_output=True, text=True, timeout=900, cwd=root)


def written_names(root) -> dict:
    """folder -> the names vsq wrote there (folders with a trailing /)."""
    return {folder: sorted(path.name + ("/" if path.is_dir() else "") for path in (root / folder).iterdir())
            for folder in OUTPUTS}


def test_no_output_is_written_through_a_planted_link(tmp_path, tiny_model):
    root = tmp_path / "project"
    tiny.write_data(root)
    hostile.fake_converter(root / "bin" / "imxconv-tf", tiny.SIZE)
    config = tiny.write_config(root, source_keras_model=str(tiny_model), variants=["tf_float16"], imx500={},
                               explanation={"when": "always"})
    names = OUTPUTS
    for attempt in ("cold", "warm"):
        kept = plant(root, tmp_path / f"victims-{attempt}", names)
        done = run(root, config)
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr[-3000:]
        assert {path: path.read_bytes() for path in kept} == kept  # no victim written to
        assert all(sorted(os.listdir(path.parent)) == ["keep.txt"] for path in kept if path.name == "keep.txt")
        for folder, files in names.items():
            for name in files:
                written = root / folder / name.rstrip("/")
                assert not written.is_symlink() and written.is_dir() == name.endswith("/"), written
        document = json.loads((root / "results" / "results.json").read_text())
        assert document["cache"]["IMX500 conversion"] == ("built" if attempt == "cold" else "hit")
        assert written_names(root) == {folder: sorted(files) for folder, files in OUTPUTS.items()}  # all of them
        for folder in OUTPUTS:  # the warm run finds a link at each instead
            for path in (root / folder).iterdir():
                os.unlink(path) if not path.is_dir() else __import__("shutil").rmtree(path)
