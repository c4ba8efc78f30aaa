"""The bundled detector (examples/detection, made by examples/make_detection_example.py) through vsq's Keras
detector support: the float model, MCT's fake-quant model and the INT8 TFLite network followed by the same
SSDPostProcess all find the same objects; only edge-mdt-cl's SSDPostProcess is trusted as a custom layer.

Real TensorFlow, MCT and TFLite: the PTQ is the session's (tests/conftest.py's example_detector), the export and
the predictions are made once per module (~25 s); the tests that use them are marked slow.
"""

import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import hostile
import tiny
from vsq.errors import ConfigError
from vsq.frameworks.keras.detector import (OUTPUTS, DetectorPredictor, _as_detections, _SignatureRunner,
                                           export_network_int8_tflite, network, post_process_from_file,
                                           post_process_layer)
from vsq.frameworks.keras.safety import unsafe_layers

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "detection"
CONFIDENT, SUPPORT = 0.5, 0.4  # a confident detection must be found among the other model's detections above 0.4


def _example():
    sys.path.insert(0, str(REPO / "examples"))
    import make_detection_example

    return make_detection_example


def _inputs(folder: Path, pattern: str) -> np.ndarray:
    example = _example()
    return np.stack([example.preprocess(path.read_bytes()) for path in sorted(folder.glob(pattern))])


@pytest.fixture(scope="module")
def built(tmp_path_factory, example_detector):
    """The example detector, its MCT fake-quant model (the session's: tests/conftest.py) and network-only INT8
    TFLite file, and each one's detections for the 200 evaluation images."""
    folder = tmp_path_factory.mktemp("detector")
    model, fake_quant = example_detector.model, example_detector.fake_quant
    tflite = export_network_int8_tflite(fake_quant, folder / "model_quantized.tflite")
    images = _inputs(EXAMPLE / "evaluate" / "images", "*.jpg")
    predictors = {"float": DetectorPredictor.keras(model), "fake_quant": DetectorPredictor.keras(fake_quant),
                  "tflite": DetectorPredictor.tflite(tflite, fake_quant)}
    detections = {name: predict(images) for name, predict in predictors.items()}
    return {"folder": folder, "model": model, "fake_quant": fake_quant, "tflite": tflite, "images": images,
            "detections": detections}


def _iou(a, b) -> float:
    top_left, bottom_right = np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])
    inter = float(np.prod(np.clip(bottom_right - top_left, 0, None)))
    return inter / (float(np.prod(a[2:] - a[:2])) + float(np.prod(b[2:] - b[:2])) - inter)


def _found(detections, i, threshold):
    keep = [k for k in range(int(detections.count[i])) if detections.scores[i, k] >= threshold]
    return [(detections.boxes[i, k], detections.classes[i, k]) for k in keep]


def _covered(x, y, i) -> bool:
    """Every confident detection of x on image i has one of y's (same class, IoU >= 0.5) among y's above SUPPORT:
    a detection whose score moves across one threshold by a quantization step is not a different answer."""
    others = _found(y, i, SUPPORT)
    return all(any(c == oc and _iou(b, ob) >= 0.5 for ob, oc in others) for b, c in _found(x, i, CONFIDENT))


def agreement(x, y) -> float:
    """Fraction of images on which two models' confident detections are the same."""
    return float(np.mean([_covered(x, y, i) and _covered(y, x, i) for i in range(len(x.count))]))


@pytest.mark.slow
@pytest.mark.parametrize("first, second", [("float", "fake_quant"), ("fake_quant", "tflite"), ("float", "tflite")])
def test_the_three_models_find_the_same_objects(built, first, second):
    x, y = built["detections"][first], built["detections"][second]
    assert x.boxes.shape == (200, 16, 4) and x.scores.shape == x.classes.shape == (200, 16) and x.count.shape == (200,)
    assert np.sum(x.count) > 200, "the example detector finds objects"
    assert agreement(x, y) >= 0.98


