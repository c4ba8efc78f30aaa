"""Model files the configuration gives (issue 33, docs/given-files.md): `quantized_model` in the quantized role
(no MCT run), `models` as rows of the variants table, each format on its runtime, the input contract checked,
what a file would load besides itself refused without the grant."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tiny

pytestmark = pytest.mark.slow


# --- tiny given files -------------------------------------------------------------------------------------------


def onnx_model(path: Path, layout: str = "NCHW", size: int = tiny.SIZE, head=None, input_type: str = "float32",
               domain: str | None = None) -> Path:
    """The mean colour -> class classifier as an ONNX graph: ReduceMean over the image, MatMul by the head,
    Softmax. input_type int8: the input is DequantizeLinear'd with scale 1/255 and zero point -128 first;
    domain: one more node of that (custom) domain, as a file naming a custom operator library would."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    head = tiny.colour_head() if head is None else head
    shape = [1, 3, size, size] if layout == "NCHW" else [1, size, size, 3]
    axes = [2, 3] if layout == "NCHW" else [1, 2]
    elem = {"float32": TensorProto.FLOAT, "int8": TensorProto.INT8}[input_type]
    nodes, initializers, source = [], [numpy_helper.from_array(np.asarray(head, np.float32) * 10.0, "head")], "x"
    if input_type == "int8":
        initializers += [numpy_helper.from_array(np.array(1 / 255, np.float32), "scale"),
                         numpy_helper.from_array(np.array(-128, np.int8), "zero")]
        nodes.append(helper.make_node("DequantizeLinear", ["x", "scale", "zero"], ["real"]))
        source = "real"
    nodes += [helper.make_node("ReduceMean", [source], ["mean"], axes=axes, keepdims=0),
              helper.make_node("MatMul", ["mean", "head"], ["logits"]),
              helper.make_node("Softmax", ["logits"], ["y"], axis=1)]
    opsets = [helper.make_opsetid("", 13)]
    if domain:
        nodes.append(helper.make_node("Evil", ["y"], ["z"], domain=domain))
        nodes[-2].output[0] = "y0"
        nodes[-1].input[0] = "y0"
        nodes[-1].output[0] = "y"
        opsets.append(helper.make_opsetid(domain, 1))
    graph = helper.make_graph(nodes, "given", [helper.make_tensor_value_info("x", elem, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, head.shape[1]])], initializers)
    model = helper.make_model(graph, opset_imports=opsets, ir_version=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def openvino_ir(onnx_file: Path, xml: Path) -> Path:
    import openvino as ov

    ov.save_model(ov.convert_model(str(onnx_file)), str(xml), compress_to_fp16=False)
    return xml


def tflite_int8(keras_file: Path, dest: Path) -> Path:
    """TensorFlow's full-integer export of the Keras model, int8 input and output."""
    import tensorflow as tf

    model = tf.keras.models.load_model(keras_file, compile=False)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    rng = np.random.default_rng(0)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([rng.uniform(0, 1, (1, tiny.SIZE, tiny.SIZE, 3)).astype(np.float32)]
                                                for _ in range(20))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    dest.write_bytes(converter.convert())
    return dest


def onnx_of_tflite(tflite: Path, dest: Path) -> Path:
    """tf2onnx's conversion of a .tflite: of TensorFlow's full-integer export, an ONNX file with int8 input and
    int8 output (a QuantizeLinear writes the scores), as a user's converter pipeline would ship it."""
    import tf2onnx

    tf2onnx.convert.from_tflite(str(tflite), opset=13, output_path=str(dest))
    return dest


def with_custom_operator(source: Path, dest: Path) -> Path:
    """The .tflite with its first operator code made a custom operator ("Evil"), as a file needing a library."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(source.read_bytes(), 0))
    model.operatorCodes[0].builtinCode = model.operatorCodes[0].deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    model.operatorCodes[0].customCode = "Evil"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    dest.write_bytes(builder.Output())
    return dest


@pytest.fixture(scope="module")
def given(tmp_path_factory, tiny_model):
    """A tiny project with given files of every format under exports/."""
    root = tmp_path_factory.mktemp("given")
    tiny.write_data(root, mislabelled=4)
    exports = root / "exports"
    exports.mkdir()
    files = {"tflite_int8": tflite_int8(tiny_model, exports / "model_int8.tflite"),
             "onnx_nchw": onnx_model(exports / "model_nchw.onnx"),
             "onnx_int8": onnx_model(exports / "model_int8_input.onnx", layout="NHWC", input_type="int8"),
             "onnx_custom": onnx_model(exports / "custom.onnx", domain="com.example.evil"),
             "onnx_shifted": onnx_model(exports / "shifted.onnx", head=np.roll(tiny.colour_head(), 1, axis=1))}
    files["openvino"] = openvino_ir(files["onnx_nchw"], exports / "model_ir.xml")
    files["onnx_int8_io"] = onnx_of_tflite(files["tflite_int8"], exports / "model_int8_io.onnx")
    files["tflite_custom"] = with_custom_operator(files["tflite_int8"], exports / "custom.tflite")
    return root, {name: path.relative_to(root).as_posix() for name, path in files.items()}


def write(root: Path, model: Path, name: str = "configuration.json", **keys) -> Path:
    return tiny.write_config(root, name, source_keras_model=str(model), screen={"enabled": False},
                             explanation={"when": "never"}, **keys)


def run(config: Path, cache: Path, **grants):
    import vsq

    return vsq.run(config, cache_dir=cache, progress=False, **grants)


def by_hand(root: Path, config_file: Path, predict) -> float:
    """Top-1 over the evaluation images, each preprocessed by vsq's Preprocessing and fed by `predict` (one image
    as float32 (1, H, W, 3) -> scores): an evaluation independent of vsq's runtimes and feeding."""
    from vsq.configuration.config import load_config

    config = load_config(config_file)
    labels = json.loads((root / "evaluate" / "labels.json").read_text())
    hits = []
    for path in sorted((root / "evaluate" / "images").rglob("*.JPEG")):
        image = config.preprocessing.normalize(config.preprocessing.decode(path).pixels)[None].astype(np.float32)
        hits.append(int(np.argmax(predict(image))) == labels[path.parent.name])
    return float(np.mean(hits))


