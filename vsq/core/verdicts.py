"""Verdicts: the Check every test asserts, the registry of checks, and the Top-1 gate of one model.

A Check carries its verdict, the one-line message a failing test shows and the figures a test
records (JUnit properties) before it asserts. Top-1 is a fraction, drops are percentage points.
A drop is judged on the paired comparison of the model with Keras on the same images
(vsq.statistics.paired), by the configuration's decision rule; `decision` is the one place it is judged.
The pipeline computes every check once, under that rule, into one verdicts map (results.json `checks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from vsq.core.reference import KERAS, ReferenceModel, reference_model
from vsq.statistics import paired as statistics


@dataclass(frozen=True)
class Check:
    ok: bool  # what the gate makes of it (an INCONCLUSIVE drop counts as thresholds.inconclusive says)
    message: str  # what a failing test says
    figures: dict = field(default_factory=dict)  # recorded before the assertion
    verdict: str = ""  # PASS, FAIL or INCONCLUSIVE; "" means PASS or FAIL as ok says

    @property
    def word(self) -> str:
        return self.verdict or ("PASS" if self.ok else "FAIL")

    def as_dict(self) -> dict:
        """results.json's entry of `checks`: the verdict, and for one that did not pass its message."""
        out = {"verdict": self.word, "passes": self.ok, "figures": self.figures}
        return out if self.word == "PASS" else {**out, "message": self.message}

    def with_hint(self, hint: str) -> "Check":
        return replace(self, message=self.message + hint) if hint else self


@dataclass(frozen=True)
class CheckSpec:
    """A check the pipeline can run: `name` alone, or `name[item]` for each of `items(pipeline)`.

    run(pipeline, item) -> Check; item is None for a check without items. whole_run: pytest runs the whole
    pipeline (and writes results.json) before such a check; a configuration check needs no more than its
    own inputs, so `pytest suites/test_config.py` stays quick. A check's suite test is
    test_<name> (its item the test's parameter), so one name ties the verdicts map, the test, JUnit and
    the reports together."""

    name: str
    run: Callable
    items: Callable | None = None
    whole_run: bool = False  # needs the whole run (its evaluation, its document), not only its own inputs
    applies: Callable | None = None  # applies(pipeline): whether this run makes the check at all (None: always)

    def names(self, pipeline) -> list[str]:
        if self.applies is not None and not self.applies(pipeline):
            return []
        return [self.name] if self.items is None else [f"{self.name}[{item}]" for item in self.items(pipeline)]


def split_name(name: str) -> tuple[str, str | None]:
    """'variant_file_written[tf_float16]' -> ('variant_file_written', 'tf_float16'); 'schema_valid' -> (.., None)."""
    base, bracket, rest = name.partition("[")
    return (base, rest[:-1]) if bracket else (base, None)


def gate(checks: dict[str, Check]) -> dict:
    """results.json's `gate`: PASS when every check passes; counts, and the failures in the checks' words."""
    failed = [(name, check) for name, check in checks.items() if not check.ok]
    return {"verdict": "FAIL" if failed else "PASS",
            "tests": {"passed": len(checks) - len(failed), "failed": len(failed)},
            "failures": [{"test": name, "message": check.message} for name, check in failed]}


def counts_as_pass(verdict: str, thresholds) -> bool:
    """What the gate makes of a verdict: PASS passes, FAIL fails, INCONCLUSIVE as thresholds.inconclusive says (the
    one place it is counted: every check of the confident rule, and the decision recorded with a model)."""
    return verdict == "PASS" or (verdict == "INCONCLUSIVE" and thresholds.inconclusive == "pass")


def decision(paired: dict, limit: float, thresholds) -> dict:
    """The verdict on "the drop is at most `limit` points" for a paired comparison (PairedComparison.as_dict()).

    verdict: PASS / FAIL / INCONCLUSIVE (confident rule only); passes: what the gate makes of it
    (INCONCLUSIVE counts as thresholds.inconclusive says). undecided: the interval straddles the
    threshold, so the data cannot tell on which side the drop is (the confident rule's INCONCLUSIVE,
    whatever the configured rule); then, and only then, images_to_resolve: roughly how many images
    would let the interval decide if the rates seen here held (see images_needed).
    """
    comparison = statistics.compare_counts(paired["both_correct"], paired["reference_only"],
                                           paired["candidate_only"], paired["both_wrong"], thresholds.confidence)
    verdict = statistics.decide(comparison, limit, thresholds.decision_rule)
    undecided = statistics.decide(comparison, limit, "confident") == "INCONCLUSIVE"
    return {
        "rule": thresholds.decision_rule, "confidence": thresholds.confidence, "max_top1_drop": limit,
        "verdict": verdict,
        "passes": counts_as_pass(verdict, thresholds),
        "interval_wider_than_threshold": statistics.interval_wider_than_threshold(comparison, limit),
        "undecided": undecided,
        "images_to_resolve": statistics.images_to_resolve(comparison, limit) if undecided else None,
    }


