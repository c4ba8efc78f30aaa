"""PyTorch detectors in their own environment (.venv-torch): the bundled detector (examples/detection-pytorch.json,
the Keras example's detector with the same weights, ending in edge-mdt-cl's MulticlassNMS) through the real
pipeline: MCT's PTQ, its ONNX export run by ONNX Runtime with edge-mdt-cl's NMS operator, the detection checks.
One MCT quantization per module (the example's run, shared); tests/test_pytorch.py runs this file."""

import json
from types import SimpleNamespace
from pathlib import Path

import numpy as np
import pytest

from vsq.configuration.config import load_config
from vsq.configuration.grants import Grants
from vsq.errors import ConfigError
from vsq.frameworks.pytorch.architecture import sequential
from vsq.frameworks.pytorch.framework import PYTORCH
from vsq.pipeline.job import prepare

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "detection-pytorch.json"
NAME = "detection-pytorch"
PATHS = ("source_pytorch_model", "dataset_image_dir", "evaluate_image_dir", "evaluate_label_file")
# MCT's ONNX export against its fake-quant model, image by image (about a quantization step on the outputs)
TOLERANCE = {"scores": 0.05, "boxes": 0.05}
KERAS_FLOAT_MAP = 0.5301  # docs/detection.md: the Keras detector's mAP@[.5:.95] on the same 200 images


def example(folder: Path, **overrides) -> Path:
    """examples/detection-pytorch.json with its data where it is, its outputs in `folder`, without the IMX500
    section (docs/detection.md measures it), and fewer bootstrap resamples (the test reads no interval's end)."""
    data = json.loads(EXAMPLE.read_text())
    for key in PATHS:
        data[key] = str((EXAMPLE.parent / data[key]).resolve())
    entry_point, _, builder = data["pytorch_architecture"]["entry_point"].partition(":")
    data["pytorch_architecture"]["entry_point"] = f"{(EXAMPLE.parent / entry_point).resolve()}:{builder}"
    data.pop("imx500")
    data["detection"]["bootstrap_resamples"] = 200
    data.update(output_dir="output", evaluate_result_dir="results", **overrides)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "detection-pytorch.json").write_text(json.dumps(data))
    return folder / "detection-pytorch.json"


def pipeline(path: Path, cache: Path):
    from vsq.cache.store import Cache
    from vsq.pipeline.options import RunOptions
    from vsq.pipeline.pipeline import Pipeline
    from vsq.pipeline.progress import Progress

    job = prepare(path, Grants.given(unsafe_model_code=[NAME]))
    return Pipeline(job, RunOptions(Cache(cache), progress=Progress(False)))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("detection-pytorch")
    made = pipeline(example(folder / "project"), folder / "cache")
    return made, made.result.document


def test_the_pytorch_detection_example_passes_end_to_end(run):
    made, document = run
    assert document["framework"] == "pytorch" and document["task"] == "detection"
    assert document["gate"]["verdict"] == "PASS", made.result.failures()
    assert {name for name, check in document["checks"].items() if check["verdict"] != "PASS"} == set()
    for check in ("box_format_matches_the_model", "map_drop_within_threshold", "float_map_beats_chance",
                  "shapes_match_the_model[model_quantized.onnx]", "quantized_file_is_integer_quantized"):
        assert document["checks"][check]["verdict"] == "PASS", check
    # The same weights as the Keras detector, the same images: the same float mAP.
    assert abs(document["map_50_95_pytorch"] - KERAS_FLOAT_MAP) < 5e-4, document["map_50_95_pytorch"]
    assert not any(key.startswith(("map_50_95_keras", "map_50_95_tflite")) for key in document)


def test_the_pytorch_detectors_results_are_read_back_like_any_runs(run):
    """results.json is checked against the results schema wherever it is read (vsq report, history, baselines): a
    PyTorch detector's has the PyTorch models' mAP keys, not the Keras ones, and vsq report renders it."""
    from vsq.pipeline.results_check import ResultsError, load
    from vsq.reporting import report

    made, document = run
    written = made.config.evaluate_result_dir / "results.json"
    assert load(written)["map_50_95_onnx_quantized"] == document["map_50_95_onnx_quantized"]
    runs = report.load([written])
    assert report.exit_code(runs) == 0 and "detection-pytorch  0.5301" in report.text(runs)
    assert b'failures="0"' in report.junit_xml(runs) and "PyTorch" in report.html_page(runs)
    broken = written.parent / "broken" / "results.json"
    broken.parent.mkdir()
    broken.write_text(json.dumps({key: value for key, value in document.items() if key != "map_50_95_pytorch"}))
    with pytest.raises(ResultsError, match="lacks the key map_50_95_pytorch"):
        load(broken)