# --- the tests --------------------------------------------------------------------------------------------------


def test_given_tflite_onnx_and_openvino_files_are_evaluated_and_paired_without_an_mct_run(given, tiny_model,
                                                                                       tmp_path):
    """quantized_model (TensorFlow's int8-I/O export) is gated in the quantized role; an NCHW ONNX file, its
    OpenVINO IR and an int8-input ONNX file are rows of the variants table, each paired with the Keras model; the
    int8 files' Top-1 equals an evaluation by hand that quantizes the inputs with the files' own parameters."""
    import onnxruntime
    import tensorflow as tf

    root, files = given
    config = write(root, tiny_model, quantized_model=files["tflite_int8"],
                   models=[{"name": "onnx_nchw", "file": files["onnx_nchw"], "layout": "NCHW"},
                           {"name": "ir", "file": files["openvino"]},
                           {"name": "onnx_int8", "file": files["onnx_int8"], "input_type": "int8"}])
    result = run(config, tmp_path / "cache")
    document = result.document
    assert result.failures() == {}, result.failures()
    from vsq.pipeline import results_check

    assert results_check.load(Path(document["results_file"]))["given"].keys() == {"given_quantized", "onnx_nchw",
                                                                                 "ir", "onnx_int8"}
    assert not (root / "output" / "model_quantized.tflite").exists()  # no MCT run: vsq built no quantized file
    assert not any("quantized" in name and "given" not in name for name in document["cache"]), document["cache"]
    assert document["reference_models"]["quantized"] == "given_quantized"
    quantized = document["models"]["given_quantized"]
    assert quantized["paired"]["keras"]["num_images"] == document["num_images"] == 36
    assert {"quantized_top1_drop_within_threshold", "quantized_top1_above_minimum",
            "given_quantized_weights_are_integer"} <= set(document["checks"])
    rows = document["variants"]["models"]
    for name, runtime in (("onnx_nchw", "onnxruntime"), ("ir", "openvino"), ("onnx_int8", "onnxruntime")):
        assert rows[name]["runtime"]["name"] == runtime and "keras" in rows[name]["paired"], rows[name]
        assert f"given_model_top1_drop_within_threshold[{name}]" in document["checks"]
    assert document["given"]["onnx_int8"]["contract"] == {
        "format": "onnx", "input_shape": [1, 16, 16, 3], "layout": "NHWC", "input_type": "int8",
        "input_scale": pytest.approx(1 / 255), "input_zero_point": -128}
    assert document["given"]["given_quantized"]["runtime"]["name"] == "tflite"
    assert quantized["parity"]["keras"] and all(rows[name]["parity"]["keras"] for name in ("onnx_nchw", "ir", "onnx_int8"))

    interpreter = tf.lite.Interpreter(model_path=str(root / files["tflite_int8"]))
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()

    def tflite(image):
        scale, zero = inp["quantization"]
        interpreter.set_tensor(inp["index"], np.clip(np.round(image / scale + zero), -128, 127).astype(np.int8))
        interpreter.invoke()
        return interpreter.get_tensor(out["index"])

    assert quantized["top_1_accuracy"] == by_hand(root, config, tflite)
    session = onnxruntime.InferenceSession(str(root / files["onnx_int8"]), providers=["CPUExecutionProvider"])

    def onnx_int8(image):
        return session.run(None, {"x": np.clip(np.round(image * 255 - 128), -128, 127).astype(np.int8)})[0]

    assert rows["onnx_int8"]["top_1_accuracy"] == by_hand(root, config, onnx_int8)
    assert rows["ir"]["top_1_accuracy"] == rows["onnx_nchw"]["top_1_accuracy"]  # the same graph on two runtimes


