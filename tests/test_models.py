"""vsq.frameworks.keras.models: the three Keras formats load, and the checks that need the model name the fix."""

import pytest

import tiny
from vsq.errors import ConfigError
from vsq.pipeline.job import prepare
from vsq.frameworks.keras.models import ModelInfo, check_model_matches, load_keras_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def formats(tiny_model, tmp_path_factory):
    """The tiny model as .h5 (as made), .keras and a SavedModel directory."""
    import tensorflow as tf

    folder = tmp_path_factory.mktemp("formats")
    model = tf.keras.models.load_model(tiny_model, compile=False)
    model.save(folder / "model.keras")
    model.save(folder / "saved_model")  # no suffix: Keras 2.15 writes a SavedModel directory
    return {"h5": tiny_model, "keras": folder / "model.keras", "savedmodel": folder / "saved_model"}


@pytest.mark.parametrize("kind", ["h5", "keras", "savedmodel"])
def test_each_format_loads_and_matches(project, formats, kind):
    job = prepare(tiny.write_config(project, source_keras_model=str(formats[kind])))
    info = ModelInfo.of(load_keras_model(job.config))
    assert info.input_shapes == ((None, tiny.SIZE, tiny.SIZE, 3),) and info.num_outputs == 3
    check_model_matches(job.config, info, job.evaluation_set.num_classes)


def test_a_file_that_is_not_a_model_is_named(project):
    (project / "model.h5").write_bytes(b"not HDF5 at all")
    with pytest.raises(ConfigError, match=r"source_keras_model: model.h5 -> .*model.h5: is not an HDF5 file"):
        prepare(tiny.write_config(project))  # the model guard reads the file as Keras will, before any work


def test_output_count_must_match_labels(project):
    job = prepare(tiny.write_config(project))
    info = ModelInfo(input_shapes=((None, 16, 16, 3),), output_shapes=((None, 5),))
    with pytest.raises(ConfigError, match="has 3 classes but the model has 5 outputs") as caught:
        check_model_matches(job.config, info, job.evaluation_set.num_classes)
    assert caught.value.key == "evaluate_label_file"
