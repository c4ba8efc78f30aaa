"""vsq.tasks.detection.annotations: COCO files checked before heavy work, each mistake one line naming the entry."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tiny_detection
from vsq.errors import VsqError
from vsq.tasks.detection import annotations


@pytest.fixture
def truth():
    return tiny_detection.ground_truth(10, np.random.default_rng(0))


def read(tmp_path, document, **options):
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return annotations.read(path, where="./annotations.json", **options)


def refused(tmp_path, document, **options) -> str:
    with pytest.raises(VsqError) as caught:
        read(tmp_path, document, **options)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("./annotations.json: ")
    return message


def test_a_good_file_reads_back_as_the_coco_document_it_was(tmp_path, truth):
    read_back = read(tmp_path, truth, num_classes=3, class_offset=1)
    assert len(read_back.images) == 10 and read_back.categories == {1: "shape1", 2: "shape2", 3: "shape3"}
    coco = read_back.coco()
    assert [a["bbox"] for a in coco["annotations"]] == [a["bbox"] for a in truth["annotations"]]
    assert [(a["image_id"], a["category_id"]) for a in coco["annotations"]] == \
        [(a["image_id"], a["category_id"]) for a in truth["annotations"]]


@pytest.mark.parametrize("change, words", [
    (lambda d: d["annotations"][2].update(bbox=[10, 10, 200, 5]), "annotations[2] (id 3): bbox [10, 10, 200, 5] is not inside image"),
    (lambda d: d["annotations"][0].update(bbox=[10, 10, 5, -1]), "annotations[0] (id 1): bbox [x, y, width, height] has width 5 and height -1"),
    (lambda d: d["annotations"][1].update(bbox=[1, 2, 3]), "annotations[1] (id 2): bbox must be [x, y, width, height]"),
    (lambda d: d["annotations"][1].update(bbox=[1, 2, 3, float("nan")]), "annotations[1] (id 2): bbox must be"),
    (lambda d: d["annotations"][1].update(bbox=[1, 2, 3, 10**400]), "annotations[1] (id 2): bbox must be"),
    (lambda d: d["annotations"][0].update(image_id=999), "annotations[0] (id 1): image_id 999 is not an id of images"),
    (lambda d: d["annotations"][0].update(category_id=7), "annotations[0] (id 1): category_id 7 is not an id of categories"),
    (lambda d: d["annotations"][0].update(category_id="1"), "annotations[0] (id 1): category_id must be an integer, not a string"),
    (lambda d: d["images"][3].update(id=1), "images[3] (id 1): id 1 is also the id of images[0]"),
    (lambda d: d["images"][3].update(file_name="img_0000.jpg"), "images[3] (id 4): file_name is also images[0]'s; list each image once"),
    (lambda d: d["images"][3].update(file_name="../secret.jpg"), "images[3] (id 4): file_name must be a file's path"),
    (lambda d: d["images"][3].update(width=0), "images[3] (id 4): width is 0, less than 1"),
    (lambda d: d["images"][3].update(width=10**400), "images[3] (id 4): width is more than 65,536"),
    (lambda d: d["images"][3].update(height=70_000), "images[3] (id 4): height is more than 65,536"),
    (lambda d: d["images"][3].update(id=-10**30), "images[3]: id is less than"),
    (lambda d: d["categories"].append({"id": 2, "name": "again"}), "categories[3] (id 2): id 2 appears twice"),
    (lambda d: d["categories"].append({"id": 4, "name": "extra"}), "categories[3] (id 4): id 4 is not one of the model's 3 classes (category ids 1..3 with class_offset 1)"),
    (lambda d: d.update(images=[]), "images is empty"),
    (lambda d: d.pop("annotations"), "annotations must be a list, not missing or null"),
    (lambda d: d["annotations"].append(5), "annotations[" ),
])
def test_a_mistake_is_one_line_naming_the_entry(tmp_path, truth, change, words):
    change(truth)
    assert words in refused(tmp_path, truth, num_classes=3, class_offset=1)


def test_a_category_id_far_from_the_class_indices_is_refused_without_the_model(tmp_path, truth):
    truth["categories"][0]["id"] = 10**9
    assert "categories[0] (id 1000000000): id 1000000000 gives class index 999999999 with class_offset 1; class " \
        "indices are 0..1999" in refused(tmp_path, truth, class_offset=1)
    truth["categories"][0]["id"] = 0
    assert "gives class index -1" in refused(tmp_path, truth, class_offset=1)


def test_class_offset_zero_refuses_ids_from_one(tmp_path, truth):
    message = refused(tmp_path, truth, num_classes=3, class_offset=0)
    assert "categories[2] (id 3): id 3 is not one of the model's 3 classes (category ids 0..2" in message
    assert "set detection.class_offset" in message


def test_not_json_too_large_and_not_an_object(tmp_path, truth, monkeypatch):
    assert "is not valid JSON: Expecting value at line 1 column 1" in refused(tmp_path, "nope")
    assert "must be an object, not a list" in refused(tmp_path, [1])
    assert "nesting or a number too large" in refused(tmp_path, "[" * 100_000)
    monkeypatch.setattr(annotations, "MAX_BYTES", 100)
    assert "more than the 100 bytes vsq reads" in refused(tmp_path, truth)


def test_an_annotations_file_name_is_never_quoted_its_entry_is_named(tmp_path, truth):
    truth["images"][0]["file_name"] = truth["images"][1]["file_name"] = "\x1b[2J" + "x" * 200
    message = refused(tmp_path, truth)
    assert "\x1b" not in message and "[2J" not in message and "xxx" not in message
    assert "images[1] (id 2): file_name is also images[0]'s" in message
    read_back = read(tmp_path, {**truth, "images": truth["images"][1:], "annotations": [
        a for a in truth["annotations"] if a["image_id"] != 1]})
    files = [image["file_name"] for image in truth["images"][2:]]
    with pytest.raises(VsqError) as caught:  # listed, no such file
        annotations.match_files(read_back, files, where="a.json")
    assert "[2J" not in str(caught.value) and "images[0] (id 2): file_name names no file" in str(caught.value)
    with pytest.raises(VsqError) as caught:
        annotations.check_sizes(read_back.images[0], 1, 1, where="a.json", index=0)
    assert "[2J" not in str(caught.value) and "images[0] (id 2): its file is 1 x 1 pixels" in str(caught.value)


def test_every_evaluation_file_must_be_listed_and_every_listed_image_present(tmp_path, truth):
    read_back = read(tmp_path, truth)
    names = [image["file_name"] for image in truth["images"]]
    assert [image.id for image in annotations.match_files(read_back, reversed(names), where="a.json")] == \
        list(range(10, 0, -1))
    with pytest.raises(VsqError, match=r"a.json: the evaluation image 'new.jpg' is not in images \(1 not listed\); "
                                       "list every evaluation image, with no annotation when it holds no object"):
        annotations.match_files(read_back, [*names, "new.jpg"], where="a.json")
    with pytest.raises(VsqError, match=r"a.json: images\[9\] \(id 10\): file_name names no file in the evaluation "
                                       r"folder \(1 such entries\); add the file or remove the entry"):
        annotations.match_files(read_back, names[:-1], where="a.json")


def test_the_file_size_must_be_the_annotated_size(tmp_path, truth):
    image = read(tmp_path, truth).images[0]
    annotations.check_sizes(image, 128, 96, where="a.json")
    with pytest.raises(VsqError, match=r"a.json: images\[0\] \(id 1\): its file is 96 x 128 pixels, but the entry "
                                       r"says 128 x 96; fix width and height"):
        annotations.check_sizes(image, 96, 128, where="a.json", index=0)


def test_the_error_factory_makes_the_exception(tmp_path):
    class Mine(Exception):
        pass

    path = tmp_path / "annotations.json"
    path.write_text("{}")
    with pytest.raises(Mine, match="x.json: images must be a list"):
        annotations.read(path, where="x.json", error=Mine)


def test_the_detection_object_is_read_with_the_detection_task_only(project):
    import tiny
    from vsq.configuration.config import DetectionSettings, load_config
    from vsq.errors import ConfigError

    assert load_config(tiny.write_config(project)).detection is None
    with pytest.raises(ConfigError, match="detection: is only read with \"task\": \"detection\" \\(task is "
                                          "classification\\); remove it, or set \"task\": \"detection\""):
        load_config(tiny.write_config(project, detection={"box_order": "xyxy"}))
    config = load_config(tiny.write_config(project, task="detection", detection={"box_order": "xyxy"}))
    assert config.detection == DetectionSettings(box_order="xyxy")
    assert config.as_dict()["detection"]["bootstrap_resamples"] == 1000
    with pytest.raises(ConfigError, match="detection.box_order"):
        load_config(tiny.write_config(project, task="detection", detection={"box_order": "xy"}))


@pytest.mark.parametrize("key, value", [("quantized_model", "exports/model.tflite"), ("variants", ["mct_gptq"]),
                                        ("search", {"candidates": ["tf_float16"]}), ("calibration_repeats", 3),
                                        ("expected_top1", {"top1": 0.9}), ("evaluate_subsample", {"size": 10})])
def test_a_classification_only_key_is_refused_with_the_detection_task(project, key, value):
    """With "task": "detection" these keys would be ignored (their sections and the label scan are
    classification's): one line naming the key instead."""
    import tiny
    from vsq.configuration.config import load_config
    from vsq.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_config(tiny.write_config(project, task="detection", **{key: value}))
    assert f"{key}: is not read with \"task\": \"detection\" yet" in str(caught.value)
    assert "\n" not in str(caught.value)


def detection_project(project, truth) -> "Path":
    """The tiny project with a detection set: the annotated images (blank PNGs of their sizes) and the file."""
    import tiny
    from PIL import Image

    folder = project / "shapes"
    folder.mkdir()
    for image in truth["images"]:
        Image.new("RGB", (image["width"], image["height"])).save(folder / image["file_name"].replace(".jpg", ".png"))
        image["file_name"] = image["file_name"].replace(".jpg", ".png")
    (project / "annotations.json").write_text(json.dumps(truth))
    return tiny.write_config(project, task="detection", evaluate_image_dir="./shapes", evaluate_image_extension="png",
                             evaluate_label_file="./annotations.json")


def test_prepare_reads_the_evaluation_set_from_the_annotations(project, truth):
    from vsq.pipeline.job import prepare

    job = prepare(detection_project(project, truth))
    assert [p.name for p in job.evaluation_set.paths] == [f"img_{i:04d}.png" for i in range(10)]
    assert job.evaluation_set.class_names == ("shape1", "shape2", "shape3")


@pytest.mark.parametrize("change, words", [
    (lambda d: d["annotations"][0].update(bbox=[120, 10, 20, 5]), "annotations[0] (id 1): bbox [120, 10, 20, 5] is not inside image"),
    (lambda d: d["images"].pop(6), "the evaluation image 'img_0006.png' is not in images"),  # an empty one
    (lambda d: d["images"][0].update(height=200), "images[0] (id 1): its file is 128 x 96 pixels, but the entry says 128 x 200"),
])
def test_prepare_refuses_bad_annotations_in_one_line_naming_the_key(project, truth, change, words):
    from vsq.errors import ConfigError
    from vsq.pipeline.job import prepare

    config = detection_project(project, truth)
    change(truth)
    (project / "annotations.json").write_text(json.dumps(truth))
    with pytest.raises(ConfigError) as caught:
        prepare(config)
    message = str(caught.value)
    assert "\n" not in message and ": evaluate_label_file: ./annotations.json" in message and words in message


# Any JSON a stranger can write: one line naming the file, or a checked result; never a traceback.
_leaves = st.one_of(st.none(), st.booleans(), st.integers(-5, 300), st.integers(min_value=10**300), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=8))
_values = st.recursive(_leaves, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                       max_leaves=12)
_entry_keys = st.sampled_from(["id", "file_name", "width", "height", "image_id", "category_id", "bbox", "iscrowd",
                               "name"])