def test_an_int8_output_onnx_file_is_read_with_its_own_scale_and_zero_point(given, tiny_model, tmp_path):
    """tf2onnx's ONNX of TensorFlow's int8-I/O export: its int8 scores are dequantized with the file's own
    QuantizeLinear parameters before scoring, so they equal what TFLite's interpreter gives for the .tflite it
    came from (read with that file's output quantization), and its parity with Keras is that of real scores
    (raw int8 scores would be up to 255 away from Keras' probabilities)."""
    import onnx
    import tensorflow as tf
    from onnx import numpy_helper

    root, files = given
    graph = onnx.load(str(root / files["onnx_int8_io"])).graph
    assert graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.INT8  # the real file is what it says
    last = next(node for node in graph.node if node.output[0] == graph.output[0].name)
    stored = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    config = write(root, tiny_model, "int8_io.json", models=[{"name": "onnx_int8_io", "file": files["onnx_int8_io"]}])
    document = run(config, tmp_path / "cache").document
    contract = document["given"]["onnx_int8_io"]["contract"]
    assert contract["input_type"] == contract["output_type"] == "int8"
    assert contract["output_scale"] == pytest.approx(float(stored[last.input[1]]))
    assert contract["output_zero_point"] == int(stored[last.input[2]])
    row = document["variants"]["models"]["onnx_int8_io"]
    assert row["parity"]["keras"]["max_abs_error"]["max"] < 0.1 and row["parity"]["keras"]["cosine"]["min"] > 0.95

    from vsq.configuration.config import load_config
    from vsq.pipeline.given import file_predictor

    loaded = load_config(config)
    interpreter = tf.lite.Interpreter(model_path=str(root / files["tflite_int8"]))
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    from vsq.configuration.given import given_files

    predict = file_predictor(given_files(loaded)[0], loaded, 1)
    for path in sorted((root / "evaluate" / "images").rglob("*.JPEG"))[:6]:
        image = loaded.preprocessing.normalize(loaded.preprocessing.decode(path).pixels)[None].astype(np.float32)
        scale, zero = inp["quantization"]
        interpreter.set_tensor(inp["index"], np.clip(np.round(image / scale + zero), -128, 127).astype(np.int8))
        interpreter.invoke()
        (out_scale, out_zero) = out["quantization"]
        expected = (interpreter.get_tensor(out["index"]).astype(np.float32) - out_zero) * out_scale
        np.testing.assert_allclose(predict(image), expected, atol=1.01 * out_scale)  # at most one step apart


