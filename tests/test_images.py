"""vsq.images and the engine on bad image files: each case gets its message and a defined outcome."""

import io
import json

import numpy as np
import pytest
from PIL import Image

import tiny
from vsq.pipeline import evaluate
from vsq.errors import VsqError
from vsq.configuration.preprocessing import ImageError, Preprocessing
from vsq.pipeline.job import prepare


def jpeg_bytes(colour=(200, 20, 20), size=(20, 20)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize("content, words", [
    (jpeg_bytes()[:60], "cannot be decoded"),  # truncated inside the headers
    (b"GIF89a" + b"\0" * 10, "is not a JPEG, PNG or BMP image"),  # says GIF, is not
    (b"this is a text file", "is not a JPEG, PNG or BMP image"),
    (b"", "is an empty file"),
], ids=["truncated", "corrupt", "not-an-image", "empty"])
def test_undecodable_files_are_named(tmp_path, content, words):
    path = tmp_path / "bad.JPEG"
    path.write_bytes(content)
    with pytest.raises(ImageError) as caught:
        Preprocessing(16, "bilinear").decode(path).pixels
    assert str(caught.value).startswith(f"{path}: ") and words in str(caught.value)
    with pytest.raises(ImageError, match=words):  # the same decoder in every mode
        Preprocessing(16, mode="shorter_side").decode(path)


@pytest.mark.parametrize("mode, make", [
    ("L", lambda: Image.new("L", (20, 20), 128)),
    ("P", lambda: Image.new("RGB", (20, 20), (0, 128, 255)).convert("P")),
    ("CMYK", lambda: Image.new("CMYK", (20, 20), (0, 128, 255, 0))),
    ("RGBA", lambda: Image.new("RGBA", (20, 20), (10, 20, 30, 128))),
    ("I;16", lambda: Image.fromarray(np.full((20, 20), 40000, np.uint16))),
])
def test_other_modes_become_rgb_and_are_reported(tmp_path, mode, make):
    path = tmp_path / ("x.jpg" if mode == "CMYK" else "x.png")
    make().save(path)
    decoded = Preprocessing(16, "bilinear").decode(path)
    assert decoded.mode == mode
    assert decoded.pixels.shape == (16, 16, 3) and decoded.pixels.dtype == np.uint8
    if mode == "I;16":
        assert decoded.pixels.max() == 40000 >> 8  # scaled to 8 bits, not clipped to 255


def test_the_gallery_shows_a_16_bit_grey_image_as_the_model_sees_it(tmp_path):
    from vsq.configuration.preprocessing import as_8bit_rgb
    from vsq.reporting.gallery import scaled_image

    Image.fromarray(np.full((20, 20), 40000, np.uint16)).save(tmp_path / "grey.png")
    image, scale = scaled_image(str(tmp_path / "grey.png"), 20)
    assert scale == 1 and np.asarray(image).max() == 40000 >> 8  # scaled to 8 bits, not clipped to 255
    assert np.array_equal(np.asarray(image), np.asarray(as_8bit_rgb(Image.open(tmp_path / "grey.png"))))


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.zeros((10, 20, 3), np.uint8)
    pixels[:, :10] = (255, 0, 0)  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    Image.fromarray(pixels).save(tmp_path / "photo.jpg", exif=exif, quality=95)
    shown = Preprocessing(20, "nearest").decode(tmp_path / "photo.jpg").pixels
    assert shown[:5, :, 0].mean() > 200 and shown[-5:, :, 0].mean() < 50  # red is now on top


def test_decompression_bomb_is_an_error_not_a_crash(tmp_path, monkeypatch):
    Image.new("RGB", (300, 300)).save(tmp_path / "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100 * 100 // 2)  # the real guard, with a small limit
    with pytest.raises(ImageError, match="too large to decode safely"):
        Preprocessing(16, "bilinear").decode(tmp_path / "huge.png").pixels


def predictor(images):
    """Mean colour -> class, like the tiny model: tests the engine without a model file."""
    means = images.mean(axis=(1, 2))
    return means[:, [2, 1, 0]]  # ids: blue 0, green 1, red 2


def broken_project(project):
    (project / "evaluate" / "images" / "red" / "red_0.JPEG").write_bytes(b"")
    (project / "evaluate" / "images" / "red" / "red_1.JPEG").write_bytes(jpeg_bytes()[:60])
    return prepare(tiny.write_config(project))


def test_unreadable_evaluation_images_fail_by_default(project):
    job = broken_project(project)
    with pytest.raises(VsqError) as caught:
        evaluate.evaluate_models({"m": predictor}, job.config, job.evaluation_set)
    message = str(caught.value)
    assert message.startswith("2 evaluation images could not be decoded: ")
    assert "red_0.JPEG: is an empty file" in message and "red_1.JPEG" in message
    assert '"unreadable_images": "skip"' in message


def test_unreadable_evaluation_images_can_be_skipped_and_counted(project):
    job = broken_project(project)
    results = evaluate.evaluate_models({"m": predictor}, job.config, job.evaluation_set, skip_unreadable=True)
    assert len(results["m"].labels) == 34 and results["m"].top1 == 1.0
    assert [path.split("/")[-1] for path, _ in results["m"].skipped] == ["red_0.JPEG", "red_1.JPEG"]


def test_grayscale_evaluation_images_are_counted(project):
    Image.new("L", (20, 20), 100).save(project / "evaluate" / "images" / "red" / "red_0.JPEG", format="JPEG")
    job = prepare(tiny.write_config(project))
    results = evaluate.evaluate_models({"m": predictor}, job.config, job.evaluation_set)
    assert results["m"].modes == {"RGB": 35, "L": 1}
    json.dumps(results["m"].modes)  # goes into results.json as is
