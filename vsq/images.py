"""Decoding functions by size and filter, for callers that do not use vsq.preprocessing.Preprocessing yet.

They decode in mode "square" only (a configuration's mode and crop_pct are not passed here): callers that
decode for a configuration should use `config.preprocessing.decode(path)` / `.try_decode(path)` /
`.normalize(pixels)` instead. The decoder itself lives in vsq.preprocessing; this module adds no logic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vsq.preprocessing import (  # noqa: F401 (re-exported for existing callers)
    SIXTEEN_BIT_MODES,
    Decoded,
    ImageError,
    Preprocessing,
    describe_failures,
    normalize,
)


def decode_image(path: Path, size: int, resize: str) -> Decoded:
    """Decode a file to RGB uint8, size x size (squashed to the square), or raise ImageError saying why not."""
    return Preprocessing(size, resize).decode(path)


def try_decode(path: Path, size: int, resize: str) -> Decoded | ImageError:
    """decode_image(), returning the error instead of raising it."""
    return Preprocessing(size, resize).try_decode(path)


def decode(path: Path, size: int, resize: str) -> np.ndarray:
    """The pixels of decode_image(): uint8 (size, size, 3)."""
    return decode_image(path, size, resize).pixels