def test_float_fake_quant_and_onnx_maps_are_close(run):
    """MCT's ONNX export run by ONNX Runtime detects as MCT's fake-quant model does (about one quantization step
    apart on a few images), and both stay within a point of the float model."""
    made, document = run
    onnx, fake_quant, float_map = (document[f"map_50_95_{key}"] for key in ("onnx_quantized", "pytorch_quantized",
                                                                           "pytorch"))
    assert abs(onnx - fake_quant) < 0.002, (onnx, fake_quant)
    assert 0 <= float_map - onnx < 0.015 and abs(document["map_50_onnx_quantized"] - document["map_50_pytorch"]) < 0.01
    assert document["map_drop_points"] == pytest.approx((float_map - onnx) * 100)
    by_image = {name: {} for name in ("onnx_quantized", "pytorch")}
    for name, images in by_image.items():
        for detection in made.evaluations[name].detections:
            images.setdefault(detection["image_id"], []).append(detection)
    # The ONNX evaluation is its own, not the float model's read again: at least one image's detections differ.
    assert any(by_image["onnx_quantized"].get(i) != found for i, found in by_image["pytorch"].items())


def evaluation_images(made, count: int) -> np.ndarray:
    """The run's first `count` evaluation images, preprocessed as the pipeline feeds them."""
    preprocessing = made.config.preprocessing
    return np.stack([preprocessing.normalize(preprocessing.try_decode(path).pixels)
                     for path in made.job.evaluation_set.paths[:count]])


def test_the_onnx_detector_gives_the_keras_contract_on_a_pool(run):
    """Detections of the same shapes and types as a Keras detector's, the same with one session or three (70 real
    evaluation images: three slices of whole batches), and as MCT's fake-quant model gives them."""
    from vsq.core.detections import Detections
    from vsq.frameworks.pytorch.onnx_runtime import BATCH, OnnxModel
    from vsq.runtimes.pool import shards

    made, _ = run
    path, images = made.reference_files["onnx_quantized"], evaluation_images(made, 70)
    assert len(shards(len(images), BATCH, 3)) == 3
    one = OnnxModel(path, 1, detector=True).predict(images)
    assert isinstance(one, Detections)
    assert [a.shape for a in one] == [(70, 16, 4), (70, 16), (70, 16), (70,)]
    assert [a.dtype for a in one] == [np.float32, np.float32, np.float32, np.int32]
    assert 0 < one.count.min() < one.count.max() <= 16, one.count  # images differ: not every count the maximum
    three = OnnxModel(path, 3, detector=True).predict(images)
    assert all(np.array_equal(a, b) for a, b in zip(one, three))
    fake_quant = made.framework.predictor(made.fake_quant_model)(images)
    same = np.flatnonzero(one.count == fake_quant.count)
    assert len(same) >= 0.9 * len(images), (one.count, fake_quant.count)
    matched = []
    for i in same:
        (boxes, scores, classes), (their_boxes, their_scores, their_classes) = one.image(i), fake_quant.image(i)
        assert np.allclose(scores, their_scores, atol=TOLERANCE["scores"]), (i, scores, their_scores)
        # near-equal scores may come in either order, and the last kept detection may be another: each box's
        # nearest of the other model's of its class
        apart = np.abs(boxes[:, None] - their_boxes[None]).max(axis=2) + (classes[:, None] != their_classes[None])
        matched += list(apart.min(axis=1) <= TOLERANCE["boxes"])
    assert np.mean(matched) >= 0.95, np.mean(matched)


def test_a_wrong_box_order_is_caught_by_the_screen(run, tmp_path):
    """The screen reads the float model's raw outputs of its sample (and runs the model on the sample resized the
    other way): the box order changes how they are read, not what they are, so the shared run's are handed over
    instead of evaluating the three models again."""
    made, _ = run
    path = example(tmp_path / "project")
    data = json.loads(path.read_text())
    data["detection"]["box_order"] = "xyxy"
    path.write_text(json.dumps(data))
    wrong = pipeline(path, made.options.cache.root)
    wrong.__dict__.update(model=made.model, evaluations=made.evaluations)  # cached properties, computed by `made`
    check = wrong.check("box_format_matches_the_model")
    assert not check.ok and 'set detection.box_order "yxyx"' in check.message, check.message


