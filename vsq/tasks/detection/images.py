"""An evaluation image as a detector sees it: decoded once (the one preprocessing's safe opening, EXIF rotation,
RGB), resized by stretch or YOLO's letterbox (vsq.util.letterbox), with the original size the boxes are
mapped back to. Normalisation is the configuration's (Preprocessing.normalize), applied by the caller."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vsq.configuration.preprocessing import Preprocessing, rgb_image
from vsq.util import letterbox

if TYPE_CHECKING:
    import numpy as np


def decode(path: Path, preprocessing: Preprocessing, resize: str) -> tuple[np.ndarray, tuple[int, int]]:
    """(uint8 RGB pixels (size, size, 3), (width, height) of the image as annotated); ImageError when the file
    cannot be decoded."""
    import numpy as np
    from PIL import Image

    with rgb_image(path, preprocessing.max_image_pixels) as (image, _):
        size = image.size
        shown = letterbox.resize(image, preprocessing.size, resize,
                                 getattr(Image.Resampling, preprocessing.resize.upper()))
        return np.asarray(shown, dtype=np.uint8), size
