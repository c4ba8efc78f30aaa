"""vsq.configuration.datasets: the calibration walk, the ImageNet folder with labels.json, decoding."""

import json
import os

import numpy as np
import pytest

import tiny
from vsq.configuration.config import load_config
from vsq.configuration.datasets import calibration_indices, natural_key, scan_calibration, scan_evaluation
from vsq.configuration.preprocessing import Preprocessing, normalize
from vsq.errors import ConfigError
from vsq.pipeline.job import prepare


def config_of(project, **overrides):
    return load_config(tiny.write_config(project, **overrides))


def test_calibration_takes_every_image_at_any_depth_sorted(project):
    rng = np.random.default_rng(0)
    tiny.write_image(project / "images" / "red" / "deep" / "deeper" / "x.png", "red", rng)
    (project / "images" / "notes.txt").write_text("not an image")
    paths = scan_calibration(config_of(project))
    assert len(paths) == 3 * 12 + 1
    assert project / "images" / "red" / "deep" / "deeper" / "x.png" in paths
    relative = [p.relative_to(project / "images").as_posix() for p in paths]
    assert relative == sorted(relative, key=natural_key)
    assert relative.index("blue/blue_2.jpg") < relative.index("blue/blue_10.jpg")


def test_evaluation_set_matches_labels(project):
    evaluation = scan_evaluation(config_of(project))
    assert evaluation.class_names == tiny.CLASSES
    assert len(evaluation.paths) == 36
    assert all(evaluation.class_names[label] == path.parent.name
               for path, label in zip(evaluation.paths, evaluation.labels))


def test_labels_with_bom_accepted(project):
    labels = project / "evaluate" / "labels.json"
    labels.write_bytes(b"\xef\xbb\xbf" + labels.read_bytes())
    assert scan_evaluation(config_of(project)).num_classes == 3


def test_class_names_with_spaces_and_non_ascii(project):
    root = project / "evaluate" / "images"
    os.rename(root / "red", root / "rote Äpfel")
    (project / "evaluate" / "labels.json").write_text(
        json.dumps({"blue": 0, "green": 1, "rote Äpfel": 2}, ensure_ascii=False), encoding="utf-8")
    assert scan_evaluation(config_of(project)).class_names[2] == "rote Äpfel"


LABEL_CASES = [
    ("duplicate-id", '{"blue": 0, "green": 0, "red": 2}', "'blue' and 'green' have the same id"),
    ("duplicate-name", '{"blue": 0, "blue": 1, "red": 2}', "class 'blue' appears twice"),
    ("string-id", '{"blue": "0", "green": 1, "red": 2}', "the id of 'blue' is a string"),
    ("float-id", '{"blue": 0.5, "green": 1, "red": 2}', "ids must be integers"),
    ("gap", '{"blue": 0, "green": 1, "red": 3}', "ids must be exactly 0..2 for 3 classes; the id of 'red' is outside"),
    ("list", '["blue", "green", "red"]', "must be a non-empty object"),
    ("empty", "{}", "must be a non-empty object"),
    ("invalid-json", '{"blue": 0,', "is not valid JSON"),
    ("deep-nesting", "[" * 100_000, "cannot be read (maximum recursion depth exceeded"),
    ("huge-id", '{"blue": ' + "9" * 5000 + "}", "cannot be read (Exceeds the limit (4300 digits)"),
    # Refused by name: a class name is joined to evaluate_image_dir as one folder.
    ("name-with-slash", '{"blue": 0, "gr/een": 1, "red": 2}', "class 'gr/een' cannot name a folder of "
     'evaluate_image_dir: a class name must not be empty, "." or "..", nor hold a path separator (/ or \\); '
     "rename the class and its folder"),
    ("name-with-backslash", '{"blue": 0, "gr\\\\een": 1, "red": 2}', "class 'gr\\\\een' cannot name a folder"),
    ("name-leaving-the-folder", '{"blue": 0, "../green": 1, "red": 2}', "class '../green' cannot name a folder"),
    ("name-dot-dot", '{"blue": 0, "..": 1, "red": 2}', "class '..' cannot name a folder"),
    ("name-dot", '{"blue": 0, ".": 1, "red": 2}', "class '.' cannot name a folder"),
    ("name-empty", '{"blue": 0, "": 1, "red": 2}', "class '' cannot name a folder"),
]


@pytest.mark.parametrize("text, words", [c[1:] for c in LABEL_CASES], ids=[c[0] for c in LABEL_CASES])
def test_bad_labels_json(project, text, words):
    (project / "evaluate" / "labels.json").write_text(text)
    with pytest.raises(ConfigError) as caught:
        scan_evaluation(config_of(project))
    assert caught.value.key == "evaluate_label_file"
    assert words in str(caught.value)
    assert "labels.json" in str(caught.value)


