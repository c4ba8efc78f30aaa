"""vsq.reporting.detection_gallery: the most changed images drawn with both models' boxes, from results.json."""

import base64
import io

import numpy as np
from PIL import Image

from vsq.reporting.detection_gallery import FLOAT_COLOUR, QUANTIZED_COLOUR, boxes_data_uri, changes_html


def picture(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))


def test_both_models_boxes_are_drawn_in_their_colours(tmp_path):
    Image.new("RGB", (128, 96), (255, 255, 255)).save(tmp_path / "a.png")
    drawn = picture(boxes_data_uri(str(tmp_path / "a.png"), [[1, 0.9, 8, 8, 40, 40]], [[1, 0.8, 70, 40, 40, 40]],
                                   side=128))
    assert drawn.shape == (96, 128, 3)
    assert (drawn[8:48, 8] == FLOAT_COLOUR).all(axis=1).mean() > 0.9  # the float box's left edge, solid
    assert 0.3 < (drawn[40:80, 70] == QUANTIZED_COLOUR).all(axis=1).mean() < 0.7  # the quantized one's, dashed
    assert (drawn[60, 20] == (255, 255, 255)).all()


def test_the_gallery_embeds_only_granted_images_and_survives_a_crafted_document(tmp_path):
    Image.new("RGB", (64, 64)).save(tmp_path / "a.png")
    row = {"image_id": 3, "change": 0.5, "reference": 2, "candidate": 1, "matched": 1, "file": str(tmp_path / "a.png"),
           "reference_boxes": [[1, 0.9, 1, 1, 10, 10]], "candidate_boxes": [[1, 0.9, 1, 1, 1e300, -1e300]]}
    shown = changes_html("cfg", {"changes": [row]}, folders=[tmp_path])
    assert "data:image/png;base64," in shown and "image 3: change 0.50" in shown
    assert "data:image" not in changes_html("cfg", {"changes": [row]}, folders=[tmp_path / "other"])
    crafted = [{"image_id": "<script>", "change": "x", "file": 5, "reference_boxes": [["a"] * 6, [1] * 7],
                "candidate_boxes": "no"}, "not a row"]
    page = changes_html("<b>", {"changes": crafted}, folders=[tmp_path])
    assert "<script>" not in page and "&lt;b&gt;" in page and "image ?: change ?" in page
    assert "no image changed" in changes_html("cfg", {"changes": []})


def test_a_large_rotated_jpeg_is_drawn_shrunk_upright_with_its_boxes_where_the_upright_image_has_them(tmp_path):
    """The boxes are in the upright image's pixels (the model sees the image EXIF-rotated); the thumbnail is the
    gallery's (vsq.reporting.gallery.scaled_image: a JPEG decoded at a reduced scale), so the boxes scale with it."""
    stored = Image.new("RGB", (400, 800), (255, 255, 255))  # upright (orientation 6: turned 90°): 800 x 400
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(tmp_path / "a.jpg", exif=exif, quality=95)
    drawn = picture(boxes_data_uri(str(tmp_path / "a.jpg"), [[1, 0.9, 400, 200, 200, 100]], [], side=200))
    assert drawn.shape == (100, 200, 3)  # upright, longer side 200: a scale of 1/4
    assert np.abs(drawn[50:75, 100].astype(int) - FLOAT_COLOUR).max(axis=1).mean() < 40  # left edge at x 400 / 4
    assert (drawn[20, 20] > 200).all()


def test_a_16_bit_grey_image_is_drawn_scaled_as_the_model_sees_it_not_clipped_white(tmp_path):
    Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)).save(tmp_path / "a.png")
    drawn = picture(boxes_data_uri(str(tmp_path / "a.png"), [], [], side=64))
    assert drawn[:16].mean() < 40 and drawn[-16:].mean() > 200  # a ramp, dark to light


def test_an_image_not_shown_says_why(tmp_path):
    Image.new("RGB", (64, 64)).save(tmp_path / "a.png")
    row = {"file": str(tmp_path / "a.png"), "reference_boxes": [], "candidate_boxes": []}
    assert "outside the image folders given" in changes_html("cfg", {"changes": [row]}, folders=[tmp_path / "x"])
    assert "no image folder was given" in changes_html("cfg", {"changes": [row]})
    (tmp_path / "b.png").write_bytes(b"not an image")
    broken = changes_html("cfg", {"changes": [{**row, "file": str(tmp_path / "b.png")}]}, folders=[tmp_path])
    assert "image not available here" in broken