_entries = st.lists(st.dictionaries(_entry_keys, _values, max_size=6), max_size=4)


@settings(max_examples=150, deadline=None)
@given(document=st.one_of(_values, st.fixed_dictionaries({"images": _entries, "annotations": _entries,
                                                          "categories": _entries})))
def test_any_document_is_read_or_refused_in_one_line(document):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.json"
        path.write_text(json.dumps(document))
        try:
            annotations.read(path, num_classes=3, class_offset=1, where="a.json")
        except VsqError as error:
            assert "\n" not in str(error) and str(error).startswith("a.json: ")


@pytest.mark.parametrize("detections, words", [(5000, "too many detections"), (None, "an unknown number of detections")])
def test_a_detector_asking_for_too_many_detections_is_refused_in_one_line(project, detections, words):
    """SSDPostProcess' max_detections is a free number in an untrusted file: bounded before anything runs."""
    import tiny
    from vsq.configuration.config import load_config
    from vsq.core.model_info import ModelInfo
    from vsq.errors import ConfigError
    from vsq.frameworks.keras.models import MAX_DETECTIONS, check_model_matches

    config = load_config(tiny.write_config(project, task="detection", input_tensor_size=64))
    n = detections
    info = ModelInfo(input_shapes=((None, 64, 64, 3),), output_shapes=((None, n, 4), (None, n), (None, n), (None,)))
    with pytest.raises(ConfigError) as caught:
        check_model_matches(config, info, num_classes=4)
    assert words in str(caught.value) and f"at most {MAX_DETECTIONS}" in str(caught.value)
    check_model_matches(config, ModelInfo(info.input_shapes, ((None, 16, 4), (None, 16), (None, 16), (None,))), 4)


