"""The one preprocessing: how an image file becomes a model input, for calibration and every evaluation.

Every image becomes RGB (grayscale, palette, CMYK, 16-bit and alpha images are converted and counted),
EXIF rotation is applied, then it is brought to input_tensor_size x input_tensor_size:
- "square" (the default): resized to the square, aspect ratio not kept;
- "shorter_side": the ImageNet evaluation transform as timm writes it (crop_pct): the shorter side is
  resized to floor(size / crop_pct) keeping the aspect ratio, then the centre size x size is cropped
  (224 at crop_pct 0.875: shorter side 256, the SDK notebook's and MobileNet's evaluation);
- "letterbox": YOLO's (vsq.util.letterbox): scaled to fit keeping the aspect ratio, centred on grey 114; what
  detectors trained that way see (a detector's boxes are mapped back to the original image through it).
Last, (pixel - mean) / std per channel (mean and std in r, g, b order), and with channel_order BGR the
channels reversed, as OpenCV-decoded training images had them. A file that cannot be decoded raises ImageError
naming it.

Images come from strangers: only the spec's formats are opened (JPEG, PNG, BMP: Pillow's other readers
widen what a crafted file can reach, and EPS runs Ghostscript), and an image larger than max_image_pixels
(width x height, read from its header) is refused before it is decoded (a 159 KiB PNG can decode to a gigabyte).
Pillow's own decompression-bomb guard stays on. Pillow and numpy are imported when an image is decoded.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vsq.configuration.file import properties, schema_default
from vsq.errors import VsqError

if TYPE_CHECKING:
    import numpy as np

SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
FORMATS = ("JPEG", "PNG", "BMP")  # Pillow's names of the spec's image formats: the only readers vsq lets it use
MAX_IMAGE_PIXELS = properties("preprocessing")["max_image_pixels"]["default"]
MODES = tuple(properties("preprocessing")["mode"]["enum"])
CHANNEL_ORDERS = tuple(properties("preprocessing")["channel_order"]["enum"])
# Named normalizations -> (mean, std) per channel, in 0..255 pixel units.
NAMED = {
    "[0,1]": ((0.0,) * 3, (255.0,) * 3),
    "[-1,1]": ((127.5,) * 3, (127.5,) * 3),
    "[0,255]": ((0.0,) * 3, (1.0,) * 3),
}


class ImageError(VsqError):
    """One image file could not be decoded."""

    def __init__(self, path: Path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class Decoded:
    pixels: np.ndarray  # uint8 (size, size, 3); float32 once normalised
    mode: str  # Pillow mode of the file ("RGB", "L", "P", "CMYK", "RGBA", "I;16", ...)


@dataclass(frozen=True)
class Preprocessing:
    """Decode, RGB, resize (square, or shorter side and centre crop) to size x size, then (pixel - mean) / std,
    then the channels in channel_order.

    Defaults are the schema's (preprocessing.*); vsq.configuration.config builds one from the configuration.
    """

    size: int  # input_tensor_size: side of the model's square input, pixels
    resize: str = schema_default("preprocessing", "resize")  # Pillow filter name
    mode: str = schema_default("preprocessing", "mode")  # "square" or "shorter_side"
    crop_pct: float = schema_default("preprocessing", "crop_pct")  # shorter_side: size / resized shorter side
    normalization: Any = schema_default("preprocessing", "normalization")
    max_image_pixels: int = schema_default("preprocessing", "max_image_pixels")  # width x height of the largest image
    channel_order: str = schema_default("preprocessing", "channel_order")  # "RGB" or "BGR": what the model reads

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.channel_order not in CHANNEL_ORDERS:
            raise ValueError(f"channel_order {self.channel_order!r} is not one of {', '.join(CHANNEL_ORDERS)}")
        if not 0 < self.crop_pct <= 1:
            raise ValueError(f"crop_pct {self.crop_pct} is not within (0, 1]")

    @property
    def mean_std(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Per-channel mean and std in 0..255 pixel units."""
        if isinstance(self.normalization, str):
            return NAMED[self.normalization]
        return tuple(self.normalization["mean"]), tuple(self.normalization["std"])

    @property
    def shorter_side(self) -> int:
        """shorter_side mode: the shorter image side before the crop, pixels; timm's floor(size / crop_pct)."""
        return math.floor(self.size / self.crop_pct)

    def geometry(self, width: int, height: int) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
        """For an image of width x height pixels: the (width, height) to resize to, and the crop box
        (left, top, right, bottom) in the resized image that gives size x size."""
        if self.mode == "square":
            return (self.size, self.size), (0, 0, self.size, self.size)
        # torchvision's Resize(int): the longer side is scaled by the same ratio and truncated ...
        short, long = sorted((width, height))
        new_long = int(self.shorter_side * long / short)
        new = (self.shorter_side, new_long) if width <= height else (new_long, self.shorter_side)
        # ... and its CenterCrop rounds the margins.
        left, top = (int(round((side - self.size) / 2.0)) for side in new)
        return new, (left, top, left + self.size, top + self.size)

    def decode(self, path: Path) -> Decoded:
        """The file as uint8 RGB pixels (size, size, 3), with its Pillow mode; or raise ImageError saying why not."""
        import numpy as np
        from PIL import Image

        with rgb_image(path, self.max_image_pixels) as (image, mode):
            if self.mode == "letterbox":
                from vsq.util.letterbox import resize

                return Decoded(np.asarray(resize(image, self.size, "letterbox", getattr(Image.Resampling,
                                                                                        self.resize.upper())),
                                          dtype=np.uint8), mode)
            resized, box = self.geometry(*image.size)
            if image.size != resized:
                image = image.resize(resized, getattr(Image.Resampling, self.resize.upper()))
            if box != (0, 0, *resized):
                image = image.crop(box)
            return Decoded(np.asarray(image, dtype=np.uint8), mode)

    def try_decode(self, path: Path) -> Decoded | ImageError:
        """decode(), returning the error instead of raising it: callers decode many files in threads and
        report every failure at once."""
        try:
            return self.decode(path)
        except ImageError as error:
            return error

    def normalize(self, pixels: np.ndarray) -> np.ndarray:
        """uint8 RGB pixels (..., 3) -> float32 model input: (pixel - mean) / std per channel, then the channels
        in channel_order."""
        out = normalize(pixels, self.mean_std)
        return out[..., ::-1].copy() if self.channel_order == "BGR" else out

    def cache_key(self) -> dict:
        """What decoded and normalised inputs depend on, for cache keys. Mode square gives the key vsq used
        before modes existed, so cached artifacts stay valid."""
        key = {"size": self.size, "resize": self.resize, "mean_std": self.mean_std}
        if self.mode == "letterbox":
            key.update(mode=self.mode)
        elif self.mode != "square":
            key.update(mode=self.mode, shorter_side=self.shorter_side)
        if self.max_image_pixels != MAX_IMAGE_PIXELS:  # which images decode (the default keeps earlier keys)
            key.update(max_image_pixels=self.max_image_pixels)
        if self.channel_order != "RGB":
            key.update(channel_order=self.channel_order)
        return key


