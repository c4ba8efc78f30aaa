"""Detection's evaluation of one model: its detections on every evaluation image, as COCO detections in pixels of
the original images (decoded from the post-processing's output by the configured box format), accumulated chunk
by chunk and stored in the cache as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from vsq.tasks.detection.annotations import Image
from vsq.tasks.detection.boxes import BoxFormat, Raw, decode
from vsq.tasks.detection.screen import sample

STORED = ("detections.json",)
STORED_FORMAT = 2  # 2: with the sample's raw outputs (the box-format screen); part of the cache key


@dataclass
class DetectionEvaluation:
    name: str
    detections: list  # COCO detections {image_id, category_id, bbox, score}
    image_ids: tuple  # the images the model ran on, in the evaluation set's order
    seconds: float
    skipped: tuple = ()
    modes: dict = field(default_factory=dict)
    # The raw outputs (boxes, scores, classes as the model gave them) of an evenly spread sample of images, by
    # image id: the box-format screen reads them every other way (vsq.tasks.detection.screen)
    raw: dict = field(default_factory=dict)

    @property
    def images_used(self) -> int:
        return len(self.image_ids)


@dataclass
class Running:
    """vsq.tasks.base.Accumulator: outputs are the post-processing's (boxes, scores, classes, count) per chunk."""

    name: str
    images: tuple[Image, ...]  # the annotations' entry of every evaluation image, in the evaluation set's order
    size: int
    form: BoxFormat
    min_score: float
    detections: list = field(default_factory=list)
    used: list = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    def __post_init__(self):
        self.sampled = set(sample(range(len(self.images))))

    def add(self, outputs, indices) -> None:
        boxes, scores, classes, count = outputs
        for row, index in enumerate(indices):
            image = self.images[int(index)]
            raw = Raw(boxes=boxes[row], scores=scores[row], classes=classes[row], count=int(count[row]))
            self.detections += decode(raw, image.id, image.width, image.height, self.size, self.form, self.min_score)
            self.used.append(image.id)
            if int(index) in self.sampled:
                self.raw[image.id] = raw_entry(raw)

    def finish(self, seconds: float, skipped: tuple, modes: dict) -> DetectionEvaluation:
        return DetectionEvaluation(self.name, self.detections, tuple(self.used), seconds, skipped, modes, self.raw)


def raw_entry(raw: Raw) -> dict:
    """A model's raw output on one image as stored (JSON): its first `count` boxes, scores and classes."""
    kept = max(0, min(raw.count, len(raw.scores)))
    return {"boxes": [[float(v) for v in box] for box in raw.boxes[:kept]],
            "scores": [float(v) for v in raw.scores[:kept]], "classes": [float(v) for v in raw.classes[:kept]]}


def raw_of(entry: dict) -> Raw:
    """A stored raw output (raw_entry's) as the screen reads it."""
    import numpy as np

    return Raw(boxes=np.asarray(entry["boxes"], dtype=float).reshape(-1, 4), scores=np.asarray(entry["scores"]),
               classes=np.asarray(entry["classes"]), count=len(entry["scores"]))


def save(result: DetectionEvaluation, folder: Path) -> None:
    (folder / "detections.json").write_text(json.dumps({
        "name": result.name, "detections": result.detections, "image_ids": list(result.image_ids),
        "seconds": result.seconds, "skipped": [list(item) for item in result.skipped], "modes": result.modes,
        "raw": {str(key): value for key, value in result.raw.items()}}))


def load(folder: Path) -> DetectionEvaluation:
    data = json.loads((folder / "detections.json").read_text())
    return DetectionEvaluation(data["name"], data["detections"], tuple(data["image_ids"]), data["seconds"],
                               tuple(tuple(item) for item in data["skipped"]), data["modes"],
                               {int(key): value for key, value in data.get("raw", {}).items()})