def test_a_given_mct_keras_file_is_checked_for_quantized_weights_and_a_float_keras_fails(given, tiny_model,
                                                                                       tmp_path, shared_cache):
    """quantized_model = MCT's quantized .keras (a real export, copied as a user would ship it): its storage
    check reads every computing layer under an 8-bit MCT weights quantizer; the float model saved as .keras in
    its place fails the same check, naming the float layers."""
    import shutil

    import tensorflow as tf

    root, _ = given
    run(write(root, tiny_model, "mct_build.json"), shared_cache)
    shutil.copy(root / "output" / "model_quantized.keras", root / "exports" / "mct_given.keras")
    tf.keras.models.load_model(tiny_model, compile=False).save(root / "exports" / "float_given.keras")
    checked = {}
    for name in ("mct_given", "float_given"):
        config = write(root, tiny_model, f"{name}.json", quantized_model=f"exports/{name}.keras")
        checked[name] = run(config, tmp_path / "cache").document["checks"]["given_quantized_weights_are_integer"]
    assert checked["mct_given"]["verdict"] == "PASS", checked["mct_given"]
    assert checked["mct_given"]["figures"]["weights_quantized_layers"] == checked["mct_given"]["figures"][
        "weight_tensors"] == 4
    assert checked["float_given"]["verdict"] == "FAIL"
    assert "keeps 4 computing layers float, with no MCT weights quantizer" in checked["float_given"]["message"]


def test_a_given_file_is_held_to_the_baseline_like_a_variant(given, tiny_model, tmp_path):
    """The baseline accepts the given files' rows and no_drop_against_baseline compares each of them: the same file
    again passes, another file under the same name that gets fewer images right fails, naming the file."""
    root, files = given
    baseline, cache = tmp_path / "baseline.json", tmp_path / "cache"

    def document(file: str, **options) -> dict:
        config = write(root, tiny_model, "baselined.json", models=[{"name": "shipped", "file": file}])
        return run(config, cache, baseline=baseline, **options).document

    def checks(file: str, **options) -> dict:
        return document(file, **options)["checks"]

    baseline.write_text(json.dumps({"format": 1, "configurations": {"baselined": {"top_1": {"shipped": 0.25}}}}))
    replacing = document(files["onnx_nchw"], accept_baseline=True)  # the entry it replaces: its figures, by name
    assert replacing["baseline"]["replaced_figures"] == {"shipped": 0.25}
    accepted = replacing["checks"]
    assert accepted["no_drop_against_baseline[shipped]"]["verdict"] == "PASS"
    assert accepted["no_drop_against_baseline[shipped]"]["figures"]["replaced_baseline_top_1_accuracy"] == 0.25
    stored = json.loads(baseline.read_text())["configurations"]["baselined"]
    assert "shipped" in stored["top_1"] and "shipped" in stored["per_image"]["correct"]
    assert checks(files["onnx_nchw"])["no_drop_against_baseline[shipped]"]["verdict"] == "PASS"
    swapped = checks(files["onnx_shifted"])["no_drop_against_baseline[shipped]"]
    assert swapped["verdict"] == "FAIL" and "given model shipped (exports/shifted.onnx) Top-1" in swapped["message"]
    assert swapped["figures"]["baseline_drop_points"] > 0


def test_a_float_file_as_quantized_model_and_a_wrong_model_fail_their_checks(given, tiny_model, tmp_path):
    """Real failing cases: a float ONNX file given as quantized_model fails given_quantized_weights_are_integer; a
    given model whose classes are shifted by one fails given_model_top1_drop_within_threshold and
    given_model_top1_above_minimum."""
    root, files = given
    config = write(root, tiny_model, "failing.json", quantized_model=files["onnx_nchw"],
                   models=[{"name": "shifted", "file": files["onnx_shifted"], "thresholds": {"min_top1": 0.5}}])
    failures = run(config, tmp_path / "cache").failures()
    assert set(failures) == {"given_quantized_weights_are_integer", "given_model_top1_drop_within_threshold[shifted]",
                             "given_model_top1_above_minimum[shifted]"}, failures
    assert failures["given_quantized_weights_are_integer"].startswith(
        "failing: quantized_model model_nchw.onnx keeps 1 of 1 weight tensors in float"), failures
    assert "below models' shifted min_top1 0.5000" in failures["given_model_top1_above_minimum[shifted]"]


