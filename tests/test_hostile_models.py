"""Model files made to slip code past vsq's guard (vsq.frameworks.keras.safety): each is refused at
`prepare`, before TensorFlow is imported, in one line naming the file and what to do.

The guard reads a file the way Keras 2.15's load_model will: a name ending in .keras that is a zip is the
Keras v3 format, any other file HDF5, a folder a SavedModel (keras_metadata.pb, else the metadata inside
saved_model.pb). Every file here is made by hand (tests/hostile.py), without Keras.
"""

import json
import os
import subprocess
import sys

import pytest

import hostile
import tiny
from vsq.configuration.grants import Grants
from vsq.pipeline.job import prepare
from vsq.errors import ConfigError, VsqError
from vsq.frameworks.keras.detector import post_process_from_file
from vsq.frameworks.keras.safety import ModelFormatError, unsafe_layers
from vsq.frameworks.keras.storage import describe_keras, weight_problems

KEY = "source_keras_model"


def refusal(project, model, grants=Grants(), **overrides) -> str:
    config = tiny.write_config(project, source_keras_model=str(model), **overrides)
    with pytest.raises(ConfigError) as caught:
        prepare(config, grants)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{config}: ")
    return message


def test_lambda_h5_with_a_zip_appended_is_refused_as_the_polyglot_it_is(project):
    """Still valid HDF5 (Keras loads it, Lambda and all); a zip reader sees a zip too. vsq used to pick the zip."""
    model = hostile.write_h5(project / "polyglot.h5", hostile.model_config(hostile.LAMBDA))
    hostile.append(model, hostile.keras_zip(hostile.model_config()))
    message = refusal(project, model)
    assert f"{KEY}: {model}: is both an HDF5 file and a zip archive" in message
    # granting model code does not make a file that two loaders read differently acceptable
    message = refusal(project, model, Grants(unsafe_model_code=frozenset({"configuration"})))
    assert "both an HDF5 file and a zip archive" in message


def test_lambda_h5_is_refused_and_the_grant_is_named(project):
    model = hostile.write_h5(project / "lambda.h5", hostile.model_config(hostile.LAMBDA))
    message = refusal(project, model)
    assert "double (Lambda)" in message and "--allow-unsafe-model-code configuration" in message
    assert prepare(tiny.write_config(project, source_keras_model=str(model)),
                   Grants(unsafe_model_code=frozenset({"configuration"}))).config.allow_unsafe_model_code


def test_a_keras_file_that_is_hdf5_is_refused(project):
    """Keras loads a .keras file that is no zip as HDF5: its name must not hide what it is."""
    model = hostile.write_h5(project / "model.keras", hostile.model_config(hostile.LAMBDA))
    assert "is not a Keras zip archive (Keras would read it as HDF5)" in refusal(project, model)


def test_a_keras_file_that_is_also_hdf5_is_refused(project):
    model = hostile.write_h5(project / "model.keras", hostile.model_config(hostile.LAMBDA))
    hostile.append(model, hostile.keras_zip(hostile.model_config()))
    assert "is both an HDF5 file and a zip archive" in refusal(project, model)


@pytest.mark.parametrize("content", [b"", b"GIF89a not a model", b"PK\x03\x04 truncated zip"])
def test_unknown_formats_are_refused(project, content):
    model = project / "model.h5"
    model.write_bytes(content)
    assert f"{KEY}: {model}: is not an HDF5 file" in refusal(project, model)


def test_keras_zip_with_two_config_files_is_refused(project):
    import io
    import zipfile

    model = project / "model.keras"
    buffer = io.BytesIO(hostile.keras_zip(hostile.model_config()))
    with zipfile.ZipFile(buffer, "a") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("config.json", json.dumps(hostile.model_config(hostile.LAMBDA)))
    model.write_bytes(buffer.getvalue())
    assert "holds config.json twice" in refusal(project, model)
    # the given quantized file's storage check reads the configuration through the same guard
    with pytest.raises(VsqError) as caught:
        describe_keras(model)
    assert str(caught.value) == "model.keras: holds config.json twice; save the model again with model.save()"


def test_a_configuration_nested_too_deep_is_refused_in_one_line_by_every_reader_of_it(project):
    """500 levels of lists in a layer's configuration (Keras' JSON reader takes them): the safety check, the
    detector's post-processing reader and the storage check walk configurations with one guarded walker, which
    refuses in one line instead of recursing into a RecursionError (or, for a reader without the guard, passing)."""
    deep = hostile.layer("Dense", "deep", units=json.loads("[" * 500 + "]" * 500))
    h5 = hostile.write_h5(project / "deep.h5", hostile.model_config(deep))
    keras = project / "deep.keras"
    keras.write_bytes(hostile.keras_zip(hostile.model_config(deep)))
    nested = "has a configuration nested more than 200 levels deep"
    assert refusal(project, h5).endswith(f"{KEY}: {h5}: {nested}")
    with pytest.raises(ModelFormatError) as caught:
        post_process_from_file(h5)
    assert str(caught.value) == nested
    with pytest.raises(VsqError) as caught:
        describe_keras(keras)
    assert str(caught.value) == f"deep.keras: {nested}"


