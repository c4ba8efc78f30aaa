"""What detection's metrics and the paired bootstrap of the mAP drop cost, and how stable the interval is.

    python benchmarks/detection_bootstrap.py [--images 500] [--seeds 5] [--resamples 100,200,500,1000,2000]

No model runs: a generated COCO set (tests/tiny_detection.py: 3 categories, ~2 objects per image, every 7th image
empty) and a "float" model's detections made from it; the "quantized" model is the same detections with every box
corner moved by N(0, 0.7 px), as a quantized copy's rounding does. Prints, best of 3:
- pycocotools (evaluate + accumulate + summarize) and faster-coco-eval on the same detections, and what
  vsq.tasks.detection.metrics.match (pycocotools' evaluate, kept per image) costs;
- for each resample count: seconds for both mAP drops of one pair, and the spread over `--seeds` seeds of the
  95 % interval's ends (max - min, points): how much the interval moves when only the seed changes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import tiny_detection  # noqa: E402
from vsq.tasks.detection import bootstrap, metrics  # noqa: E402


def best_of(runs: int, work):
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def faster_coco_eval(truth, found):
    from faster_coco_eval import COCO, COCOeval_faster

    ground = COCO(truth)
    evaluation = COCOeval_faster(ground, ground.loadRes(found), "bbox", print_function=lambda *a: None)
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    return list(evaluation.stats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--resamples", default="100,200,500,1000,2000")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    truth = tiny_detection.ground_truth(args.images, rng)
    floating = tiny_detection.detections(truth, rng, jitter=0.03)
    quantized = tiny_detection.moved(floating, rng, 0.7)
    print(f"{args.images} images, {len(truth['annotations'])} objects, {len(floating)} detections per model")
    seconds, ours = best_of(3, lambda: metrics.pycocotools_stats(truth, floating))
    print(f"pycocotools evaluate+accumulate+summarize: {seconds:.3f} s  mAP {ours[0]:.6f} mAP@.5 {ours[1]:.6f}")
    seconds, theirs = best_of(3, lambda: faster_coco_eval(truth, floating))
    print(f"faster-coco-eval 1.8.0 same:              {seconds:.3f} s  mAP {theirs[0]:.6f} mAP@.5 {theirs[1]:.6f}")
    seconds, matched = best_of(3, lambda: (metrics.match(truth, floating), metrics.match(truth, quantized)))
    print(f"vsq match (pycocotools evaluate), two models: {seconds:.3f} s")
    for count in (int(n) for n in args.resamples.split(",")):
        seconds, _ = best_of(1, lambda: bootstrap.paired_drops(*matched, resamples=count, seed=0))
        ends = np.array([[*drop.interval_points] for seed in range(args.seeds)
                         for drop in [bootstrap.paired_drops(*matched, resamples=count, seed=seed)["map_50_95"]]])
        drop = bootstrap.paired_drops(*matched, resamples=count, seed=0)["map_50_95"]
        print(f"{count:5d} resamples: {seconds:6.2f} s; mAP@[.5:.95] drop {drop.drop_points:+.3f} points, interval "
              f"[{drop.interval_points[0]:+.3f}, {drop.interval_points[1]:+.3f}]; over {args.seeds} seeds the ends "
              f"move {np.ptp(ends[:, 0]):.3f} and {np.ptp(ends[:, 1]):.3f} points")


if __name__ == "__main__":
    main()
