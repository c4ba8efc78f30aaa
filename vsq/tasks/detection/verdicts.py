"""The detection checks' verdicts, from the detection document (vsq.tasks.detection.document) alone.

- map_drop_within_threshold: the quantized model's drop of mAP@[.5:.95] AND of mAP@.5 against the float model,
  each at most max_map_drop points, judged by the decision rule on its paired bootstrap interval (point or
  confident; INCONCLUSIVE counts as thresholds.inconclusive says). Both are gated: a coarse box decoding can keep
  mAP@.5 and lose mAP@[.5:.95] (docs/detection.md). While the float model is near chance the drop is MEANINGLESS
  and fails, as for classifiers.
- quantized_map_above_minimum: the quantized model's mAP@[.5:.95] at least min_map points (no floor: above the
  float model's chance figure).
- float_map_beats_chance: the float model's mAP@.5 lead over its own detections on other images can reach
  NEAR_CHANCE_POINTS (the upper end of its interval); otherwise the evaluation, not the quantization, is off.
"""

from __future__ import annotations

from dataclasses import dataclass

from vsq.core.verdicts import Check, counts_as_pass
from vsq.tasks.detection import bootstrap

METRIC_NAMES = {"map_50_95": "mAP@[.5:.95]", "map_50": "mAP@.5"}


@dataclass(frozen=True)
class Thresholds:
    max_map_drop: float = 1.0  # points
    min_map: float | None = None  # points of mAP@[.5:.95]
    decision_rule: str = "point"
    confidence: float = 0.95
    inconclusive: str = "fail"


def _drop(entry: dict) -> bootstrap.Drop:
    return bootstrap.Drop(**{**entry, "interval_points": tuple(entry["interval_points"])})


def map_drop_check(where: str, described: str, document: dict, key: str, float_key: str,
                   thresholds: Thresholds) -> Check:
    paired = document["models"][key]["paired"][float_key]
    limit = thresholds.max_map_drop
    verdicts = {metric: bootstrap.decide(_drop(paired[metric]), limit, thresholds.decision_rule)
                for metric in METRIC_NAMES}
    verdict = "FAIL" if "FAIL" in verdicts.values() else "INCONCLUSIVE" if "INCONCLUSIVE" in verdicts.values() \
        else "PASS"
    parts = [f"{METRIC_NAMES[m]} {100 * paired[m]['candidate']:.2f} is {paired[m]['drop_points']:.2f} points below "
             f"{100 * paired[m]['reference']:.2f} ({100 * paired[m]['confidence']:g} % interval "
             f"{paired[m]['interval_points'][0]:+.2f} to {paired[m]['interval_points'][1]:+.2f}; {verdicts[m]})"
             for m in METRIC_NAMES]
    figures = {"max_map_drop": limit, "decision_rule": thresholds.decision_rule, "verdict": verdict,
               **{f"{m}_drop_points": paired[m]["drop_points"] for m in METRIC_NAMES},
               **{f"{m}_drop_interval_points": list(paired[m]["interval_points"]) for m in METRIC_NAMES}}
    if not document["chance"]["beats_chance"]:
        return Check(False, f"{where}: the mAP drop of {described} is meaningless: the float model itself is near "
                     f"chance; fix the evaluation first (float_map_beats_chance)",
                     {**figures, "float_near_chance": True}, "FAIL")
    message = f"{where}: {described} {'; '.join(parts)}; detection.max_map_drop is {limit} points"
    if verdict == "INCONCLUSIVE":
        message += (f" (decision rule {thresholds.decision_rule}: an interval straddles it; more images narrow it; "
                    f"thresholds.inconclusive is {thresholds.inconclusive})")
    return Check(counts_as_pass(verdict, thresholds), message, figures, verdict)


def map_floor_check(where: str, described: str, document: dict, key: str, thresholds: Thresholds) -> Check:
    value = 100 * document["models"][key]["map_50_95"]
    if thresholds.min_map is None:
        chance = 100 * document["chance"]["map_50"]
        return Check(value > chance, f"{where}: {described} mAP@[.5:.95] {value:.2f} is no better than the float "
                     f"model's chance figure (mAP@.5 {chance:.2f} on shuffled images); set detection.min_map",
                     {"map_50_95_points": value, "min_map": f"chance ({chance:.2f})"})
    return Check(value >= thresholds.min_map, f"{where}: {described} mAP@[.5:.95] {value:.2f} points is below "
                 f"detection.min_map {thresholds.min_map:g}", {"map_50_95_points": value, "min_map": thresholds.min_map})


def float_beats_chance_check(where: str, document: dict) -> Check:
    chance = document["chance"]
    lead = chance["float_lead"]
    low, high = lead["interval_points"]
    figures = {"float_map_50": lead["reference"], "chance_map_50": chance["map_50"], "lead_points": lead["drop_points"],
               "lead_interval_points": [low, high], "near_chance_points": chance["near_chance_points"]}
    return Check(chance["beats_chance"], f"{where}: the float model's mAP@.5 {100 * lead['reference']:.2f} is "
                 f"{lead['drop_points']:.2f} points above its own detections scored on other images "
                 f"({100 * chance['map_50']:.2f}; interval {low:+.2f} to {high:+.2f}), less than "
                 f"{chance['near_chance_points']:g}: check the box format (detection.box_order, "
                 "detection.boxes_normalized, detection.class_offset), the preprocessing and the annotations", figures)
