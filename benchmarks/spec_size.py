"""The spec-size workload, run cold and warm, with seconds and peak RSS per phase.

    python benchmarks/spec_size.py /tmp/vsq-spec [--images 2000] [--instances N] [--runs cold warm]

Makes, once, in the folder (outside the repository): MobileNetV2 alpha 1.0 at 224x224 with random
weights (weights=None: nothing is downloaded) and 10 classes, 500 calibration JPEGs and N evaluation
JPEGs of 500x375 (ImageNet's most common size; smooth random scenes, ~58 KB), labels.json and a configuration.json
with the spec's defaults (batch 50 x 10 iterations). Then runs `pytest suites/ --config ...` with an
empty cache (cold) and again (warm), each in its own process, with the phase plugin
(benchmarks/phases.py), and prints per phase seconds and peak RSS, and the whole run (wall time,
peak RSS). The gate's thresholds are opened: random weights give chance Top-1.

Then, in this process, a side-by-side throughput measurement on the same decoded evaluation images:
one interpreter instance against the pool (same file, runtime and op resolver), bare predict()
and through vsq.pipeline.evaluate.evaluate_models (decoding included); best of 3 each, predictions compared.
`--instances` writes tflite_runtime.instances into the configuration and `--chunk-images 128`
sets the evaluation's chunk (both: vsq before the pool); `--runs warm` alone keeps the cache (with
another --images, only the evaluations miss); `--runs eval` drops the cached evaluations and runs
with the models cached; `--throughput-images 0` skips the throughput part.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CLASSES = 10
CALIBRATION_IMAGES = 500
JPEG_SIZE = (500, 375)  # ImageNet's most common size


def write_jpeg(job: tuple[Path, int]) -> None:
    """A smooth random scene with some texture, as a JPEG of JPEG_SIZE (quality 90)."""
    from PIL import Image

    path, seed = job
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).resize(JPEG_SIZE, Image.BICUBIC)
    pixels = np.asarray(coarse, dtype=np.int16) + rng.integers(-12, 13, (JPEG_SIZE[1], JPEG_SIZE[0], 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(path, quality=90)


def make_workload(work: Path, images: int, instances: int | None) -> Path:
    """Model, images, labels.json and configuration.json in `work` (model and images made once)."""
    work.mkdir(parents=True, exist_ok=True)
    model = work / "mobilenet_v2_224.h5"
    if not model.exists():
        code = ("import tensorflow as tf, sys; tf.keras.utils.set_random_seed(0); "
                "tf.keras.applications.MobileNetV2(input_shape=(224, 224, 3), alpha=1.0, weights=None, "
                "classes=10).save(sys.argv[1])")
        subprocess.run([sys.executable, "-c", code, str(model)], check=True)  # TensorFlow's memory stays there
    jobs = [(work / "images" / f"c{i % CLASSES}" / f"cal_{i:05d}.jpg", i) for i in range(CALIBRATION_IMAGES)]
    evaluation = work / f"evaluate_{images}"
    jobs += [(evaluation / "images" / f"class_{i % CLASSES}" / f"val_{i:06d}.JPEG", 10**6 + i) for i in range(images)]
    todo = [job for job in jobs if not job[0].exists()]
    with ProcessPoolExecutor() as pool:
        list(pool.map(write_jpeg, todo, chunksize=64))
    (evaluation / "labels.json").write_text(json.dumps({f"class_{i}": i for i in range(CLASSES)}))
    config = {
        "source_keras_model": f"./{model.name}", "dataset_image_dir": "./images", "batch_size": 50,
        "input_tensor_size": 224, "iteration_count": 10, "output_dir": "./output",
        "evaluate_image_dir": f"./{evaluation.name}/images", "evaluate_image_extension": "JPEG",
        "evaluate_label_file": f"./{evaluation.name}/labels.json", "evaluate_result_dir": "./evaluate/results",
        "name": "spec-size",
        # Random weights give chance Top-1: open the gate (and the float model's near-chance rule), which is not
        # what is measured here.
        "thresholds": {"min_top1": 0.0, "max_top1_drop": 100.0, "max_float_top1_drop": 100.0, "min_float_top1": 0.0},
    }
    if instances is not None:
        config["tflite_runtime"] = {"instances": instances}
    path = work / "configuration.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def run_pytest(config: Path, cache: Path, phases: Path, chunk_images: int | None = None) -> dict:
    """One `pytest suites/ --config` process: wall seconds, peak RSS (MB), exit code, phases.

    The peak is the largest phase peak: the plugin resets the kernel's high-water mark, which makes
    wait4's ru_maxrss the peak since the last reset only.
    """
    env = dict(os.environ, VSQ_CACHE_DIR=str(cache), VSQ_PHASES=str(phases), TQDM_DISABLE="1",
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if chunk_images:
        env["VSQ_CHUNK_IMAGES"] = str(chunk_images)
    command = [sys.executable, "-m", "pytest", "-p", "benchmarks.phases", "suites/", "--config", str(config), "-q",
               "-p", "no:cacheprovider"]
    phases.unlink(missing_ok=True)
    with phases.with_suffix(".log").open("w") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    rows = json.loads(phases.read_text()) if phases.exists() else []
    peak = max([row["peak_rss_mb"] for row in rows] + [usage.ru_maxrss / 1024])
    return {"seconds": seconds, "peak_rss_mb": peak, "exit_code": os.waitstatus_to_exitcode(status), "phases": rows}


def print_runs(runs: dict[str, dict], results: dict) -> None:
    names = list(dict.fromkeys(row["phase"] for run in runs.values() for row in run["phases"]))
    header = "".join(f"  {label + ' s':>9s}  {label + ' MB':>9s}" for label in runs)  # MB: the phase's peak RSS
    print(f"{'phase':45s}{header}")
    for name in names:
        cells = ""
        for run in runs.values():
            row = next((r for r in run["phases"] if r["phase"] == name), None)
            cells += f"  {row['seconds']:9.1f}  {row['peak_rss_mb']:9.0f}" if row else f"  {'-':>9s}  {'-':>9s}"
        print(f"{name:45s}{cells}")
    print(f"{'whole run (wall, peak RSS)':45s}" + "".join(
        f"  {run['seconds']:9.1f}  {run['peak_rss_mb']:9.0f}" for run in runs.values()))
    print("exit codes: " + ", ".join(f"{label} {run['exit_code']}" for label, run in runs.items()))
    if results:
        print("results.json evaluation_seconds: " + ", ".join(
            f"{name} {model['evaluation_seconds']:.1f}" for name, model in results["models"].items()) +
            f"; tflite_runtime {results['environment']['tflite_runtime']}")


def machine_busy() -> float:
    """CPU seconds all processes of the machine have used since boot (/proc/stat, not idle nor iowait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def best_of(fn, repeat: int = 3) -> tuple[float, float, object, float]:
    """Best wall time of `repeat` calls, the process CPU time of that call and the CPU other processes
    used meanwhile (seconds; the pool cannot use a core they hold), the last result."""
    best, cpu, others, out = float("inf"), 0.0, 0.0, None
    for _ in range(repeat):
        start, start_cpu, start_busy = time.perf_counter(), time.process_time(), machine_busy()
        out = fn()
        if time.perf_counter() - start < best:
            best, cpu = time.perf_counter() - start, time.process_time() - start_cpu
            others = machine_busy() - start_busy - cpu
    return best, cpu, out, others


def throughput(config_path: Path, count: int) -> None:
    """One interpreter instance vs the pool on the same files and images, side by side."""
    from vsq.configuration.config import load_config
    from vsq.configuration.datasets import EvaluationSet, scan_evaluation
    from vsq.pipeline.evaluate import decoded_chunks, evaluate_models
    from vsq.runtimes.tflite import TFLiteClassifier

    config = load_config(config_path)
    runtime, cores = config.tflite_runtime, os.cpu_count()
    full = scan_evaluation(config)
    evaluation = EvaluationSet(class_names=full.class_names, paths=full.paths[:count], labels=full.labels[:count])
    images = np.concatenate([chunk.images for chunk in decoded_chunks(config, evaluation)])
    files = {name: config.output_dir / file for name, file in
             (("tflite", "model.tflite"), ("tflite_quantized", "model_quantized.tflite"))}
    print(f"\nthroughput, {len(images)} images, {cores} cores, load average {os.getloadavg()[0]:.1f} before; "
          f"runtime {vars(runtime)}; pool = {cores} instances; ms per image (wall, and CPU of all threads)")
    print(f"{'model':16s} {'way':9s} {'1 inst wall':>11s} {'CPU':>6s} {'pool wall':>9s} {'CPU':>6s} "
          f"{'pool/(cores x 1)':>16s} identical  other processes' cores (1 inst, pool)")

    def row(name, way, one, pool, same):
        ms = [value / len(images) * 1000 for value in (*one[:2], *pool[:2])]
        print(f"{name:16s} {way:9s} {ms[0]:11.1f} {ms[1]:6.1f} {ms[2]:9.1f} {ms[3]:6.1f} "
              f"{one[0] / pool[0] / cores:16.2f} {str(same):9s}  {one[3] / one[0]:.2f}, {pool[3] / pool[0]:.2f}")

    ways = {"one": {}, "pool": {}}
    for name, path in files.items():
        ways["one"][name] = TFLiteClassifier(path, runtime, runtime.batch_size, instances=1).predict
        ways["pool"][name] = TFLiteClassifier(path, runtime, runtime.batch_size, instances=cores).predict
        ways["pool"][name](images[:2 * cores])  # warm-up
        one, pool = (best_of(lambda: ways[way][name](images)) for way in ("one", "pool"))
        row(name, "bare", one, pool, np.array_equal(one[2], pool[2]))
    one, pool = (best_of(lambda: evaluate_models(ways[way], config, evaluation)) for way in ("one", "pool"))
    row("both + decoding", "pipeline", one, pool,
        all(np.array_equal(one[2][name].predictions, pool[2][name].predictions) for name in files))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("work", type=Path, help="folder for the workload, outside the repository")
    parser.add_argument("--images", type=int, default=2000, help="evaluation JPEGs (default 2000)")
    parser.add_argument("--instances", type=int, default=None, help="tflite_runtime.instances (default: unset)")
    parser.add_argument("--chunk-images", type=int, default=None, help="vsq.pipeline.evaluate.CHUNK_IMAGES (128 before)")
    parser.add_argument("--runs", nargs="*", default=["cold", "warm"], choices=["cold", "warm", "eval"])
    parser.add_argument("--throughput-images", type=int, default=256, help="0 skips the side-by-side measurement")
    args = parser.parse_args()
    work = args.work.resolve()
    if work == REPO or REPO in work.parents:
        parser.error(f"{work} is inside the repository; give a folder outside it, e.g. /tmp/vsq-spec")

    config = make_workload(work, args.images, args.instances)
    cache = work / "cache"
    runs = {}
    for label in args.runs:
        if label in ("cold", "eval"):  # eval: the models from the cache, every evaluation again
            shutil.rmtree(cache / "evaluation" if label == "eval" else cache, ignore_errors=True)
        runs[label] = run_pytest(config, cache, work / f"phases_{label}.json", args.chunk_images)
    results_file = work / "evaluate" / "results" / "results.json"
    results = json.loads(results_file.read_text()) if runs and results_file.exists() else {}
    print(f"spec-size workload: {args.images} evaluation images, configuration {config}")
    if runs:
        print_runs(runs, results)
        (work / "runs.json").write_text(json.dumps(runs, indent=1))
    if args.throughput_images:
        throughput(config, args.throughput_images)


if __name__ == "__main__":
    main()