def test_a_classification_configuration_with_the_detector_is_refused_in_one_line(run, tmp_path):
    made, _ = run
    path = example(tmp_path / "project")
    data = json.loads(path.read_text())
    data.pop("detection")
    data["task"] = "classification"
    path.write_text(json.dumps(data))
    config = load_config(path)
    info = PYTORCH.describe(made.model, config)
    assert info.output_shapes == ((None, 16, 4), (None, 16), (None, 16), (None,))
    with pytest.raises(ConfigError) as caught:
        PYTORCH.check_matches(config, info, num_classes=4)
    message = str(caught.value)
    assert caught.value.key == "task" and "\n" not in message
    assert 'is a detector (outputs boxes, scores, classes, count); set task to "detection"' in message
    classifier = sequential([["Conv2d", 3, 4, 1], ["AdaptiveAvgPool2d", 1], ["Flatten"]]).eval()
    with pytest.raises(ConfigError) as caught:
        PYTORCH.check_matches(made.config, PYTORCH.describe(classifier, made.config), num_classes=4)
    assert caught.value.key == "task" and "not a detector ending in edge-mdt-cl's multiclass_nms" in str(caught.value)


def test_a_detection_run_without_pycocotools_names_the_setup_command(tmp_path, monkeypatch):
    """An environment made before the detection task (no pycocotools) is refused before any heavy work, in one
    line naming the package and the setup command, not with an ImportError once the models have run."""
    import importlib.util

    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pycocotools" else found(name, *a))
    with pytest.raises(ConfigError) as caught:
        prepare(example(tmp_path / "project"), Grants.given(unsafe_model_code=[NAME]))
    message = str(caught.value)
    assert caught.value.key == "source_pytorch_model" and "\n" not in message
    assert "needs pycocotools, not installed" in message and "bash scripts/setup_pytorch.sh" in message


def edited(made, folder: Path, edit) -> SimpleNamespace:
    """The shared build's ONNX file changed by edit(graph) (onnx.helper: no MCT run), as a check's run reads it."""
    import onnx

    model = onnx.load(str(made.reference_files["onnx_quantized"]))
    edit(model.graph)
    path = folder / "model_quantized.onnx"
    onnx.save(model, str(path))
    return SimpleNamespace(name=made.name, config=made.config, model_info=made.model_info,
                           reference_files={"onnx_quantized": path})


def after_the_outputs(graph, ops: dict) -> None:
    """Each output i in ops made by ops[i](its tensor, the new output's name) -> nodes, its shape then unknown
    past the batch, like a detector's own post-NMS ops (n_valid.squeeze(1), labels.float(), boxes * size)."""
    import onnx

    for i, make in ops.items():
        output = graph.output[i]
        nodes, initializers = make(output.name, f"{output.name}_after")
        graph.node.extend(nodes)
        graph.initializer.extend(initializers)
        rank = {0: 3, 1: 2, 2: 2, 3: 1}[i]
        graph.output[i].CopyFrom(onnx.helper.make_tensor_value_info(
            f"{output.name}_after", output.type.tensor_type.elem_type,
            ["batch_size"] + [None] * (rank - 1)))