def refusal(root: Path, model: Path, grants=None, **keys):
    from vsq.configuration.grants import Grants
    from vsq.errors import ConfigError
    from vsq.pipeline.job import prepare

    with pytest.raises(ConfigError) as caught:
        prepare(write(root, model, "refused.json", **keys), grants or Grants())
    message = str(caught.value)
    assert "\n" not in message
    return caught.value.key, message


def test_a_wrong_layout_or_input_size_is_refused_in_one_line(given, tiny_model):
    root, files = given
    key, message = refusal(root, tiny_model, models=[{"name": "x", "file": files["onnx_nchw"], "layout": "NHWC"}])
    assert key == "models.0.file" and "takes NCHW input of shape [1, 3, 16, 16], and the configuration says NHWC; " \
        "set \"layout\": \"NCHW\"" in message, message
    key, message = refusal(root, tiny_model, input_tensor_size=24, quantized_model=files["tflite_int8"])
    assert key == "quantized_model" and "takes NHWC input of shape [-1, 16, 16, 3], and input_tensor_size is 24" in \
        message, message
    key, message = refusal(root, tiny_model, quantized_model={"file": files["tflite_int8"], "input_type": "float32"})
    assert "takes int8 input, and the configuration says float32" in message, message


def test_a_file_naming_a_custom_operator_is_refused_without_the_grant(given, tiny_model):
    from vsq.configuration.grants import Grants
    from vsq.pipeline.job import prepare

    root, files = given
    for name in ("tflite_custom", "onnx_custom"):
        key, message = refusal(root, tiny_model, quantized_model=files[name])
        assert key == "quantized_model" and "refused by default" in message and \
            "--allow-unsafe-model-code refused" in message, message
    assert "custom operator Evil" in refusal(root, tiny_model, quantized_model=files["tflite_custom"])[1]
    assert "ONNX domain com.example.evil" in refusal(root, tiny_model, quantized_model=files["onnx_custom"])[1]
    granted = prepare(write(root, tiny_model, "refused.json", quantized_model=files["onnx_custom"]),
                      Grants.given(unsafe_model_code=["refused"]))
    assert granted.given[0].name == "given_quantized"


def test_links_missing_companions_and_a_clash_with_imx500_are_refused(given, tiny_model):
    root, files = given
    link = root / "exports" / "linked.tflite"
    link.unlink(missing_ok=True)
    link.symlink_to(root / files["tflite_int8"])
    assert "is a symbolic link" in refusal(root, tiny_model, quantized_model="exports/linked.tflite")[1]
    lonely = root / "lonely" / "model.xml"
    lonely.parent.mkdir(exist_ok=True)
    lonely.write_bytes((root / files["openvino"]).read_bytes())
    assert "model.bin does not exist" in refusal(root, tiny_model, quantized_model="lonely/model.xml")[1]
    assert "and imx500 are both given" in refusal(root, tiny_model, quantized_model=files["tflite_int8"], imx500={})[1]


def test_the_evaluation_key_follows_the_given_files_bytes(given, tiny_model, tmp_path):
    """The cache key of a given file's evaluation is its bytes' (and its contract's): a new export is evaluated
    again, the same bytes are not."""
    import shutil

    from vsq.cache.store import Cache
    from vsq.pipeline.job import prepare
    from vsq.pipeline.options import RunOptions
    from vsq.pipeline.pipeline import Pipeline
    from vsq.pipeline.progress import Progress

    root, files = given
    copy = root / "exports" / "copy.onnx"
    shutil.copy(root / files["onnx_nchw"], copy)
    config = write(root, tiny_model, "keyed.json", models=[{"name": "copy", "file": "exports/copy.onnx"}])

    def key():
        job = prepare(config)
        return Pipeline(job, RunOptions(Cache(tmp_path), progress=Progress(False))).file_target("copy", copy).key

    first = key()
    assert key() == first
    onnx_model(copy, head=tiny.colour_head() * 2.0)
    assert key() != first


