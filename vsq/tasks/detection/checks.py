"""Detection's checks: its data (the COCO annotations against the images) and the quantized model's mAP (the drop
against the float model, its floor) and the float model's mAP against chance. Each is a function of the run
(vsq.core.checks.Run) returning a Check; the verdicts are vsq.tasks.detection.verdicts'."""

from __future__ import annotations

from vsq.core.check_names import (ANNOTATIONS_CHECK, BOX_FORMAT_CHECK, FLOAT_MAP_CHANCE_CHECK, MAP_DROP_CHECK,
                                  QUANTIZED_MAP_FLOOR_CHECK)
from vsq.core.checks import Run
from vsq.core.reference import roles
from vsq.core.verdicts import Check, CheckSpec
from vsq.tasks.detection import verdicts
from vsq.tasks.detection.dataset import read_annotations


def thresholds(config) -> verdicts.Thresholds:
    settings, common = config.detection, config.thresholds
    return verdicts.Thresholds(max_map_drop=settings.max_map_drop, min_map=settings.min_map,
                               decision_rule=common.decision_rule, confidence=common.confidence,
                               inconclusive=common.inconclusive)


def annotations_match_the_data(p: Run, _=None) -> Check:
    """Read again at check time: the evaluation set was built from them when the run was prepared (a mistake is
    refused there, in one line), so this records what they hold."""
    found = read_annotations(p.config)
    evaluated = p.job.evaluation_set
    return Check(len(evaluated.paths) == len(found.images),
                 f"{p.name}: {len(evaluated.paths)} evaluation images, {len(found.images)} listed in the annotations",
                 {"images": len(found.images), "objects": len(found.boxes), "categories": len(found.categories)})


def box_format_matches_the_model(p: Run, _=None) -> Check:
    """The known-answer screen on the float model's raw outputs of a sample (vsq.tasks.detection.screen): fails
    when another reading of the boxes scores clearly better, naming the settings to change. The outputs on the
    sample resized the other way come from the cache (vsq.tasks.detection.resize_reading)."""
    from vsq.tasks.detection import resize_reading
    from vsq.tasks.detection.dataset import box_format
    from vsq.tasks.detection.evaluation import raw_of
    from vsq.tasks.detection.screen import screen

    raw = p.evaluations[roles(p.framework.models)["float"]].raw
    truth = p.task.truth(p.config, p.job.evaluation_set)
    images = [image for image in truth.coco["images"] if image["id"] in raw]
    outputs = [raw_of(raw[i["id"]]) for i in images]
    form = box_format(p.config)
    others = resize_reading.outputs(p, [image["id"] for image in images], form.resize)
    found = screen(truth.coco, images, {form.resize: outputs, **others}, p.config.input_tensor_size, form,
                   p.config.detection.min_score)
    return Check(not found.clearly_better, f"{p.name}: {found.advice()}", found.as_dict())


def _described(p: Run, role: str) -> tuple[str, str]:
    model = next(m for m in p.framework.models if m.role == role)
    return model.key, model.described


def map_drop_within_threshold(p: Run, _=None) -> Check:
    key, described = _described(p, "quantized")
    return verdicts.map_drop_check(p.name, described, p.core, key, roles(p.framework.models)["float"],
                                   thresholds(p.config))


def quantized_map_above_minimum(p: Run, _=None) -> Check:
    key, described = _described(p, "quantized")
    return verdicts.map_floor_check(p.name, described, p.core, key, thresholds(p.config))


def float_map_beats_chance(p: Run, _=None) -> Check:
    return verdicts.float_beats_chance_check(p.name, p.core)


CHECKS = (
    CheckSpec(ANNOTATIONS_CHECK, annotations_match_the_data),
    CheckSpec(BOX_FORMAT_CHECK, box_format_matches_the_model, whole_run=True),
    CheckSpec(FLOAT_MAP_CHANCE_CHECK, float_map_beats_chance, whole_run=True),
    CheckSpec(MAP_DROP_CHECK, map_drop_within_threshold, whole_run=True),
    CheckSpec(QUANTIZED_MAP_FLOOR_CHECK, quantized_map_above_minimum, whole_run=True),
)
