"""vsq.configuration.preprocessing: square mode is the decoder vsq always had; shorter_side is timm's centre crop."""

import json

import numpy as np
import pytest
from PIL import Image, ImageOps

import tiny
from vsq.cache.store import key_of
from vsq.configuration.config import load_config, properties
from vsq.configuration.preprocessing import ImageError, Preprocessing, normalize

FILTERS = properties("preprocessing")["resize"]["enum"]
RED, BLUE = (220, 30, 30), (30, 30, 220)


def centre_and_bands(path, width=300, height=200, band=50):
    """A red image with blue bands `band` pixels wide at its left and right edges."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:] = RED
    pixels[:, :band] = pixels[:, width - band:] = BLUE
    Image.fromarray(pixels).save(path)
    return path


def decode_as_before(path, size, resize):
    """vsq's decoder before modes existed (RGB files): EXIF rotation, then squashed to the square."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        if image.size != (size, size):
            image = image.resize((size, size), getattr(Image.Resampling, resize.upper()))
        return np.asarray(image, dtype=np.uint8)


def test_shorter_side_crops_the_bands_away_square_keeps_them(tmp_path):
    path = centre_and_bands(tmp_path / "wide.png")
    # 70 at 0.875: shorter side 80, 120 x 80, then the centre 70 x 70 = x 62.5..237.5 of the original.
    cropped = Preprocessing(70, "bilinear", mode="shorter_side", crop_pct=0.875).decode(path).pixels
    assert cropped.shape == (70, 70, 3)
    assert (cropped == RED).all()  # not a single band pixel, not even blended at the edges
    squashed = Preprocessing(70, "bilinear").decode(path).pixels
    assert (squashed[:, 0] == BLUE).all() and (squashed[:, -1] == BLUE).all()
    assert (squashed[:, 35] == RED).all()


def test_portrait_image_is_cropped_top_and_bottom(tmp_path):
    pixels = np.asarray(Image.open(centre_and_bands(tmp_path / "wide.png"))).transpose(1, 0, 2)
    Image.fromarray(np.ascontiguousarray(pixels)).save(tmp_path / "tall.png")  # 200 wide, 300 high, bands top/bottom
    cropped = Preprocessing(70, "bicubic", mode="shorter_side").decode(tmp_path / "tall.png").pixels
    assert cropped.shape == (70, 70, 3) and (cropped == RED).all()


def coded_image(path, width, height):
    """Each pixel says where it is: red = 10 * column, green = 10 * row."""
    x, y = np.meshgrid(np.arange(width), np.arange(height))
    Image.fromarray(np.stack([10 * x, 10 * y, np.zeros_like(x)], axis=-1).astype(np.uint8)).save(path)
    return path


def where_from(pixels):
    """(rows, columns) of the original image each output pixel came from (see coded_image)."""
    return pixels[..., 1] // 10, pixels[..., 0] // 10


def test_crop_without_resize_takes_the_exact_centre(tmp_path):
    # crop_pct 0.5 at size 2: shorter side 4, which the 8 x 4 image has already: only the crop happens.
    path = coded_image(tmp_path / "coded.png", 8, 4)
    rows, columns = where_from(Preprocessing(2, "nearest", mode="shorter_side", crop_pct=0.5).decode(path).pixels)
    assert rows.tolist() == [[1, 1], [2, 2]] and columns.tolist() == [[3, 4], [3, 4]]


def test_nearest_resize_then_crop_exact_pixels(tmp_path):
    # 8 x 4 -> shorter side 2 (crop_pct 1): 4 x 2, nearest takes source columns 1, 3, 5, 7 and rows 1, 3;
    # the centre crop of width 2 starts at column round((4 - 2) / 2) = 1: source columns 3 and 5.
    path = coded_image(tmp_path / "coded.png", 8, 4)
    rows, columns = where_from(Preprocessing(2, "nearest", mode="shorter_side", crop_pct=1.0).decode(path).pixels)
    assert rows.tolist() == [[1, 1], [3, 3]] and columns.tolist() == [[3, 5], [3, 5]]


@pytest.mark.parametrize("size, crop_pct, shorter_side", [
    (224, 0.875, 256),  # the SDK notebook's evaluation: resize 256, crop 224
    (224, 1.0, 224),
    (96, 0.875, 109),  # timm floors: 109.7 -> 109
    (299, 0.875, 341),
    (224, 0.95, 235),
])
def test_crop_pct_arithmetic(size, crop_pct, shorter_side):
    assert Preprocessing(size, mode="shorter_side", crop_pct=crop_pct).shorter_side == shorter_side


def test_geometry_follows_torchvision_resize_and_centre_crop():
    preprocessing = Preprocessing(224, mode="shorter_side", crop_pct=0.875)
    # Longer side truncated: 256 * 500 / 375 = 341.3 -> 341; margins rounded: (341 - 224) / 2 = 58.5 -> 58.
    assert preprocessing.geometry(500, 375) == ((341, 256), (58, 16, 282, 240))
    assert preprocessing.geometry(375, 500) == ((256, 341), (16, 58, 240, 282))
    assert preprocessing.geometry(256, 256) == ((256, 256), (16, 16, 240, 240))
    assert Preprocessing(224).geometry(500, 375) == ((224, 224), (0, 0, 224, 224))


