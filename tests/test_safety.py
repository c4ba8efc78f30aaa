"""Models that would run stored Python code when loaded are refused unless the command line grants it, on
files Keras itself wrote (tests/test_hostile_models.py has the hand-made ones)."""

import pytest

import tiny
from vsq.configuration.grants import Grants
from vsq.errors import ConfigError
from vsq.pipeline.job import prepare
from vsq.frameworks.keras.safety import unsafe_layers

pytestmark = pytest.mark.slow
GRANTED = Grants.given(unsafe_model_code=["configuration"])


@pytest.fixture(scope="module")
def lambda_models(tmp_path_factory):
    import tensorflow as tf

    folder = tmp_path_factory.mktemp("unsafe")
    inputs = tf.keras.Input((tiny.SIZE, tiny.SIZE, 3))
    x = tf.keras.layers.Lambda(lambda t: t * 2.0, name="double")(inputs)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(3, activation="softmax")(x))
    model.save(folder / "lambda.h5")
    model.save(folder / "lambda.keras")
    model.save(folder / "lambda_savedmodel")
    inputs = tf.keras.Input((tiny.SIZE, tiny.SIZE, 3))
    x = tf.nn.relu6(tf.keras.layers.Conv2D(3, 1)(inputs) * 2.0)  # TFOpLambda layers of pure tensor functions
    x = tf.reshape(x, (-1, tiny.SIZE * tiny.SIZE * 3))[:, :12]
    pure = tf.keras.Model(inputs, tf.keras.layers.Dense(3, activation="softmax")(x))
    for name in ("pure.h5", "pure.keras", "pure_savedmodel"):
        pure.save(folder / name)
    return folder


@pytest.mark.parametrize("name", ["lambda.h5", "lambda.keras", "lambda_savedmodel"])
def test_lambda_layer_found_without_loading(lambda_models, name):
    assert unsafe_layers(lambda_models / name) == ["double (Lambda)"]


def test_plain_model_has_no_unsafe_layer(tiny_model):
    assert unsafe_layers(tiny_model) == []


@pytest.mark.parametrize("name", ["pure.h5", "pure.keras", "pure_savedmodel"])
def test_tensorflow_calls_of_pure_tensor_functions_pass(lambda_models, name):
    assert unsafe_layers(lambda_models / name) == []


@pytest.mark.parametrize("name", ["lambda.h5", "lambda.keras", "lambda_savedmodel"])
def test_refused_by_default_with_the_way_out(project, lambda_models, name):
    config = tiny.write_config(project, source_keras_model=str(lambda_models / name))
    with pytest.raises(ConfigError) as caught:
        prepare(config)
    assert caught.value.key == "source_keras_model"
    assert "double (Lambda)" in str(caught.value) and "--allow-unsafe-model-code configuration" in str(caught.value)


def test_loaded_when_the_command_line_grants_it(project, lambda_models):
    from vsq.frameworks.keras.models import load_keras_model

    job = prepare(tiny.write_config(project, source_keras_model=str(lambda_models / "lambda.keras"),
                                    allow_unsafe_model_code=True), GRANTED)
    assert load_keras_model(job.config).layers[1].name == "double"


def test_a_granted_model_runs_through_every_model_of_the_suites(harness, lambda_models):
    """MCT's quantized Keras model keeps the Lambda layer: it is loaded as the opted-in source model is."""
    import json

    from runs import run_suites

    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model=str(lambda_models / "lambda.keras"),
                               allow_unsafe_model_code=True, explanation={"when": "never"})
    result = run_suites(harness, config, extra=["--allow-unsafe-model-code", "configuration"])
    assert "errors" not in result.parseoutcomes(), result.stdout.str()[-3000:]
    document = json.loads((harness.path / "results" / "results.json").read_text())
    # Top-1 recounted from the confusion matrix (predictions against labels), not the figure copied into two keys.
    matrix = document["models"]["keras_quantized"]["confusion_matrix"]
    right, images = sum(matrix[i][i] for i in range(len(matrix))), sum(map(sum, matrix))
    assert images == document["num_images"] and document["top_1_accuracy_keras_quantized"] == right / images
