"""A detector's raw output (the IMX500 post-processing's boxes, scores, classes, count) as COCO detections.

What the model cannot say about its boxes, the configuration does (`BoxFormat`): the corners' order ("yxyx", as
TensorFlow's and edge-mdt-cl's SSD post-processing give them, or "xyxy"), whether they are normalised to 0..1 of
the input or in input pixels, the offset from the model's class index to the category id, and how the image was
resized (vsq.util.letterbox), which says how a box maps back to the original image.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from vsq.util import letterbox

if TYPE_CHECKING:
    import numpy as np

BOX_ORDERS = ("yxyx", "xyxy")


@dataclass(frozen=True)
class BoxFormat:
    box_order: str = "yxyx"
    normalized: bool = True
    class_offset: int = 1  # category_id = class index + class_offset
    resize: str = "stretch"

    def __post_init__(self):
        if self.box_order not in BOX_ORDERS:
            raise ValueError(f"unknown box_order {self.box_order!r}; expected one of {BOX_ORDERS}")
        if self.resize not in letterbox.RESIZES:
            raise ValueError(f"unknown resize {self.resize!r}; expected one of {letterbox.RESIZES}")

    def changed(self, **fields) -> BoxFormat:
        return replace(self, **fields)

    def differences(self, other: BoxFormat) -> dict:
        """The fields of `other` that differ from this one's: {field: other's value}."""
        return {name: getattr(other, name) for name in ("box_order", "normalized", "class_offset", "resize")
                if getattr(other, name) != getattr(self, name)}


@dataclass(frozen=True)
class Raw:
    """One image's output of the post-processing: the first `count` rows are detections."""
    boxes: np.ndarray  # (N, 4)
    scores: np.ndarray  # (N,)
    classes: np.ndarray  # (N,) class indices (floats in TensorFlow's output)
    count: int


def decode(raw: Raw, image_id: int, width: int, height: int, size: int, form: BoxFormat,
           min_score: float = 0.0) -> list[dict]:
    """COCO detections ({image_id, category_id, bbox [x, y, w, h] in original pixels, score}) of one image of
    width x height pixels fed to a size x size model; boxes of no area once clipped to the image are dropped."""
    import numpy as np

    count = max(0, min(int(raw.count), len(raw.scores)))
    boxes = np.asarray(raw.boxes, dtype=float)[:count].reshape(-1, 4)
    if form.box_order == "yxyx":
        boxes = boxes[:, [1, 0, 3, 2]]
    if form.normalized:
        boxes = boxes * size
    corners = letterbox.to_original(boxes, letterbox.geometry(width, height, size, form.resize))
    out = []
    for (x1, y1, x2, y2), score, index in zip(corners, np.asarray(raw.scores)[:count],
                                              np.asarray(raw.classes)[:count]):
        if not (np.isfinite(score) and np.isfinite(index)) or score < min_score or not x2 > x1 or not y2 > y1:
            continue  # a NaN from a broken model is no detection (and no crash)
        out.append({"image_id": image_id, "category_id": int(round(float(index))) + form.class_offset,
                    "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)], "score": float(score)})
    return out
