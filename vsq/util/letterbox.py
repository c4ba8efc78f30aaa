"""Resizing for detectors, and mapping a box of the model's input back to the original image.

- "stretch": the image is resized to size x size, aspect ratio not kept (vsq's "square" mode);
- "letterbox": YOLO's (Ultralytics' `LetterBox`, auto=False, center=True): scaled by min(size / w, size / h) so
  the whole image fits, rounded to whole pixels, and centred on a size x size canvas of grey 114, with the padding
  split as YOLO splits it (round(pad / 2 -+ 0.1)).

`Geometry` holds what the mapping needs; `to_original` takes boxes in pixels of the model's input as corners
(x1, y1, x2, y2) and gives them in pixels of the original image, clipped to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

RESIZES = ("stretch", "letterbox")
PAD_VALUE = 114  # YOLO's grey


@dataclass(frozen=True)
class Geometry:
    width: int  # the original image's
    height: int
    size: int  # the model's square input
    scale_x: float  # input pixels per original pixel
    scale_y: float
    left: int  # padding, input pixels
    top: int
    resized: tuple[int, int]  # (width, height) the image is resized to before padding


def geometry(width: int, height: int, size: int, resize: str) -> Geometry:
    """How an image of width x height pixels becomes the model's size x size input."""
    if resize == "stretch":
        return Geometry(width, height, size, size / width, size / height, 0, 0, (size, size))
    if resize != "letterbox":
        raise ValueError(f"unknown resize {resize!r}; expected one of {RESIZES}")
    ratio = min(size / width, size / height)
    resized = (int(round(width * ratio)), int(round(height * ratio)))
    pad_x, pad_y = (size - resized[0]) / 2, (size - resized[1]) / 2
    left, top = int(round(pad_x - 0.1)), int(round(pad_y - 0.1))
    return Geometry(width, height, size, ratio, ratio, left, top, resized)


def resize(image, size: int, resize: str, resample=None):
    """A Pillow RGB image brought to size x size as `resize` says (bilinear unless told)."""
    from PIL import Image

    place = geometry(image.width, image.height, size, resize)
    resample = Image.Resampling.BILINEAR if resample is None else resample
    scaled = image.resize(place.resized, resample) if image.size != place.resized else image
    if resize == "stretch":
        return scaled
    canvas = Image.new("RGB", (size, size), (PAD_VALUE,) * 3)
    canvas.paste(scaled, (place.left, place.top))
    return canvas


def to_original(corners: np.ndarray, place: Geometry) -> np.ndarray:
    """(N, 4) corners (x1, y1, x2, y2) in input pixels -> the same in original pixels, clipped to the image."""
    import numpy as np

    boxes = np.asarray(corners, dtype=float).reshape(-1, 4).copy()
    boxes[:, [0, 2]] = (boxes[:, [0, 2]] - place.left) / place.scale_x
    boxes[:, [1, 3]] = (boxes[:, [1, 3]] - place.top) / place.scale_y
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, place.width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, place.height)
    return boxes


def to_input(corners: np.ndarray, place: Geometry) -> np.ndarray:
    """The inverse of to_original (no clipping): original pixels -> input pixels."""
    import numpy as np

    boxes = np.asarray(corners, dtype=float).reshape(-1, 4).copy()
    boxes[:, [0, 2]] = boxes[:, [0, 2]] * place.scale_x + place.left
    boxes[:, [1, 3]] = boxes[:, [1, 3]] * place.scale_y + place.top
    return boxes