def test_shapes_match_a_detector_with_ops_after_its_nms_and_fail_outputs_not_from_it(run, tmp_path):
    """A correct detector may squeeze n_valid to [batch], cast its labels and scale its boxes after the NMS: the
    check follows each output back to the NMS's. A file whose outputs are not the NMS's, in order, fails."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from vsq.frameworks.pytorch.checks import shapes_match_the_model

    made, _ = run
    name = "model_quantized.onnx"
    assert shapes_match_the_model(edited(made, tmp_path, lambda graph: None), name).ok

    def squeeze(source, out):
        return [helper.make_node("Squeeze", [source, "axis_1"], [out])], [numpy_helper.from_array(np.array([1]),
                                                                                                  "axis_1")]

    def scaled(source, out):
        return [helper.make_node("Mul", [source, "size"], [out])], [numpy_helper.from_array(np.float32([64]), "size")]

    def as_float(source, out):
        return [helper.make_node("Cast", [source], [out], to=TensorProto.FLOAT)], []

    after = {0: scaled, 2: as_float, 3: squeeze}
    (tmp_path / "correct").mkdir()
    correct = edited(made, tmp_path / "correct", lambda graph: after_the_outputs(graph, after))
    onnx.checker.check_model(onnx.load(str(correct.reference_files["onnx_quantized"])))
    check = shapes_match_the_model(correct, name)
    assert check.ok, check.message
    assert check.figures["output_shape"].endswith("['batch_size']]")

    def swapped(graph):  # scores and labels in the wrong order
        scores, labels = onnx.ValueInfoProto(), onnx.ValueInfoProto()
        scores.CopyFrom(graph.output[1]), labels.CopyFrom(graph.output[2])
        graph.output[1].CopyFrom(labels), graph.output[2].CopyFrom(scores)

    (tmp_path / "swapped").mkdir()
    check = shapes_match_the_model(edited(made, tmp_path / "swapped", swapped), name)
    assert not check.ok and "in order" in check.message, check.message


def test_edge_mdt_cl_and_the_operators_versions_are_in_the_keys_and_the_environment(run, monkeypatch):
    """edge-mdt-cl's NMS makes every detection and pycocotools every mAP (the detection task's packages);
    mct-quantizers' and onnxruntime-extensions' operators run the ONNX file (the runtime's settings too): their
    versions are in the cache keys and results.json."""
    from vsq.pipeline import artifacts
    from vsq.util import versions

    made, document = run
    operators, task = ("mct_quantizers", "onnxruntime_extensions"), ("edge_mdt_cl", "pycocotools")
    for name in (*task, *operators):
        assert document["environment"][name] == versions.version_of(name) is not None, name
    path = made.reference_files["onnx_quantized"]

    def keys():
        prints = artifacts.Fingerprints.of(made.job, PYTORCH)
        return (artifacts.model_info_key(prints, PYTORCH.describe_settings(made.config)),
                artifacts.evaluation_key(made.job, prints, "model-digest",
                                         PYTORCH.runtime_settings(path, made.config)),
                artifacts.recipe_key(made.job, prints, made.default_recipe),
                json.dumps(PYTORCH.runtime_settings(path, made.config)))

    before, found = keys(), versions.version_of
    for name in (*task, *operators):
        monkeypatch.setattr(versions, "version_of", lambda component: "9.9" if component == name else found(component))
        after = keys()
        assert all(a != b for a, b in zip(before[:3], after[:3])), name
        assert (before[3] != after[3]) == (name in operators), name


def tiny_onnx_classifier(path: Path) -> Path:
    """An ONNX classifier of standard operators only (the mean R, G, B as three scores), written by onnx.helper."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["images"], ["pooled"]), helper.make_node("Flatten", ["pooled"],
                                                                                         ["scores"])],
        "mean_colour", [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, 8, 8])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 3])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_onnx_sessions_register_only_the_operators_the_file_uses_and_follow_the_task(run, tmp_path):
    """edge-mdt-cl's operators are loaded for a file with its NMS only (a classifier's session never imports it);
    whether the file is a detector is the configuration's task, and a file whose outputs disagree is refused in one
    line naming the file and the task."""
    import subprocess
    import sys

    from vsq.errors import VsqError
    from vsq.frameworks.pytorch.onnx_runtime import OnnxModel, domains

    made, _ = run
    detector = made.reference_files["onnx_quantized"]
    assert domains(detector) == {"", "mct_quantizers", "EdgeMDT"}
    classifier = tiny_onnx_classifier(tmp_path / "classifier.onnx")
    code = ("import sys, numpy as np\nfrom vsq.frameworks.pytorch.onnx_runtime import OnnxModel\n"
            f"scores = OnnxModel({str(classifier)!r}, 2).predict(np.ones((3, 8, 8, 3), np.float32))\n"
            "assert scores.shape == (3, 3) and 'edgemdt_cl' not in sys.modules, sorted(sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    for path, task in ((detector, False), (classifier, True)):
        with pytest.raises(VsqError) as caught:
            OnnxModel(path, 1, detector=task)
        message = str(caught.value)
        assert "\n" not in message and str(path) in message and "set task to the model's" in message, message


def test_no_images_give_empty_detections(run):
    """A chunk of no images (every image of it unreadable) gives Detections of none, from the float and
    fake-quant models and the ONNX file alike."""
    from vsq.core.detections import Detections
    from vsq.frameworks.pytorch.onnx_runtime import OnnxModel

    made, _ = run
    none = np.zeros((0, 64, 64, 3), np.float32)
    for predict in (made.framework.predictor(made.model), made.framework.predictor(made.fake_quant_model),
                    OnnxModel(made.reference_files["onnx_quantized"], 2, detector=True).predict):
        got = predict(none)
        assert isinstance(got, Detections) and [a.shape[0] for a in got] == [0, 0, 0, 0], got
        assert got.boxes.shape[1:] == (16, 4) and got.count.dtype == np.int32