def images_needed(judged: dict, paired: dict) -> str:
    """How many images would let the interval decide, worded as the estimate it is: the interval is
    recomputed at larger sizes with the four rates seen here, so it is a lower bound, not a promise (at
    that size the confident rule decides about half the time); with no flipped image it assumes none
    would flip."""
    needed = judged["images_to_resolve"]
    if needed is None:
        return "more images at the rates seen here would not decide it (the drop sits at the threshold)"
    flips = "" if paired["reference_only"] + paired["candidate_only"] else (
        f" (none of these {paired['num_images']:,} images flipped; any flips on a larger set need more)")
    return f"at least about {needed:,} images would decide it if the rates seen here held{flips}"


def interval_text(paired: dict) -> str:
    """'+0.50 [-0.9, +1.9]': the drop in points with its interval (tables); `paired` is one drop: a detector's
    paired entry holds one per mAP, the caller picks its figure's (vsq.core.drop_figure.DropFigure.paired)."""
    low, high = paired["interval_points"]
    return f"{paired['drop_points']:+.2f} [{low:+.1f}, {high:+.1f}]"


def drop_check(where: str, described: str, model: dict, keras_top1: float, limit_name: str,
               reference: ReferenceModel = KERAS) -> Check:
    """The model's drop against the float model (Keras, or `reference`) within its threshold, by its
    `decision` (results.json model entry)."""
    top1, paired, judged = model["top_1_accuracy"], model["paired"][reference.key], model["decision"]
    limit, low, high = judged["max_top1_drop"], *paired["interval_points"]
    confidence = f"{judged['confidence'] * 100:g} %"
    figures = (f"{described} Top-1 {top1:.4f} is {paired['drop_points']:.2f} points below {reference.label} "
               f"{keras_top1:.4f} "
               f"({confidence} interval {low:+.2f} to {high:+.2f}; {paired['reference_only']} images lost, "
               f"{paired['candidate_only']} gained, McNemar p = {paired['p_value']:.3g})")
    if judged["verdict"] == "INCONCLUSIVE":
        more = images_needed(judged, paired)
        mapped = "pass" if judged["passes"] else "fail (pass would accept it)"
        message = (f"{where}: INCONCLUSIVE: {figures}; the interval straddles {limit_name} ({limit} points): "
                   f"{more}; thresholds.inconclusive is {mapped}")
    elif judged["rule"] == "confident":
        message = f"{where}: {figures}; the drop is above {limit_name} ({limit} points) with {confidence} confidence"
    else:
        message = f"{where}: {figures}; {limit_name} is {limit} points"
    return Check(judged["passes"], message, verdict=judged["verdict"], figures={
        "top_1_accuracy": top1, reference.spec_key: keras_top1, "top_1_drop_points": paired["drop_points"],
        "max_top1_drop": limit, "drop_interval_low_points": low, "drop_interval_high_points": high,
        "images_lost": paired["reference_only"], "images_gained": paired["candidate_only"],
        "mcnemar_p_value": paired["p_value"], "decision_rule": judged["rule"], "confidence": judged["confidence"],
        "verdict": judged["verdict"], "images_to_resolve": judged["images_to_resolve"]})


def floor_check(where: str, described: str, top1: float, minimum: float | None, num_classes: int,
                minimum_name: str) -> Check:
    """The model's Top-1 is at least `minimum`, or better than chance (1 / classes) when it is None."""
    chance = 1.0 / num_classes
    if minimum is None:
        return Check(_above_floor(top1, minimum, num_classes), f"{where}: {described} Top-1 {top1:.4f} is no better than chance ({chance:.4f})",
                     {"top_1_accuracy": top1, "min_top1": f"chance ({chance:.4f})"})
    return Check(_above_floor(top1, minimum, num_classes), f"{where}: {described} Top-1 {top1:.4f} is below {minimum_name} {minimum:.4f}",
                 {"top_1_accuracy": top1, "min_top1": minimum})