@pytest.mark.slow
def test_the_tflite_outputs_are_told_apart_by_their_names(built):
    """Box codes and class scores have the same shape here (4 classes, 4 coordinates): read in the wrong order,
    the detections are garbage, which the agreement measure sees."""
    import tensorflow as tf

    codes, scores = _SignatureRunner(built["tflite"], names=tuple(reversed(OUTPUTS)))(built["images"][:50])
    garbled = _as_detections(post_process_layer(built["fake_quant"])([tf.constant(codes), tf.constant(scores)]))
    right = DetectorPredictor.tflite(built["tflite"], built["fake_quant"])(built["images"][:50])
    assert agreement(garbled, right) < 0.5


@pytest.mark.slow
def test_the_tflite_file_is_the_network_without_its_post_processing(built):
    """MCT's INT8 TFLite export of the whole detector needs TF Select (CombinedNonMaxSuppression): vsq exports the
    network up to SSDPostProcess and runs that layer itself."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(built["tflite"]))
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert not any("NonMaxSuppression" in op or op.startswith("Flex") for op in ops), ops
    assert {"CONV_2D", "CONCATENATION"} <= ops
    assert [list(d["shape"]) for d in interpreter.get_output_details()] == [[1, 160, 4], [1, 160, 4]]
    assert sorted(interpreter.get_signature_list()["serving_default"]["outputs"]) == sorted(OUTPUTS)
    assert post_process_layer(network(built["fake_quant"])) is None
    assert post_process_layer(built["fake_quant"]) is not None, "MCT keeps the post-processing in the Keras model"


@pytest.mark.slow
def test_the_example_detector_and_mct_s_export_of_it_are_trusted_and_load(built):
    from vsq.frameworks.keras.models import load_fake_quant_keras
    from vsq.frameworks.keras.quantize import export_keras

    assert unsafe_layers(EXAMPLE / "model.h5") == []
    exported = export_keras(built["fake_quant"], built["folder"] / "model_quantized.keras")
    assert [name for name in unsafe_layers(exported) if "mct_quantizers" not in name] == []
    loaded = load_fake_quant_keras(exported)
    again = DetectorPredictor.keras(loaded)(built["images"][:20])
    assert agreement(again, DetectorPredictor.keras(built["fake_quant"])(built["images"][:20])) == 1.0


def _edited_keras(built, tmp_path, edit) -> Path:
    """The example detector as a .keras configuration with its SSDPostProcess entry edited."""
    path = tmp_path / "saved.keras"
    built["model"].save(path)
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    [entry] = [layer for layer in config["config"]["layers"] if layer["class_name"] == "SSDPostProcess"]
    edit(entry)
    out = tmp_path / "edited.keras"
    out.write_bytes(hostile.keras_zip(config))
    return out


@pytest.mark.slow
def test_the_trusted_layer_named_by_its_own_module_passes(built, tmp_path):
    assert unsafe_layers(_edited_keras(built, tmp_path, lambda entry: None)) == []


@pytest.mark.parametrize("edit, why", [
    (lambda entry: entry.update(module="edgemdt_cl.keras.object_detection.faster_rcnn_box_decode"),
     "imports module edgemdt_cl.keras.object_detection.faster_rcnn_box_decode"),
    (lambda entry: entry.update(module="os"), "imports module os"),
    (lambda entry: entry.update(class_name="FasterRCNNBoxDecode", registered_name="FasterRCNNBoxDecode"),
     "imports module edgemdt_cl.keras.object_detection.ssd_post_process"),
    (lambda entry: entry.update(registered_name="system"), "imports module"),
])
@pytest.mark.slow
def test_an_untrusted_custom_layer_is_refused(built, tmp_path, edit, why):
    refused = unsafe_layers(_edited_keras(built, tmp_path, edit))
    assert len(refused) == 1 and why in refused[0]


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
def test_edge_mdt_cl_s_other_layers_are_not_in_the_loaders_scope(project):
    """FasterRCNNBoxDecode is registered by edge-mdt-cl too; a detector ending in SSDPostProcess does not need
    it, so vsq's loader of the source model does not resolve it (edge-mdt-cl's own custom_layers_scope would)."""
    import tensorflow as tf
    from edgemdt_cl.keras import FasterRCNNBoxDecode

    from vsq.configuration.config import load_config
    from vsq.frameworks.keras.models import load_keras_model

    codes = tf.keras.layers.Input((2, 4))
    decoded = FasterRCNNBoxDecode([[0, 0, 0.5, 0.5], [0.5, 0.5, 1, 1]], (10, 10, 5, 5), (0, 0, 1, 1))(codes)
    path = project / "decode.h5"
    tf.keras.Model(codes, decoded).save(path)
    assert unsafe_layers(path) == []  # an HDF5 file names no module: the loader's scope is the guard
    with pytest.raises(ConfigError, match="cannot be loaded as a Keras model: .*FasterRCNNBoxDecode"):
        load_keras_model(load_config(tiny.write_config(project, source_keras_model=str(path))))


@pytest.mark.slow
def test_a_detector_with_an_untrusted_layer_is_refused_in_one_line(built, project):
    model = _edited_keras(built, project, lambda entry: entry.update(module="os"))
    config = tiny.write_config(project, source_keras_model=str(model))
    from vsq.configuration.grants import Grants
    from vsq.pipeline.job import prepare

    with pytest.raises(ConfigError) as caught:
        prepare(config, Grants())
    assert "\n" not in str(caught.value) and "ssd_post_process (imports module os)" in str(caught.value)


@pytest.mark.slow
def test_the_keras_framework_predicts_detections_for_the_models_and_files(built, project):
    """vsq's Keras framework: the float model, model.tflite (its network) and MCT's files give Detections; the
    .tflite files are finished by the source model's SSDPostProcess, read from its configuration."""
    from vsq.configuration.config import load_config
    from vsq.frameworks.keras.framework import KERAS
    from vsq.frameworks.keras.quantize import export_keras

    config = load_config(tiny.write_config(project, source_keras_model=str(EXAMPLE / "model.h5")))
    assert post_process_from_file(EXAMPLE / "model.h5").get_config() == post_process_layer(built["model"]).get_config()
    images, found = built["images"][:64], built["detections"]
    float_file = KERAS.export_float(built["model"], built["folder"] / "model.tflite")
    keras_file = export_keras(built["fake_quant"], built["folder"] / "fake_quant.keras")
    for predict, reference in ((KERAS.predictor(built["model"]), "float"), (KERAS.file_predictor(float_file, config),
                               "float"), (KERAS.file_predictor(built["tflite"], config), "tflite"),
                               (KERAS.file_predictor(keras_file, config), "fake_quant")):
        detections = predict(images)
        assert detections.boxes.shape == (64, 16, 4)
        assert agreement(detections, _first(found[reference], 64)) == 1.0
    boxes, scores, classes = found["float"].image(0)
    assert len(boxes) == len(scores) == len(classes) == found["float"].count[0] and classes.dtype == np.int64