def test_an_exif_rotated_image_is_checked_at_the_size_the_model_sees(project, truth):
    """Decoding turns an image by its EXIF orientation (6: a quarter turn), so the annotations describe the upright
    image: a file stored 96 x 128 with orientation 6 is the annotated 128 x 96; one stored 128 x 96 is not."""
    from PIL import Image

    from vsq.errors import ConfigError
    from vsq.pipeline.job import prepare

    config = detection_project(project, truth)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (96, 128)).save(project / "shapes" / "img_0000.png", exif=exif)
    assert len(prepare(config).evaluation_set.paths) == 10
    Image.new("RGB", (128, 96)).save(project / "shapes" / "img_0000.png", exif=exif)
    with pytest.raises(ConfigError, match=r"images\[0\] \(id 1\): its file is 96 x 128 pixels, but the entry says 128 x 96"):
        prepare(config)


def test_a_truth_restricted_to_some_images_keeps_their_entries_and_objects_alone(tmp_path, truth):
    from vsq.tasks.detection.dataset import Truth

    found = read(tmp_path, truth)
    whole = Truth(coco=found.coco(), images=found.images)
    ids = [image.id for image in found.images][::-1][:4]  # asked in another order: the truth's order is kept
    part = whole.restricted(ids)
    assert [i["id"] for i in part.coco["images"]] == [i.id for i in part.images] == sorted(ids, key=[
        i.id for i in found.images].index)
    assert part.coco["annotations"] == [a for a in whole.coco["annotations"] if a["image_id"] in ids] != []
    assert part.coco["categories"] == whole.coco["categories"] and len(whole.coco["images"]) == 10


def test_the_annotations_are_read_once_per_run_and_again_when_the_file_changes(project, truth):
    import hashlib

    from vsq.pipeline.job import prepare
    from vsq.tasks.detection import dataset

    config = prepare(detection_project(project, truth)).config
    first = dataset.read_annotations(config)
    assert dataset.read_annotations(config) is first
    assert first.digest == hashlib.sha256((project / "annotations.json").read_bytes()).hexdigest()
    labels = tuple(image.id for image in first.images)
    assert dataset.truth(config, labels) is dataset.truth(config, labels)
    truth["categories"][0]["name"] = "renamed"
    (project / "annotations.json").write_text(json.dumps(truth))
    again = dataset.read_annotations(config)
    assert again is not first and again.categories[1] == "renamed" and again.digest != first.digest
    assert dataset.truth(config, labels).coco["categories"][0]["name"] == "renamed"
