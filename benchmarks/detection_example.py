"""The bundled detector's figures through the detection task, and what each step costs.

    python benchmarks/detection_example.py [--config examples/detection.json]

Builds what tests/test_detection_task.py builds (tests/detection_example.py) and prints every model's mAP, the
quantized models' paired drops with their intervals, the float model's lead over chance, the checks' verdicts
and the seconds of each step.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import detection_example  # noqa: E402
from vsq.tasks.detection.checks import CHECKS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(ROOT / "examples" / "detection.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run = detection_example.build(Path(args.config), Path(folder))
    core = run.core
    for key, model in core["models"].items():
        line = f"{key:17s} mAP@[.5:.95] {100 * model['map_50_95']:6.2f}  mAP@.5 {100 * model['map_50']:6.2f}  " \
               f"AR@100 {100 * model['recall']:6.2f}  {model['evaluation_seconds']:.2f} s"
        for metric, drop in model.get("paired", {}).get("keras", {}).items():
            low, high = drop["interval_points"]
            line += f"  {metric} drop {drop['drop_points']:+.2f} [{low:+.2f}, {high:+.2f}]"
        print(line)
    lead = core["chance"]["float_lead"]
    print(f"chance mAP@.5 {100 * core['chance']['map_50']:.2f}; float lead {lead['drop_points']:.2f} "
          f"[{lead['interval_points'][0]:.2f}, {lead['interval_points'][1]:.2f}]")
    for spec in CHECKS:
        check = spec.run(run)
        print(f"{spec.name}: {check.word}")
    for step, seconds in run.seconds.items():
        print(f"{step}: {seconds:.1f} s")


if __name__ == "__main__":
    main()