def test_external_data_outside_the_folder_a_doctype_and_a_huge_file_are_refused(given, tiny_model):
    import onnx

    root, files = given
    model = onnx.load(str(root / files["onnx_nchw"]))
    outside = root / "external"
    outside.mkdir(exist_ok=True)
    onnx.save(model, str(outside / "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
              location="weights.bin", size_threshold=0)
    saved = onnx.load(str(outside / "model.onnx"), load_external_data=False)
    for tensor in saved.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../exports/weights.bin"
    onnx.save(saved, str(outside / "model.onnx"))
    key, message = refusal(root, tiny_model, quantized_model="external/model.onnx")
    assert key == "quantized_model" and "keeps weights in an external file outside its own folder" in message, message

    doctype = root / "exports" / "doctype.xml"
    doctype.write_bytes(b'<?xml version="1.0"?><!DOCTYPE net [<!ENTITY a "aaaa">]>' +
                        (root / files["openvino"]).read_bytes().split(b"?>", 1)[1])
    doctype.with_suffix(".bin").write_bytes((root / files["openvino"]).with_suffix(".bin").read_bytes())
    assert "declares a DOCTYPE or entities" in refusal(root, tiny_model, quantized_model="exports/doctype.xml")[1]

    huge = root / "exports" / "huge.tflite"
    with open(huge, "wb") as handle:  # sparse: 2 GiB and one byte, nothing written
        handle.truncate(2 * 1024 ** 3 + 1)
    try:
        assert "more than the 2,147,483,648 vsq reads" in refusal(root, tiny_model, quantized_model="exports/huge.tflite")[1]
    finally:
        huge.unlink()


def test_the_readme_example_is_a_valid_configuration(given, tiny_model, tmp_path):
    """README's given-files example, written as it stands in a folder laid out as it says (real files: TensorFlow's
    int8 export, an ONNX classifier), loads and names both files; prepare() reads the int8 file's contract."""
    import re
    import shutil

    from vsq.configuration.config import load_config
    from vsq.configuration.given import given_files
    from vsq.pipeline.job import prepare

    root, files = given
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Gating a file you exported yourself", 1)[1]
    data = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))
    tiny.write_data(tmp_path)
    shutil.copy(tiny_model, tmp_path / "model.h5")
    shutil.copy(tmp_path / "evaluate" / "labels.json", tmp_path / "labels.json")
    (tmp_path / "exports").mkdir()
    shutil.copy(root / files["tflite_int8"], tmp_path / "exports" / "model_int8.tflite")
    shutil.copy(root / files["onnx_nchw"], tmp_path / "exports" / "model.onnx")
    data.update(input_tensor_size=tiny.SIZE, batch_size=8, iteration_count=2)  # the README's for 224 px, 500 images
    config = load_config(tiny.write_config_dict(tmp_path, data, "readme.json"))
    assert [(item.name, item.role) for item in given_files(config)] == [("given_quantized", "quantized"),
                                                                       ("shipped", "compared")]
    assert prepare(config.file).given[0].name == "given_quantized"


def test_mcts_own_keras_file_is_a_row_and_checking_given_files_imports_no_tensorflow(given, tiny_model, tmp_path,
                                                                                    shared_cache):
    """MCT's quantized .keras (the default run's model_quantized.keras, copied as a user would ship it) is a row
    run by Keras; prepare() reads a given .tflite's contract without importing TensorFlow."""
    import shutil
    import subprocess
    import sys

    root, files = given
    first = run(write(root, tiny_model, "mct.json"), shared_cache)
    shutil.copy(root / "output" / "model_quantized.keras", root / "exports" / "mct.keras")
    config = write(root, tiny_model, "mct.json", models=[{"name": "mct_keras", "file": "exports/mct.keras"}])
    document = run(config, shared_cache).document
    row = document["variants"]["models"]["mct_keras"]
    assert row["kind"] == "given (keras)" and row["device"] == "Keras CPU", row
    assert row["top_1_accuracy"] == first.document["models"]["keras_quantized"]["top_1_accuracy"]
    assert document["given"]["mct_keras"]["contract"]["input_shape"] == [-1, 16, 16, 3]

    tflite = write(root, tiny_model, "light.json", quantized_model=files["tflite_int8"])
    script = ("import sys; from vsq.pipeline.job import prepare; job = prepare(sys.argv[1]); "
              "print(job.given[0].name, 'tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script, str(tflite)], capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["given_quantized", "False"], done.stderr[-2000:]
