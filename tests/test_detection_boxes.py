"""vsq.util.letterbox, vsq.tasks.detection boxes and screen: resizing, decoding the post-processing's output, and the
known-answer screen that names the box-format setting to change."""

import numpy as np
import pytest
from PIL import Image

import tiny_detection
from vsq.tasks.detection import screen
from vsq.util import letterbox
from vsq.tasks.detection.boxes import BoxFormat, Raw, decode

SIZE = 64


def test_letterbox_geometry_is_yolos():
    place = letterbox.geometry(640, 480, 640, "letterbox")
    assert (place.resized, place.left, place.top, place.scale_x) == ((640, 480), 0, 80, 1.0)
    place = letterbox.geometry(128, 97, 64, "letterbox")  # 48.5 rows -> 48, padding 16: 8 above, 8 below
    assert (place.resized, place.left, place.top) == ((64, 48), 0, 8)
    place = letterbox.geometry(100, 40, 64, "letterbox")  # 25.6 -> 26 rows, padding 38 -> 19 and 19
    assert (place.resized, place.top) == ((64, 26), 19)
    assert letterbox.geometry(128, 96, 64, "stretch").scale_y == pytest.approx(64 / 96)
    with pytest.raises(ValueError, match="unknown resize 'crop'"):
        letterbox.geometry(1, 1, 1, "crop")


@pytest.mark.parametrize("resize", letterbox.RESIZES)
def test_boxes_map_back_to_the_original_image(resize):
    place = letterbox.geometry(128, 96, SIZE, resize)
    corners = np.array([[10.0, 20.0, 50.0, 90.0], [0.0, 0.0, 128.0, 96.0]])
    assert letterbox.to_original(letterbox.to_input(corners, place), place) == pytest.approx(corners)
    assert letterbox.to_original(np.array([[-5.0, -5.0, 99.0, 99.0]]), place).max() <= 128  # clipped


def test_letterbox_image_is_padded_grey_and_centred():
    image = Image.new("RGB", (128, 96), (255, 0, 0))
    out = np.asarray(letterbox.resize(image, SIZE, "letterbox"))
    assert out.shape == (SIZE, SIZE, 3)
    assert (out[:8] == 114).all() and (out[-8:] == 114).all() and (out[8:56] == (255, 0, 0)).all()
    assert np.asarray(letterbox.resize(image, SIZE, "stretch")).shape == (SIZE, SIZE, 3)


def perfect_raw(truth, image, form: BoxFormat, size=SIZE) -> Raw:
    """What a perfect detector's post-processing gives for one image, written in `form`."""
    objects = [a for a in truth["annotations"] if a["image_id"] == image["id"]]
    corners = np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in objects)]).reshape(-1, 4)
    boxes = letterbox.to_input(corners, letterbox.geometry(image["width"], image["height"], size, form.resize))
    if form.normalized:
        boxes = boxes / size
    if form.box_order == "yxyx":
        boxes = boxes[:, [1, 0, 3, 2]]
    padded = np.zeros((10, 4))
    padded[:len(boxes)] = boxes
    classes = np.zeros(10)
    classes[:len(objects)] = [a["category_id"] - form.class_offset for a in objects]
    return Raw(boxes=padded, scores=np.r_[np.full(len(objects), 0.9), np.zeros(10 - len(objects))],
               classes=classes, count=len(objects))


@pytest.fixture(scope="module")
def truth():
    return tiny_detection.ground_truth(24, np.random.default_rng(8))


def test_decode_gives_back_the_annotations(truth):
    form = BoxFormat("yxyx", True, 1, "letterbox")
    image = truth["images"][0]
    found = decode(perfect_raw(truth, image, form), image["id"], image["width"], image["height"], SIZE, form)
    expected = [a for a in truth["annotations"] if a["image_id"] == image["id"]]
    assert [d["category_id"] for d in found] == [a["category_id"] for a in expected]
    assert [d["bbox"] for d in found] == [pytest.approx(a["bbox"]) for a in expected]
    assert decode(perfect_raw(truth, image, form), 1, 128, 96, SIZE, form, min_score=0.95) == []