@pytest.mark.parametrize("resize", FILTERS)
def test_square_mode_is_the_decoder_vsq_had(tmp_path, resize):
    rng = np.random.default_rng(7)
    path = tmp_path / "noise.jpg"
    Image.fromarray(rng.integers(0, 256, (23, 37, 3), dtype=np.uint8)).save(path)
    expected = decode_as_before(path, 16, resize)
    assert np.array_equal(Preprocessing(16, resize).decode(path).pixels, expected)


def test_square_is_the_default():
    assert Preprocessing(16) == Preprocessing(16, "bilinear", mode="square", crop_pct=0.875, normalization="[0,1]")


def test_cache_key_of_square_mode_is_unchanged():
    preprocessing = Preprocessing(224, "bicubic", normalization="[-1,1]")
    before = {"size": 224, "resize": "bicubic", "mean_std": ((127.5,) * 3, (127.5,) * 3)}
    assert preprocessing.cache_key() == before  # the dict vsq.pipeline.artifacts made: cached entries stay valid
    assert list(preprocessing.cache_key()) == list(before)
    assert key_of(preprocessing=preprocessing.cache_key()) == key_of(preprocessing=before)


def test_cache_key_of_shorter_side_names_the_geometry():
    key = Preprocessing(224, "bilinear", mode="shorter_side", crop_pct=0.875).cache_key()
    assert key == {"size": 224, "resize": "bilinear", "mean_std": ((0.0,) * 3, (255.0,) * 3),
                   "mode": "shorter_side", "shorter_side": 256}
    assert key != Preprocessing(224, "bilinear", mode="shorter_side", crop_pct=1.0).cache_key()
    assert key != Preprocessing(224, "bilinear").cache_key()


def test_exif_rotation_is_applied_before_the_crop(tmp_path):
    pixels = np.zeros((10, 20, 3), np.uint8)
    pixels[:, :10] = (255, 0, 0)  # left half red; shown rotated, the red half is on top of a 10 x 20 portrait
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    Image.fromarray(pixels).save(tmp_path / "photo.jpg", exif=exif, quality=95)
    shown = Preprocessing(10, "nearest", mode="shorter_side", crop_pct=1.0).decode(tmp_path / "photo.jpg").pixels
    assert shown.shape == (10, 10, 3)  # rows 5..15 of the portrait: red above the middle, black below
    assert shown[:4, :, 0].mean() > 200 and shown[-4:, :, 0].mean() < 50


def test_try_decode_returns_the_error(tmp_path):
    (tmp_path / "empty.JPEG").write_bytes(b"")
    for outcome in (Preprocessing(16, mode="shorter_side").try_decode(tmp_path / "empty.JPEG"),
                    Preprocessing(16, "bilinear").try_decode(tmp_path / "empty.JPEG")):
        assert isinstance(outcome, ImageError) and outcome.reason == "is an empty file"


def test_normalize_uses_the_mean_and_std():
    preprocessing = Preprocessing(2, normalization={"mean": [10, 20, 30], "std": [2, 4, 5]})
    out = preprocessing.normalize(np.array([[[10, 20, 30], [12, 28, 40]]], np.uint8))
    assert out.dtype == np.float32 and out.tolist() == [[[0, 0, 0], [1, 2, 2]]]
    assert np.array_equal(out, normalize(np.array([[[10, 20, 30], [12, 28, 40]]], np.uint8), preprocessing.mean_std))


def test_bgr_reverses_the_channels_after_normalizing_with_the_rgb_mean_and_std():
    pixels = np.array([[[10, 20, 30], [12, 28, 40]]], np.uint8)
    mean_std = {"mean": [10, 20, 30], "std": [2, 4, 5]}
    rgb = Preprocessing(2, normalization=mean_std).normalize(pixels)
    bgr = Preprocessing(2, normalization=mean_std, channel_order="BGR").normalize(pixels)
    assert bgr.tolist() == [[[0, 0, 0], [2, 2, 1]]] and np.array_equal(bgr, rgb[..., ::-1])
    assert bgr.flags["C_CONTIGUOUS"]  # TensorFlow and the TFLite interpreters read it as it is
    assert Preprocessing(2).cache_key() == {"size": 2, "resize": "bilinear", "mean_std": ((0.0,) * 3, (255.0,) * 3)}
    assert Preprocessing(2, channel_order="BGR").cache_key()["channel_order"] == "BGR"


def test_programming_errors_are_refused():
    with pytest.raises(ValueError, match="mode 'centre'"):
        Preprocessing(16, mode="centre")
    with pytest.raises(ValueError, match="crop_pct 0"):
        Preprocessing(16, mode="shorter_side", crop_pct=0)
    with pytest.raises(ValueError, match="channel_order 'bgr'"):
        Preprocessing(16, channel_order="bgr")


def test_configuration_builds_the_preprocessing(project):
    path = tiny.write_config(project, preprocessing={"mode": "shorter_side", "crop_pct": 0.8, "resize": "nearest"})
    preprocessing = load_config(path).preprocessing
    assert preprocessing == Preprocessing(tiny.SIZE, "nearest", mode="shorter_side", crop_pct=0.8)
    assert preprocessing.shorter_side == 20
    decoded = preprocessing.decode(project / "images" / "red" / "red_0.jpg")  # 20 x 20: only the crop
    with Image.open(project / "images" / "red" / "red_0.jpg") as image:
        assert np.array_equal(decoded.pixels, np.asarray(image)[2:18, 2:18])
    json.dumps(load_config(path).as_dict())
