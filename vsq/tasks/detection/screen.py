"""A known-answer screen for box-format mistakes: the mistakes that make a correct detector score near 0.

On a bounded, evenly spread sample of the evaluation images, the float model's raw output is read under every
combination of the box format's settings (corner order, normalised or pixels, class offset -1/0/+1 of the
configured one, stretch or letterbox when the caller ran the model both ways) and scored by mAP@.5 against the
annotations. When another reading is clearly better than the configured one (its mAP@.5 at least 10 points higher:
a correct reading is the best one, and a wrong one loses far more, 37 points for a letterbox model fed stretched
128 x 96 images in the tests), the screen says which settings to change; among readings within half a point of the best, the
one with the fewest changes is named (a reading that also flips a setting that does not matter is no advice).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from vsq.tasks.detection import metrics
from vsq.tasks.detection.boxes import BOX_ORDERS, BoxFormat, Raw, decode

SAMPLE = 32  # images: enough for mAP@.5 to tell a right reading from a wrong one, cheap enough for every run
CLEAR_MARGIN = 0.10  # mAP@.5, fraction
TIE = 0.005


# BoxFormat's fields by the detection object's keys where the two differ (the advice names the key to set).
CONFIGURATION_KEYS = {"normalized": "boxes_normalized"}
CLASS_OFFSETS = (-1, 1000)  # detection.class_offset's range in the configuration schema


@dataclass(frozen=True)
class Screen:
    configured: float  # mAP@.5 of the configured reading on the sample (fraction)
    best: float
    change: dict = field(default_factory=dict)  # {setting: value} to set; empty when the configured one is best
    images: int = 0
    tried: int = 0

    @property
    def clearly_better(self) -> bool:
        return bool(self.change) and self.best - self.configured >= CLEAR_MARGIN

    def as_dict(self) -> dict:
        return {"configured_map_50": self.configured, "best_map_50": self.best, "change": self.change,
                "images": self.images, "readings_tried": self.tried, "clearly_better": self.clearly_better}

    def advice(self) -> str:
        """One sentence, figures in percent."""
        settings = ", ".join(_setting(key, value) for key, value in self.change.items())
        if not self.clearly_better:
            return (f"the configured box format scores mAP@.5 {100 * self.configured:.1f} % on {self.images} "
                    f"images; no other reading of the boxes of {self.tried} tried is clearly better")
        return (f"the configured box format scores mAP@.5 {100 * self.configured:.1f} % on {self.images} images, "
                f"but with {settings} the same outputs score {100 * self.best:.1f} %: set {settings}")


def _setting(key: str, value) -> str:
    """A reading's setting as the configuration writes it: the resize is preprocessing.mode's (square stretches)."""
    if key == "resize":
        return f'preprocessing.mode "{"square" if value == "stretch" else value}"'
    return f"detection.{CONFIGURATION_KEYS.get(key, key)} {_json(value)}"


def _json(value) -> str:
    return "true" if value is True else "false" if value is False else f'"{value}"' if isinstance(value, str) \
        else str(value)


def sample(image_ids, limit: int = SAMPLE) -> list:
    """At most `limit` ids, evenly spread over the list (deterministic)."""
    ids = list(image_ids)
    if len(ids) <= limit:
        return ids
    return [ids[(n * len(ids)) // limit] for n in range(limit)]


def readings(configured: BoxFormat, resizes) -> list[BoxFormat]:
    """Every reading tried, the configured one first."""
    offsets = [offset for offset in (configured.class_offset, configured.class_offset - 1, configured.class_offset + 1)
               if CLASS_OFFSETS[0] <= offset <= CLASS_OFFSETS[1]]  # advise only what the schema accepts
    out = [configured]
    for order, normalized, offset, resize in itertools.product(BOX_ORDERS, (True, False), offsets, resizes):
        form = BoxFormat(order, normalized, offset, resize)
        if form not in out:
            out.append(form)
    return out


def screen(ground_truth: dict, images: list[dict], raw_by_resize: dict[str, list[Raw]], size: int,
           configured: BoxFormat, min_score: float = 0.0) -> Screen:
    """`images`: the sample's COCO image entries ({id, width, height}); `raw_by_resize[resize][i]`: the model's
    output on images[i] resized that way (the configured resize at least)."""
    if configured.resize not in raw_by_resize:
        raise ValueError("the model's output on the configured resize is needed")
    ids = {image["id"] for image in images}
    truth = {"images": images, "categories": ground_truth["categories"],
             "annotations": [a for a in ground_truth["annotations"] if a["image_id"] in ids]}
    scored = []
    for form in readings(configured, sorted(raw_by_resize, key=lambda r: r != configured.resize)):
        found = [d for image, raw in zip(images, raw_by_resize[form.resize])
                 for d in decode(raw, image["id"], image["width"], image["height"], size, form, min_score)]
        scored.append((metrics.figures(truth, found).map_50, form))
    best = max(score for score, _ in scored)
    near = [(len(configured.differences(form)), score, form) for score, form in scored if score >= best - TIE]
    _, score, chosen = min(near, key=lambda entry: entry[0])
    return Screen(configured=scored[0][0], best=score, change=configured.differences(chosen), images=len(images),
                  tried=len(scored))