def run_screen(truth, written: BoxFormat, configured: BoxFormat, resizes=None):
    resizes = resizes or {configured.resize: written}
    raw = {resize: [perfect_raw(truth, image, as_written) for image in truth["images"]]
           for resize, as_written in resizes.items()}
    return screen.screen(truth, truth["images"], raw, SIZE, configured)


def test_the_right_format_needs_no_change(truth):
    right = BoxFormat("yxyx", True, 1, "stretch")
    found = run_screen(truth, right, right)
    assert (found.change, found.clearly_better, found.configured) == ({}, False, pytest.approx(1.0))
    assert "no other reading" in found.advice()


@pytest.mark.parametrize("configured, change", [
    (BoxFormat("xyxy", True, 1), {"box_order": "yxyx"}),
    (BoxFormat("yxyx", False, 1), {"normalized": True}),
    (BoxFormat("yxyx", True, 0), {"class_offset": 1}),
    (BoxFormat("yxyx", True, 2), {"class_offset": 1}),
    (BoxFormat("xyxy", False, 0), {"box_order": "yxyx", "normalized": True, "class_offset": 1}),
])
def test_a_wrong_setting_is_named_with_its_fix(truth, configured, change):
    found = run_screen(truth, BoxFormat("yxyx", True, 1), configured)
    assert found.change == change and found.clearly_better
    assert found.configured < 0.5 and found.best == pytest.approx(1.0)
    assert "set detection." in found.advice()


def test_a_letterbox_model_fed_stretched_images_is_caught_when_both_resizes_ran(truth):
    # The model was trained on letterboxed images: on either input it answers in letterbox coordinates.
    written = BoxFormat("yxyx", True, 1, "letterbox")
    found = run_screen(truth, written, BoxFormat("yxyx", True, 1, "stretch"),
                       resizes={"stretch": written, "letterbox": written})
    assert found.change == {"resize": "letterbox"} and found.clearly_better
    assert found.advice().endswith('set preprocessing.mode "letterbox"')  # where a run's resize is configured


def test_the_sample_is_bounded_and_spread():
    assert screen.sample(range(10), 32) == list(range(10))
    assert screen.sample(range(100), 4) == [0, 25, 50, 75]


def test_a_model_that_finds_nothing_gets_no_advice(truth):
    rng = np.random.default_rng(1)
    noise = [Raw(boxes=rng.uniform(0, 1, (10, 4)), scores=rng.uniform(0, 1, 10), classes=rng.integers(0, 3, 10),
                 count=10) for _ in truth["images"]]
    found = screen.screen(truth, truth["images"], {"stretch": noise}, SIZE, BoxFormat())
    assert not found.clearly_better and found.best < 0.1
    assert "no other reading" in found.advice()


def test_non_finite_outputs_are_no_detections():
    raw = Raw(boxes=np.array([[0.1, 0.1, 0.5, 0.5], [np.nan, 0.1, 0.5, 0.5], [0.1, 0.1, 0.5, 0.5],
                              [0.1, 0.1, 0.5, 0.5]]),
              scores=np.array([0.9, 0.9, np.nan, 0.9]), classes=np.array([0.0, 1.0, 1.0, np.inf]), count=99)
    assert [d["category_id"] for d in decode(raw, 1, 128, 96, SIZE, BoxFormat())] == [1]


def test_the_screen_advises_only_class_offsets_the_schema_accepts():
    import json
    from pathlib import Path

    schema = json.loads((Path(__file__).parents[1] / "vsq/configuration/schema/configuration.schema.json").read_text())
    offset = schema["properties"]["detection"]["properties"]["class_offset"]
    assert screen.CLASS_OFFSETS == (offset["minimum"], offset["maximum"])
    for configured in screen.CLASS_OFFSETS:
        tried = {form.class_offset for form in screen.readings(BoxFormat("yxyx", True, configured, "stretch"), ["stretch"])}
        assert min(tried) >= offset["minimum"] and max(tried) <= offset["maximum"] and len(tried) == 2
