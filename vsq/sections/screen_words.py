"""The screen's findings in words (results.json `screen` to sentences): the change to make, the fix, and the
hint the float model's failing checks append. No TensorFlow, no cache: vsq.pipeline.checks reads it."""

from __future__ import annotations

import json

from vsq.sections.screen_search import CAFFE, IMAGENET, LABELS, PREPROCESSING_FIELDS

SHOWN_LABELS = 3  # entries of a corrected labels.json a message shows
READINGS = {"ids + 1": "with every id + 1", "ids - 1": "with every id - 1",
            "sorted": "numbered in sorted order of the class names",
            "natural": "numbered in natural order of the class names"}  # vsq.sections.screen_search.readings
NAMED_NORMALIZATIONS = {"ImageNet mean/std": IMAGENET, "Caffe mean": CAFFE}  # in messages


def change_text(changes: dict) -> str:
    """'preprocessing.normalization "[-1,1]" and labels.json with every id + 1' (the screen's named normalizations
    by name: the fix gives their values)."""
    parts = []
    for field in PREPROCESSING_FIELDS:
        if field in changes:
            crop = f" (crop_pct {changes['crop_pct']:g})" if field == "mode" and "crop_pct" in changes else ""
            parts.append(f"preprocessing.{field} {value_text(changes[field])}{crop}")
    if LABELS in changes:
        parts.append(f"labels.json {READINGS.get(changes[LABELS], changes[LABELS])}")
    return " and ".join(parts)


def value_text(value) -> str:
    return next((name for name, named in NAMED_NORMALIZATIONS.items() if named == value), None) or json.dumps(value)


def _shown_labels(labels_json: dict) -> str:
    items = list(labels_json.items())
    text = ", ".join(f"{json.dumps(name)}: {value}" for name, value in items[:SHOWN_LABELS])
    return "{" + text + (", ...}" if len(items) > SHOWN_LABELS else "}")


def _configured_text(part: dict, changes: dict) -> str:
    """How the configuration stands on the fields a change touches: 'the configured "[0,1]"'."""
    fields = [field for field in PREPROCESSING_FIELDS if field in changes]
    if fields and LABELS in changes:
        return "as configured"
    if LABELS in changes:
        return "labels.json as written"
    return "the configured " + " and ".join(value_text(part["configured"][field]) for field in fields)


def _fix(changes: dict, labels_json: dict | None) -> str:
    fixes = []
    preprocessing = {field: changes[field] for field in (*PREPROCESSING_FIELDS, "crop_pct") if field in changes}
    if preprocessing:
        fixes.append(f"set \"preprocessing\": {json.dumps(preprocessing)}")
    if LABELS in changes:
        fixes.append(f"write labels.json as {_shown_labels(labels_json)}")
    return " and ".join(fixes) + " if the model was trained so"


def found_sentence(where: str, part: dict) -> str:
    """The failing screen check's one sentence: the change, the two Top-1s, the test, the fix."""
    found, rule = part["found"], part["rule"]
    changes, labels_json = found["changes"], found.get("labels_json")
    return (f"{where}: {change_text(changes)} {_verb(changes)} Top-1 {found['top_1_accuracy']:.2f} on "
            f"{part['images']} images, {_configured_text(part, changes)} {part['configured']['top_1_accuracy']:.2f} "
            f"(+{found['gain_points']:.1f} points, McNemar p = {found['p_value']:.2g}; needed: "
            f"+{rule['min_gain_points']:g} points, p < {rule['max_p_value']:g} after Bonferroni); "
            f"{_fix(changes, labels_json)}")


def _verb(changes: dict) -> str:
    return "give" if len(changes) - ("crop_pct" in changes) > 1 else "gives"


def best_alternative_hint(part: dict | None) -> str:
    """What the float model's failing checks append: the screen's finding, or that no alternative scored
    significantly better (then the images, labels.json or the model file are the suspects). An alternative that
    scored higher without passing the screen's rule is not offered: on a model near chance that is noise."""
    if not part:
        return ""
    if part.get("status") == "failed":
        return f"; the preprocessing screen failed: {part['error']}"
    found, configured = part.get("found"), part["configured"]["top_1_accuracy"]
    if found:
        return (f"; the screen found: {change_text(found['changes'])} {_verb(found['changes'])} Top-1 "
                f"{found['top_1_accuracy']:.2f} on {part['images']} images (configured {configured:.2f})")
    return (f"; no preprocessing or labels.json alternative of the screen scores significantly better on "
            f"{part['images']} images: check the images and the model file")
