"""The bundled detector run with "preprocessing": {"mode": "letterbox"} on its evaluation images made twice as wide
(annotations with them): the images letterboxed and the boxes mapped back to the original images before mAP
(results.json's figures are pycocotools' on detections computed here directly from the Keras model on
YOLO-letterboxed images), and, the model wanting these images stretched back (it was trained on near-square
ones), the box-format screen naming the setting to change. On the example's own near-square images (96-128 px)
the two resizes score within 10 points of each other and the screen rightly does not fail."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from runs import relocated
from vsq.api import run_options
from vsq.configuration.config import load_config
from vsq.configuration.preprocessing import Preprocessing
from vsq.errors import ConfigError
from vsq.core.check_names import BOX_FORMAT_CHECK
from vsq.pipeline.job import prepare
from vsq.pipeline.pipeline import Pipeline
from vsq.tasks.detection import metrics
from vsq.util import letterbox

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples"
PREPROCESSING = json.loads((EXAMPLE / "detection.json").read_text())["preprocessing"]


def widened(root: Path) -> tuple[Path, Path]:
    """The example's evaluation images twice as wide (stretched), and their annotations to match."""
    source = EXAMPLE / "detection" / "evaluate"
    truth = json.loads((source / "annotations.json").read_text())
    (root / "images").mkdir()
    for image in truth["images"]:
        with Image.open(source / "images" / image["file_name"]) as opened:
            opened.resize((2 * opened.width, opened.height), Image.Resampling.BILINEAR).save(
                root / "images" / image["file_name"], quality=95)
        image["width"] *= 2
    for box in truth["annotations"]:
        box["bbox"] = [2 * box["bbox"][0], box["bbox"][1], 2 * box["bbox"][2], box["bbox"][3]]
        box["area"] *= 2
    (root / "annotations.json").write_text(json.dumps(truth))
    return root / "images", root / "annotations.json"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, shared_cache):
    root = tmp_path_factory.mktemp("detection-letterbox")
    images, annotations = widened(root)
    path = relocated(EXAMPLE / "detection.json", root, evaluate_image_dir=str(images),
                     evaluate_label_file=str(annotations), preprocessing={**PREPROCESSING, "mode": "letterbox"})
    made = Pipeline(prepare(path), run_options(shared_cache, progress=False))
    made.result
    return made


def letterboxed_detections(pipeline) -> list[dict]:
    """The float Keras model's detections on every evaluation image, letterboxed and mapped back by hand."""
    config, model = pipeline.config, pipeline.model
    size, found = config.input_tensor_size, []
    for path, image_id in zip(pipeline.job.evaluation_set.paths, pipeline.job.evaluation_set.labels):
        with Image.open(path) as image:
            image = image.convert("RGB")
            width, height = image.size
            pixels = np.asarray(letterbox.resize(image, size, "letterbox"), dtype=np.float32) / 255.0  # [0,1]
        boxes, scores, classes, count = (np.asarray(part) for part in model.predict_on_batch(pixels[None]))
        ratio = min(size / width, size / height)
        left, top = ((size - round(side * ratio)) / 2 for side in (width, height))
        left, top = round(left - 0.1), round(top - 0.1)
        for n in range(int(count[0])):
            y1, x1, y2, x2 = boxes[0, n] * size
            x1, x2 = (np.clip((v - left) / ratio, 0, width) for v in (x1, x2))
            y1, y2 = (np.clip((v - top) / ratio, 0, height) for v in (y1, y2))
            found.append({"image_id": image_id, "category_id": int(classes[0, n]) + 1, "score": float(scores[0, n]),
                          "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]})
    return found


@pytest.mark.slow
def test_the_float_models_map_is_pycocotools_on_letterboxed_images_mapped_back(pipeline):
    document = pipeline.result.document
    truth = pipeline.task.truth(pipeline.config, pipeline.job.evaluation_set).coco
    stats = metrics.pycocotools_stats(truth, letterboxed_detections(pipeline))
    assert (document["map_50_95_keras"], document["map_50_keras"]) == pytest.approx((stats[0], stats[1]), abs=1e-4)
    # (3e-5 apart, measured: the run predicts batches of 16, this test one image at a time)
    print("letterboxed widened images: mAP@[.5:.95] %.4f mAP@.5 %.4f" % (stats[0], stats[1]))
    assert document["configuration"]["preprocessing"]["mode"] == "letterbox"


@pytest.mark.slow
def test_a_stretch_trained_detector_configured_letterbox_is_told_to_set_square(pipeline):
    check = pipeline.result.checks[BOX_FORMAT_CHECK]
    assert not check.ok and check.message.endswith('set preprocessing.mode "square"'), check.message
    print(check.message)


def test_letterbox_decodes_padded_and_keys_the_cache_apart_and_a_crop_is_refused_for_a_detector(tmp_path):
    Image.new("RGB", (128, 64), (200, 10, 10)).save(tmp_path / "wide.png")
    boxed = Preprocessing(size=32, mode="letterbox")
    pixels = boxed.decode(tmp_path / "wide.png").pixels
    assert (pixels[0, 0] == 114).all() and (pixels[16, 16] == (200, 10, 10)).all()  # rows 8..23 hold the image
    assert boxed.cache_key() != Preprocessing(size=32).cache_key()
    path = relocated(EXAMPLE / "detection.json", tmp_path, preprocessing={**PREPROCESSING, "mode": "shorter_side"})
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert "preprocessing.mode" in str(raised.value) and 'set "square" (stretch) or "letterbox"' in str(raised.value)