def test_class_folder_without_label(project):
    tiny.write_image(project / "evaluate" / "images" / "purple" / "p.JPEG", "red", np.random.default_rng(0))
    with pytest.raises(ConfigError, match=r"class folder .*purple has no label"):
        scan_evaluation(config_of(project))


def test_label_without_folder(project):
    (project / "evaluate" / "labels.json").write_text('{"blue": 0, "green": 1, "red": 2, "white": 3}')
    with pytest.raises(ConfigError, match=r"label 'white' .* has no folder"):
        scan_evaluation(config_of(project))


def test_empty_class_folder(project):
    for path in (project / "evaluate" / "images" / "green").iterdir():
        path.unlink()
    with pytest.raises(ConfigError, match=r"class folder .*green has no .JPEG image"):
        scan_evaluation(config_of(project))


def test_extension_is_case_sensitive_and_lists_what_is_there(project):
    with pytest.raises(ConfigError) as caught:
        scan_evaluation(config_of(project, evaluate_image_extension="jpeg"))
    assert caught.value.key == "evaluate_image_extension"
    assert "found 36 .JPEG" in str(caught.value) and "case-sensitive" in str(caught.value)


def test_extension_with_leading_dot_accepted(project):
    assert len(scan_evaluation(config_of(project, evaluate_image_extension=".JPEG")).paths) == 36


def test_fewer_calibration_images_than_batch_size(project):
    with pytest.raises(ConfigError, match=r"batch_size: 40 is more than the 36 images"):
        scan_calibration(config_of(project, batch_size=40))


def test_no_calibration_image(project):
    empty = project / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="holds no image"):
        scan_calibration(config_of(project, dataset_image_dir="empty"))


def test_symbolic_link_inside_a_tree_refused(project):
    (project / "images" / "red" / "alias.jpg").symlink_to(project / "images" / "red" / "red_0.jpg")
    with pytest.raises(ConfigError, match=r"alias.jpg is a symbolic link"):
        scan_calibration(config_of(project))


def test_prepare_finds_every_calibration_image_and_every_class(project):
    job = prepare(tiny.write_config(project))
    assert len(job.calibration_images) == 36 and job.evaluation_set.num_classes == 3


def test_decode_resizes_to_rgb_square(project):
    pixels = Preprocessing(16, "bilinear").decode(project / "images" / "red" / "red_0.jpg").pixels
    assert pixels.shape == (16, 16, 3) and pixels.dtype == np.uint8
    assert pixels[..., 0].mean() > pixels[..., 2].mean() + 100  # still red after resize


def test_decode_converts_grayscale(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((8, 8), 200, np.uint8), mode="L").save(tmp_path / "g.png")
    assert Preprocessing(4, "nearest").decode(tmp_path / "g.png").pixels.tolist() == np.full((4, 4, 3), 200).tolist()


@pytest.mark.parametrize("mean_std, expected", [
    (((0,) * 3, (255,) * 3), (0.0, 1.0)),
    (((127.5,) * 3, (127.5,) * 3), (-1.0, 1.0)),
    (((0,) * 3, (1,) * 3), (0.0, 255.0)),
])
def test_normalize_ranges(mean_std, expected):
    out = normalize(np.array([[0, 0, 0], [255, 255, 255]], np.uint8), mean_std)
    assert out.dtype == np.float32
    assert (out[0, 0], out[1, 0]) == pytest.approx(expected)


def test_calibration_sampling_is_seeded_and_without_repeats():
    first = calibration_indices(100, 10, 5, seed=7)
    assert [b.tolist() for b in first] == [b.tolist() for b in calibration_indices(100, 10, 5, seed=7)]
    assert [b.tolist() for b in first] != [b.tolist() for b in calibration_indices(100, 10, 5, seed=8)]
    assert len(first) == 5 and all(len(set(b.tolist())) == 10 for b in first)


def test_a_coco_annotations_file_without_the_detection_task_says_to_set_it(project):
    """A detector's annotations.json given while the configuration forgot "task": "detection" is recognised as a
    COCO document when prepare() reads the labels, not refused for an id that is a list."""
    coco = {"images": [{"id": 1, "file_name": "red_0.jpg", "width": 8, "height": 8}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "area": 16,
                             "iscrowd": 0}],
            "categories": [{"id": 1, "name": "red"}]}
    (project / "evaluate" / "annotations.json").write_text(json.dumps(coco))
    with pytest.raises(ConfigError) as caught:
        prepare(tiny.write_config(project, evaluate_label_file="evaluate/annotations.json"))
    message = str(caught.value)
    assert caught.value.key == "evaluate_label_file" and "\n" not in message
    assert "annotations.json is a COCO annotations file" in message and 'set "task": "detection"' in message