def quantized_checks(where: str, results: dict, thresholds) -> list[Check]:
    """The accuracy gate of the default recipe, from a results document: the drops of the quantized file
    (model_quantized.tflite / .onnx) and of MCT's quantized model (model_quantized.keras, the quantized PyTorch
    model) against the float model, and the quantized file's floor. The suites assert them; the explanation
    (on_failure) is computed when one fails. While the float model is near chance (float_near_chance) the
    drops fail as meaningless."""
    float_model, quantized, fake_quant = (reference_model(results, role) for role in ("float", "quantized",
                                                                                      "fake_quant"))
    top1, models = results[float_model.spec_key], results["models"]
    checks = [
        drop_check(where, quantized.described, models[quantized.key], top1, "thresholds.max_top1_drop", float_model),
        fake_quant and drop_check(where, fake_quant.described, models[fake_quant.key], top1,
                                  "thresholds.max_top1_drop", float_model),  # None: a given file, no MCT model
        floor_check(where, quantized.described, results[quantized.spec_key], thresholds.min_top1,
                    results["num_classes"], "thresholds.min_top1"),
    ]
    return [check and unless_float_near_chance(where, described, check, results, thresholds) for described, check in
            zip((quantized.described, fake_quant and fake_quant.described, None), checks)]


# The float model is near chance (thresholds.min_float_top1 null) when even the upper end of its Top-1 interval
# (Wilson, at thresholds.confidence) is below 1.5 x chance and below chance + 10 points: with 10 classes under
# 0.15, with 2 under 0.60, with 1,000 under 0.0015. Random weights, wrong labels or a wrong input scale do that;
# a drop measured against such a model says nothing about quantization.
NEAR_CHANCE_FACTOR = 1.5
NEAR_CHANCE_POINTS = 10.0


def near_chance_limit(num_classes: int) -> float:
    """The Top-1 (a fraction) the upper end of the float model's interval must reach not to be near chance."""
    chance = 1.0 / num_classes
    return min(NEAR_CHANCE_FACTOR * chance, chance + NEAR_CHANCE_POINTS / 100.0)


def float_near_chance(results: dict, thresholds) -> bool:
    """Whether the rule is on (thresholds.min_float_top1 null) and the float model is near chance by it."""
    interval = results["models"][reference_model(results, "float").key].get("top_1_interval")
    return thresholds.min_float_top1 is None and interval is not None and \
        interval[1] < near_chance_limit(results["num_classes"])


def unless_float_near_chance(where: str, described: str | None, check: Check, results: dict, thresholds) -> Check:
    """A quantized model's check as it stands, or, while the float model is near chance, a drop check (described:
    its model) failed as meaningless and a floor check (described None) that says the float model fails it too."""
    if not float_near_chance(results, thresholds):
        return check
    float_model = reference_model(results, "float")
    top1, chance = results[float_model.spec_key], 1.0 / results["num_classes"]
    figures = {**check.figures, "float_near_chance": True}
    if described is None:
        return replace(check, figures=figures).with_hint("" if check.ok else (
            f"; {float_model.described} is near chance too (Top-1 {top1:.4f}): the evaluation, not the quantization, is off"))
    return Check(False, f"{where}: the drop of {described} is meaningless: {float_model.described} itself is near chance "
                 f"(Top-1 {top1:.4f}, chance {chance:.4f}); fix the evaluation first (float_model_beats_chance)",
                 figures, "FAIL")


def within_thresholds(model: dict, min_top1: float | None, num_classes: int, meaningful: bool = True) -> bool:
    """Both checks above, as one verdict (the variants' table and recommendation); model: a results entry.
    meaningful: not float_near_chance; while the float model is near chance the drop checks fail as meaningless
    (unless_float_near_chance), and no model is within its thresholds."""
    return meaningful and model["decision"]["passes"] and _above_floor(model["top_1_accuracy"], min_top1, num_classes)


def _above_floor(top1: float, minimum: float | None, num_classes: int) -> bool:
    return top1 > 1.0 / num_classes if minimum is None else top1 >= minimum


def fits(part: dict) -> bool:
    """The IMX500 gate on results.json's part: the converter says the model fits, within max_memory_utilization
    (the one place the rule is written; its check, imx500_fits_in_memory, applies it and the tables and the chart
    read that check's verdict)."""
    return bool(part.get("fits")) and part.get("utilization_percent") is not None and \
        part["utilization_percent"] <= part.get("max_memory_utilization", 100)