@contextlib.contextmanager
def rgb_image(path: Path, max_pixels: int = MAX_IMAGE_PIXELS):
    """(Pillow RGB image, the file's Pillow mode) of a JPEG, PNG or BMP file, EXIF rotation applied; what goes
    wrong while it is opened, decoded or used in the block raises ImageError saying why."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with open_image(path, max_pixels) as image:
            mode = image.mode
            image = ImageOps.exif_transpose(image)  # photos from cameras carry their rotation in EXIF
            yield as_8bit_rgb(image), mode
    except Image.DecompressionBombError as error:
        raise ImageError(path, f"is too large to decode safely ({error})") from None
    except UnidentifiedImageError:
        empty = Path(path).stat().st_size == 0 if Path(path).exists() else False
        raise ImageError(path, "is an empty file" if empty else "is not a JPEG, PNG or BMP image (the formats vsq "
                         "opens); convert it to one of them") from None
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt data, unreadable file
        raise ImageError(path, f"cannot be decoded ({error})") from None


def open_image(path: Path, max_pixels: int = MAX_IMAGE_PIXELS):
    """Pillow's image of a JPEG, PNG or BMP file, its header read, nothing decoded yet; ImageError for an image
    of more than max_pixels (width x height) and PIL.UnidentifiedImageError for any other format."""
    from PIL import Image

    image = Image.open(path, formats=FORMATS)
    pixels = image.width * image.height
    if pixels > max_pixels:
        image.close()
        raise ImageError(path, f"is {image.width} x {image.height} = {pixels:,} pixels, more than "
                         f"preprocessing.max_image_pixels ({max_pixels:,}); shrink it, or raise the limit")
    return image


def as_8bit_rgb(image):
    """Convert any Pillow mode to RGB; 16-bit grayscale is scaled to 8 bits, not clipped."""
    import numpy as np
    from PIL import Image

    if image.mode in SIXTEEN_BIT_MODES:
        wide = np.asarray(image, dtype=np.uint32)
        image = Image.fromarray((wide >> 8 if wide.max() > 255 else wide).astype(np.uint8), mode="L")
    return image.convert("RGB") if image.mode != "RGB" else image


def normalize(pixels: np.ndarray, mean_std: tuple) -> np.ndarray:
    """uint8 pixels (..., 3) -> float32 model input: (pixel - mean) / std, per channel (0..255 units)."""
    import numpy as np

    mean, std = (np.asarray(v, dtype=np.float32) for v in mean_std)
    return (pixels.astype(np.float32) - mean) / std


def describe_failures(errors: list[ImageError], what: str, fix: str) -> str:
    """'3 calibration images could not be decoded: a.jpg: ...; b.jpg: ... (and 1 more); <fix>'."""
    shown = "; ".join(str(error) for error in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    noun = "image" if len(errors) == 1 else "images"
    return f"{len(errors)} {what} {noun} could not be decoded: {shown}{more}; {fix}"