def _first(detections, n):
    return type(detections)(*(field[:n] for field in detections))


@pytest.mark.slow
def test_the_imx500_converter_takes_the_detector_with_its_post_processing(built):
    """Sony's converter reads MCT's Keras export of the whole detector, SSDPostProcess included (memory report
    only: ~13 s here; the full package ~32 s), and gives the sensor the post-processing's four outputs."""
    import xml.etree.ElementTree as ElementTree

    from test_imx500 import converter
    from vsq.frameworks.keras.quantize import export_keras
    from vsq.tools import imx500

    keras_file = export_keras(built["fake_quant"], built["folder"] / "imx500" / "model_quantized.keras")
    out = built["folder"] / "imx500"
    result = imx500.convert(converter(), keras_file, out / "converted", True, out / "imx500.log")
    assert result.ok and result.fits, result.error
    assert result.input_shape == (64, 64, 3)
    assert 0 < result.memory_usage_bytes < result.memory_available_bytes
    outputs = ElementTree.parse(out / "converted" / "dnnParams.xml").getroot().iter("outputTensor")
    assert sorted(tensor.get("name") for tensor in outputs) == [
        f"transform-{i}-ssd_post_process/NMS:0" for i in range(4)]


@pytest.mark.slow
def test_the_model_check_takes_a_detector_for_the_detection_task_only(built, project, tiny_model):
    """A detector's outputs are not one score per class: it matches the configuration by its input (the task checks
    its classes against the categories); each task refuses the other's model in one line naming `task`."""
    import dataclasses

    import tensorflow as tf

    from vsq.configuration.config import load_config
    from vsq.core.model_info import ModelInfo
    from vsq.frameworks.keras.models import check_model_matches

    classification = load_config(tiny.write_config(project, source_keras_model=str(EXAMPLE / "model.h5")))
    detection = dataclasses.replace(classification, task="detection", input_tensor_size=64)
    detector = ModelInfo.of(built["model"])
    check_model_matches(detection, detector, 4)
    with pytest.raises(ConfigError, match='is a detector .*; set task to "detection"'):
        check_model_matches(dataclasses.replace(classification, input_tensor_size=64), detector, 4)
    with pytest.raises(ConfigError, match="input_tensor_size: 32 does not match the model's input 64x64"):
        check_model_matches(dataclasses.replace(detection, input_tensor_size=32), detector, 4)
    classifier = ModelInfo.of(tf.keras.models.load_model(str(tiny_model), compile=False))
    with pytest.raises(ConfigError, match='task "detection" needs one'):
        check_model_matches(detection, classifier, 3)


