"""The other runtimes beside TFLite: the variants table, cold and warm runs, and latency per image of every
file on its own runtime, on the same images.

    python benchmarks/other_runtimes.py example /tmp/vsq-rt-example          # examples/runtimes.json
    python benchmarks/other_runtimes.py mobilenet /tmp/vsq-rt-mnv2 [--images 500]

`example` runs examples/runtimes.json (its outputs and cache in the folder); `mobilenet` makes the spec-size
workload of benchmarks/spec_size.py (MobileNetV2 1.0 at 224x224 with random weights, so Top-1 is chance and
the accuracy columns say nothing: the figures are speed and size) and runs it with the same variants.

Each run is `python -m vsq run` in its own process, with an empty cache (cold) and again (warm): wall
seconds. Then, in this process, every file of the table on its own runtime, one single-threaded instance at
batch 1 (as the table's ms/img), on the same `--latency-images` decoded evaluation images: load seconds (the
interpreter, session or compiled model made), the first inference, and the median and mean milliseconds
per image over `--rounds` interleaved passes (interleaved so that a neighbour's load on this shared machine
hits every runtime alike).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
VARIANTS = [{"kind": "tf_full_integer", "io_type": "int8"}, "onnxruntime_float", "onnxruntime_int8",
            "openvino_float", "openvino_int8"]


def configuration(which: str, work: Path, images: int) -> Path:
    """The configuration to run, its outputs in `work`."""
    work.mkdir(parents=True, exist_ok=True)
    if which == "example":
        data = json.loads((REPO / "examples" / "runtimes.json").read_text())
        for key in ("source_keras_model", "dataset_image_dir", "evaluate_image_dir", "evaluate_label_file"):
            data[key] = str((REPO / "examples" / data[key]).resolve())
    else:
        from benchmarks.spec_size import make_workload

        data = json.loads(make_workload(work, images, None).read_text())
        data.update(name="mobilenet-runtimes", variants=VARIANTS)
    data.update(output_dir=str(work / "output"), evaluate_result_dir=str(work / "results"))
    path = work / "runtimes.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def run(config: Path, cache: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vsq", "run", str(config), "--cache-dir", str(cache)],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"vsq run failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def latency(config_path: Path, document: dict, count: int, rounds: int) -> dict:
    from vsq.pipeline.job import prepare
    from vsq.frameworks import for_config

    job = prepare(config_path)
    config = job.config
    images = np.stack([config.preprocessing.normalize(config.preprocessing.decode(path).pixels)
                       for path in job.evaluation_set.paths[:count]])
    framework = for_config(config)
    files = {name: Path(row["file"]) for name, row in document["variants"]["models"].items() if row.get("file")}
    out, predictors = {}, {}
    for name, path in files.items():
        started = time.perf_counter()
        predict = framework.file_predictor(path, config, instances=1)
        loaded = time.perf_counter()
        predict(images[:1])
        out[name] = {"load_s": round(loaded - started, 3), "first_inference_ms": round((time.perf_counter() - loaded)
                                                                                      * 1000, 2), "ms": []}
        predictors[name] = predict
    for _ in range(rounds):
        for name, predict in predictors.items():
            for image in images:
                started = time.perf_counter()
                predict(image[None])
                out[name]["ms"].append((time.perf_counter() - started) * 1000)
    for name, entry in out.items():
        times = entry.pop("ms")
        entry.update(median_ms=round(float(np.median(times)), 3), mean_ms=round(float(np.mean(times)), 3))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", choices=["example", "mobilenet"])
    parser.add_argument("work", type=Path, help="folder for outputs and the cache, outside the repository")
    parser.add_argument("--images", type=int, default=500, help="mobilenet: evaluation JPEGs (default 500)")
    parser.add_argument("--latency-images", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    config = configuration(args.which, args.work, args.images)
    cache = args.work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    results = args.work / "results" / "results.json"
    cold = run(config, cache)
    builds = {name: row.get("build_seconds") for name, row in json.loads(results.read_text())["variants"]["models"].items()}
    warm = run(config, cache)
    document = json.loads(results.read_text())
    print(f"run: cold {cold:.1f} s, warm {warm:.1f} s (python -m vsq run, load average {os.getloadavg()[0]:.1f})")
    rows = document["variants"]["models"]
    times = latency(config, document, args.latency_images, args.rounds)
    print(f"{'model':24} {'device':17} {'size KB':>8} {'Top-1':>6} {'drop':>6} {'table ms':>8} {'load s':>7} "
          f"{'first ms':>8} {'median ms':>9} {'mean ms':>8} build s (cold)")
    for name, row in rows.items():
        if row.get("error"):
            print(f"{name:24} failed: {row['error'][:100]}")
            continue
        entry = times[name]
        print(f"{name:24} {row['device']:17} {row['file_size_bytes'] / 1024:8.1f} {row['top_1_accuracy']:6.3f} "
              f"{row['top_1_drop_points']:+6.2f} {row['latency_ms_per_image']:8.2f} {entry['load_s']:7.3f} "
              f"{entry['first_inference_ms']:8.2f} {entry['median_ms']:9.3f} {entry['mean_ms']:8.3f} "
              f"{builds.get(name) or ''}")
    print("recommended:", document["variants"]["recommended"], "| by device:", document["variants"]["recommended_by_device"])
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