def test_the_storage_check_reads_every_layer_of_nested_models_and_their_mct_weights_quantizers(tmp_path):
    """MCT's wrapper (a Conv2D under an 8-bit weights quantizer) inside a model inside the model, and a float Dense
    beside it: both are found, each with its type."""
    quantizer = {"class_name": "WeightsPOTInferableQuantizer", "config": {"num_bits": 8}}
    conv = hostile.layer("KerasQuantizationWrapper", "wrapped", layer=hostile.layer("Conv2D", "conv"),
                         weights_quantizer={"kernel": quantizer})
    inner = hostile.model_config(conv)
    inner.update(name="inner", inbound_nodes=[])
    path = tmp_path / "nested.keras"
    path.write_bytes(hostile.keras_zip(hostile.model_config(inner, hostile.layer("Dense", "dense"))))
    described = describe_keras(path)
    assert [(k["name"], k["op"], k["type"]) for k in described["kernels"]] == [("dense", "Dense", "float32"),
                                                                               ("conv", "Conv2D", "int8")]
    assert weight_problems(described) == [
        "keeps 1 computing layers float, with no MCT weights quantizer (dense): is it MCT's quantized model "
        "(model_quantized.keras), not the float one?"]


def test_lambda_in_a_savedmodels_keras_metadata_is_refused(project):
    model = hostile.write_saved_model(project / "saved", [hostile.LAMBDA])
    assert "double (Lambda)" in refusal(project, model)


def test_lambda_in_the_metadata_of_an_old_savedmodel_is_refused(project):
    """Without keras_metadata.pb, Keras revives layers from the metadata in saved_model.pb's object graph."""
    model = hostile.write_saved_model(project / "saved", [hostile.LAMBDA], legacy=True)
    assert "double (Lambda)" in refusal(project, model)


@pytest.mark.parametrize("function", ["io.write_file", "io.read_file", "py_function", "numpy_function",
                                      "compat.v1.py_func", "io.gfile.remove", "raw_ops.WriteFile"])
def test_tf_functions_outside_the_pure_tensor_list_are_refused(project, function):
    model = hostile.write_h5(project / "model.h5", hostile.model_config(hostile.tf_op(function)))
    assert f"tf.{function} (TFOpLambda calls tf.{function})" in refusal(project, model)
    folder = hostile.write_saved_model(project / "saved", [hostile.tf_op(function)])
    assert f"tf.{function} (TFOpLambda calls tf.{function})" in refusal(project, folder)


@pytest.mark.parametrize("function", ["math.multiply", "nn.relu6", "reshape", "__operators__.add", "image.resize",
                                      "concat", "math.reduce_mean"])
def test_pure_tensor_functions_pass(tmp_path, function):
    model = hostile.write_h5(tmp_path / "model.h5", hostile.model_config(hostile.tf_op(function)))
    assert unsafe_layers(model) == []
    assert unsafe_layers(hostile.write_saved_model(tmp_path / "saved", [hostile.tf_op(function)])) == []


@pytest.mark.parametrize("class_name", ["ClassMethod", "InstanceMethod", "InstanceProperty"])
def test_layers_that_call_any_method_are_refused(tmp_path, class_name):
    model = hostile.write_h5(tmp_path / "model.h5", hostile.model_config(
        hostile.layer(class_name, "call", attr_name="__class__", cls_symbol="io.gfile.GFile", method_name="close")))
    assert unsafe_layers(model) == [f"call ({class_name})"]


def test_a_keras_file_naming_a_module_outside_keras_is_refused(project):
    """Keras 2.15 imports any `module` a .keras configuration names (its loader's importlib.import_module)."""
    dense = hostile.layer("Dense", "dense", units=3, activation={
        "module": "os", "class_name": "function", "config": "system", "registered_name": None})
    model = project / "model.keras"
    model.write_bytes(hostile.keras_zip(hostile.model_config(dense)))
    assert "imports module os" in refusal(project, model)


def test_a_savedmodel_holding_a_symbolic_link_is_refused(project):
    model = hostile.write_saved_model(project / "saved", [])
    hostile.link(model / "variables" / "variables.index", "/dev/zero")
    assert f"{model / 'variables' / 'variables.index'} is a symbolic link" in refusal(project, model)


def test_unsafe_layers_reports_the_format_problem_as_its_own_error(tmp_path):
    model = tmp_path / "model.h5"
    model.write_bytes(b"junk")
    with pytest.raises(ModelFormatError, match="is not an HDF5 file"):
        unsafe_layers(model)


def test_python_m_vsq_run_refuses_a_polyglot_in_one_line_with_exit_4(project):
    model = hostile.append(hostile.write_h5(project / "polyglot.h5", hostile.model_config(hostile.LAMBDA)),
                           hostile.keras_zip(hostile.model_config()))
    config = tiny.write_config(project, source_keras_model=str(model))
    done = subprocess.run([sys.executable, "-m", "vsq", "run", str(config), "--cache-dir", str(project / "cache")],
                          capture_output=True, text=True, timeout=120, cwd=project,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 4 and done.stdout == "", done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"ERROR: {config}: {KEY}: ") and "zip" in line
    assert not (project / "output").exists() and not (project / "results").exists()