@pytest.mark.slow
def test_the_export_checks_read_a_detector_s_network_files(built, tiny_model, tmp_path):
    """shapes_match_the_model, quantized_file_is_integer_quantized and quantized_file_is_smaller on the detector's
    model.tflite and model_quantized.tflite (networks without post-processing); a classifier's file fails."""
    from types import SimpleNamespace

    import tensorflow as tf

    from vsq.core.model_info import ModelInfo
    from vsq.frameworks.keras import checks
    from vsq.frameworks.keras.models import export_float_tflite
    from vsq.frameworks.keras.framework import KERAS

    float_file = KERAS.export_float(built["model"], tmp_path / "model.tflite")
    run = SimpleNamespace(name="detector", config=SimpleNamespace(input_tensor_size=64),
                          model_info=ModelInfo.of(built["model"]),
                          reference_files={"tflite": float_file, "tflite_quantized": built["tflite"]})
    for name in checks.EXPORTS:
        verdict = checks.shapes_match_the_model(run, name)
        assert verdict.ok, verdict.message
    for check in (checks.quantized_file_is_integer_quantized, checks.quantized_file_is_smaller):
        verdict = check(run)
        assert verdict.ok, verdict.message
    classifier = export_float_tflite(tf.keras.models.load_model(str(tiny_model), compile=False), tmp_path / "c.tflite")
    run.reference_files["tflite"] = classifier
    verdict = checks.shapes_match_the_model(run, "model.tflite")
    assert not verdict.ok and "box_codes [1, anchors, 4]" in verdict.message


def test_the_keras_top1_checks_do_not_apply_to_a_detection_run():
    """model_quantized.keras and model.tflite are judged by Top-1 for classifiers only (a detection run has no Top-1
    figures: its task's checks judge those models)."""
    from types import SimpleNamespace

    from vsq.core.reference import FLOAT_TFLITE, KERAS_QUANTIZED
    from vsq.frameworks.keras.checks import EXPORT_CHECKS

    def names(task):
        run = SimpleNamespace(config=SimpleNamespace(task=task))
        return {name for spec in EXPORT_CHECKS for name in spec.names(run)}

    dropped = names("classification") - names("detection")
    assert dropped == {KERAS_QUANTIZED.check, FLOAT_TFLITE.check}
    assert "quantized_file_is_integer_quantized" in names("detection")
