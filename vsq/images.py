"""Decoding image files into model inputs: one preprocessing for calibration and evaluation.

Every image becomes RGB (grayscale, palette, CMYK, 16-bit and alpha images are converted and
counted), EXIF rotation is applied, and it is resized to a square. A file that cannot be decoded
raises ImageError naming it; Pillow's decompression-bomb guard stays on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vsq.errors import VsqError

SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


class ImageError(VsqError):
    """One image file could not be decoded."""

    def __init__(self, path: Path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class Decoded:
    pixels: np.ndarray  # uint8 (size, size, 3)
    mode: str  # Pillow mode of the file ("RGB", "L", "P", "CMYK", "RGBA", "I;16", ...)


def decode_image(path: Path, size: int, resize: str) -> Decoded:
    """Decode a file to RGB uint8, size x size, or raise ImageError saying why not."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            mode = image.mode
            image = ImageOps.exif_transpose(image)  # photos from cameras carry their rotation in EXIF
            image = _to_rgb(image)
            if image.size != (size, size):
                image = image.resize((size, size), getattr(Image.Resampling, resize.upper()))
            return Decoded(np.asarray(image, dtype=np.uint8), mode)
    except Image.DecompressionBombError as error:
        raise ImageError(path, f"is too large to decode safely ({error})") from None
    except UnidentifiedImageError:
        empty = Path(path).stat().st_size == 0 if Path(path).exists() else False
        raise ImageError(path, "is an empty file" if empty else "is not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt data, unreadable file
        raise ImageError(path, f"cannot be decoded ({error})") from None


def _to_rgb(image):
    """Convert any Pillow mode to RGB; 16-bit grayscale is scaled to 8 bits, not clipped."""
    from PIL import Image

    if image.mode in SIXTEEN_BIT_MODES:
        wide = np.asarray(image, dtype=np.uint32)
        image = Image.fromarray((wide >> 8 if wide.max() > 255 else wide).astype(np.uint8), mode="L")
    return image.convert("RGB") if image.mode != "RGB" else image


def try_decode(path: Path, size: int, resize: str) -> Decoded | ImageError:
    """decode_image(), returning the error instead of raising it: callers decode many files in
    threads and report every failure at once."""
    try:
        return decode_image(path, size, resize)
    except ImageError as error:
        return error


def decode(path: Path, size: int, resize: str) -> np.ndarray:
    """The pixels of decode_image(): uint8 (size, size, 3)."""
    return decode_image(path, size, resize).pixels


def normalize(pixels: np.ndarray, mean_std: tuple) -> np.ndarray:
    """uint8 pixels (..., 3) -> float32 model input: (pixel - mean) / std, per channel."""
    mean, std = (np.asarray(v, dtype=np.float32) for v in mean_std)
    return (pixels.astype(np.float32) - mean) / std


def describe_failures(errors: list[ImageError], what: str, fix: str) -> str:
    """'3 calibration images could not be decoded: a.jpg: ...; b.jpg: ... (and 1 more); <fix>'."""
    shown = "; ".join(str(error) for error in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    noun = "image" if len(errors) == 1 else "images"
    return f"{len(errors)} {what} {noun} could not be decoded: {shown}{more}; {fix}"
