"""vsq.frameworks.keras.xquant and vsq.rendering.explain_chart with real MCT XQuant on tiny Keras models (no mocks)."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest

from vsq.frameworks.keras import quantize, xquant
from vsq.core import layers
from vsq.errors import ExternalToolError, VsqError

pytestmark = pytest.mark.slow

SIZE = 16


def _outlier_model(relu: bool = True):
    """A model with one layer that quantizes badly on purpose.

    `outlier` puts the red mean x 1000 on channel 0 and small values on channels 1..7. Activations
    are quantized per tensor, so the 8-bit step (~4) erases channels 1..7, the only ones `victim`
    reads: its output is mostly quantization noise, while every other layer is close to float.
    Without the ReLU between them, MCT collapses the two linear convs into one.
    """
    import tensorflow as tf

    layers = tf.keras.layers
    inputs = tf.keras.Input((SIZE, SIZE, 3))
    x = layers.Conv2D(8, 1, name="outlier")(inputs)
    x = layers.ReLU(name="relu")(x) if relu else x
    x = layers.Conv2D(4, 1, name="victim")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    model = tf.keras.Model(inputs, layers.Dense(3, activation="softmax", name="head")(x))
    rng = np.random.default_rng(0)
    first = rng.uniform(0.2, 1.0, size=(1, 1, 3, 8)).astype(np.float32)
    first[..., 0] = [1000.0, 0.0, 0.0]
    model.get_layer("outlier").set_weights([first, np.zeros(8, np.float32)])
    second = rng.uniform(-1, 1, size=(1, 1, 8, 4)).astype(np.float32)
    second[:, :, 0, :] = 1e-4  # ignores the outlier channel
    model.get_layer("victim").set_weights([second, np.zeros(4, np.float32)])
    model.get_layer("head").set_weights([rng.uniform(-1, 1, size=(4, 3)).astype(np.float32), np.zeros(3, np.float32)])
    return model


def _batches(count: int, batch: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.random((batch, SIZE, SIZE, 3), dtype=np.float32) for _ in range(count)]


@pytest.fixture(scope="module")
def models():
    float_model = _outlier_model()
    quantized = quantize.ptq(float_model, lambda: ([b] for b in _batches(2, 8, 0)), "imx500")
    return float_model, quantized


@pytest.fixture(scope="module")
def explained(models, tmp_path_factory):
    """The explanation, made with the working directory in an empty folder that must stay empty."""
    root = tmp_path_factory.mktemp("explained")
    cwd = root / "cwd"
    cwd.mkdir()
    # XQuant calls logging.shutdown(): a mode "w" file handler (as pytest's --log-file) must keep writing.
    log_file = tmp_path_factory.mktemp("log") / "run.log"
    handler = logging.FileHandler(log_file, mode="w")
    other = logging.getLogger("vsq.test_explain")
    other.addHandler(handler)
    other.setLevel(logging.INFO)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(cwd)
            result = xquant.explain(*models, _batches(2, 8, 0), _batches(3, 8, 1), root / "report",
                                     max_validation_images=20, batch_images=8)
        other.info("written after XQuant")
        handler.flush()
        logged = log_file.read_text()
    finally:
        other.removeHandler(handler)
        handler.close()
    assert "written after XQuant" in logged, "XQuant's logging.shutdown() closed another file handler"
    return root, result


def test_layers_carry_the_float_models_names_and_types(models, explained):
    float_model, _ = models
    _, result = explained
    names = {layer.name: type(layer).__name__ for layer in float_model.layers}
    assert [layer.name for layer in result.layers] == ["outlier", "victim", "head"]
    for layer in result.layers:
        assert layer.type == names[layer.name]
        assert float_model.layers[layer.index].name == layer.name
        assert layer.wrapper.startswith("keras_quantization_wrapper")
    assert [layer.index for layer in result.layers] == sorted(layer.index for layer in result.layers)


def test_the_layer_made_to_quantize_badly_ranks_worst(explained):
    _, result = explained
    by_name = {layer.name: layer for layer in result.layers}
    assert result.worst(1)[0].name == "victim"
    assert by_name["victim"].validation.sqnr_db < 10 < by_name["outlier"].validation.sqnr_db
    assert by_name["outlier"].validation.cosine > 0.99  # cosine, not XQuant's negated "cs"
    assert result.worst(3, on="representative")[0].name == "victim"


def test_layers_mct_collapsed_name_both_user_layers(tmp_path):
    float_model = _outlier_model(relu=False)
    quantized = quantize.ptq(float_model, lambda: ([b] for b in _batches(1, 8, 0)), "imx500")
    result = xquant.explain(float_model, quantized, _batches(1, 8, 0), _batches(1, 8, 1), tmp_path / "report")
    first = result.layers[0]
    assert (first.name, first.merged, first.mct_name) == ("outlier", ("victim",), "outlier_victim_collapsed")
    assert [layer.name for layer in result.layers] == ["outlier", "head"]


def test_samples_are_bounded(explained):
    _, result = explained
    assert (result.representative_images, result.validation_images) == (16, 20)


def test_as_dict_is_strict_json_and_round_trips(explained):
    _, result = explained
    data = result.as_dict()
    text = json.dumps(data, allow_nan=False)
    assert data["worst"][0] == "victim" and data["status"] == "ok"
    back = layers.Explanation.from_dict(json.loads(text))
    assert [layer.name for layer in back.worst(3)] == [layer.name for layer in result.worst(3)]


def test_writes_only_under_report_dir_and_cleans_up_mcts_logging(explained):
    from model_compression_toolkit.logger import Logger

    root, result = explained
    assert sorted(p.name for p in root.iterdir()) == ["cwd", "report"]
    assert list((root / "cwd").iterdir()) == []
    assert "quant_report.json" in result.files
    assert any(name.endswith("mct_log.log") for name in result.files)
    assert any(name.startswith("xquant/events.out.tfevents") for name in result.files)
    assert all((result.report_dir / name).is_file() for name in result.files)
    assert Logger.LOG_PATH is None  # while set, MCT's PTQ would write TensorBoard logs there
    assert not [h for h in logging.getLogger("Model Compression Toolkit").handlers if isinstance(h, logging.FileHandler)]


def test_reloaded_keras_export_gives_the_same_figures(models, explained, tmp_path):
    import mct_quantizers

    float_model, quantized = models
    path = quantize.export_keras(quantized, tmp_path / "model_quantized.keras")
    reloaded = mct_quantizers.keras_load_quantized_model(str(path))
    again = xquant.explain(float_model, reloaded, _batches(2, 8, 0), _batches(3, 8, 1), tmp_path / "report",
                            max_validation_images=20, batch_images=8)
    _, first = explained
    assert [layer.as_dict()["validation"] for layer in again.layers] == [
        layer.as_dict()["validation"] for layer in first.layers]


def test_xquant_failure_is_an_external_tool_error_with_its_message(models, tmp_path, monkeypatch):
    from model_compression_toolkit.logger import Logger

    float_model, quantized = models
    monkeypatch.chdir(tmp_path)
    import tensorflow as tf

    # A float model at another input size: the quantized model, fixed at SIZE, cannot take its images.
    inputs = tf.keras.Input((SIZE + 4, SIZE + 4, 3))
    other = tf.keras.Model(inputs, float_model(inputs))
    wrong_size = [np.zeros((4, SIZE + 4, SIZE + 4, 3), np.float32)]
    with pytest.raises(ExternalToolError) as caught:
        xquant.explain(other, quantized, wrong_size, wrong_size, tmp_path / "report")
    message = str(caught.value)
    assert message.startswith("Model Compression Toolkit XQuant failed while comparing the quantized model")
    assert layers.failed(message)["error"] == message
    json.dumps(layers.failed(message, tmp_path / "report"), allow_nan=False)
    assert Logger.LOG_PATH is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_refuses_a_report_dir_with_older_files(models, tmp_path):
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(VsqError, match="not empty"):
        xquant.explain(*models, _batches(1, 2, 0), _batches(1, 2, 0), tmp_path)


def test_user_layers_undoes_mcts_renaming():
    names = {"conv", "bn", "add", "block_1_conv", "sep"}
    assert xquant.user_layers("conv_bn", names) == ("conv",)
    assert xquant.user_layers("sep_dw", names) == ("sep",)
    assert xquant.user_layers("block_1_conv_bn_add_collapsed", names) == ("block_1_conv", "add")
    assert xquant.user_layers("unknown_bn", names) == ()


def test_json_numbers_and_db():
    assert [layers.json_number(v) for v in (1.5, math.inf, -math.inf, math.nan)] == [1.5, "inf", "-inf", None]
    assert [layers.to_db(v) for v in (100.0, math.inf, 0.0)] == [20.0, math.inf, -math.inf]
    assert math.isnan(layers.to_db(math.nan))
    assert layers.spread_indices(10, 3).tolist() == [0, 4, 9]
    assert [len(b) for b in layers.rebatch(_batches(3, 5, 0), 12, 4)] == [4, 4, 4]


def test_sqnr_chart_renders_worst_layers(explained, monkeypatch):
    """The chart's red labels name the three layers of lowest validation SQNR, ranked here from the figures (an
    exact layer ranks last); the figure is read as matplotlib drew it, then its PNG decoded."""
    import io

    from PIL import Image

    from vsq.rendering import explain_chart

    drawn = []
    encode = explain_chart._png
    monkeypatch.setattr(explain_chart, "_png", lambda fig: drawn.append(fig) or encode(fig))
    _, result = explained
    data = result.as_dict()
    data["layers"][0]["validation"]["sqnr_db"] = "inf"  # exact and missing values must not break the chart
    data["layers"][1]["representative"]["sqnr_db"] = None
    png = explain_chart.sqnr_chart(json.loads(json.dumps(data, allow_nan=False)))
    worst = sorted(data["layers"], key=lambda layer: float(layer["validation"]["sqnr_db"]))[:3]  # float("inf")
    shown = [f"{float(sqnr):.1f} dB" if sqnr != "inf" else "exact" for sqnr in
             (layer["validation"]["sqnr_db"] for layer in worst)]
    labels = [text.get_text() for text in drawn[0].axes[0].texts]
    assert labels == [f"{rank}. {layer['name']} ({layer['type']})\n{db}"
                      for rank, (layer, db) in enumerate(zip(worst, shown), 1)], labels
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width > 2 * image.height > 600 and len(image.getcolors(1 << 16)) > 50


def test_failure_hint_names_the_worst_layers_and_the_variants(models, explained):
    float_model, _ = models
    _, result = explained
    hint = layers.failure_hint(result.as_dict())
    assert hint.startswith("; lowest SQNR: victim (Conv2D) ")
    assert "mct_mixed_precision" in hint and "mct_gptq" in hint and str(result.report_dir) in hint
    assert "\n" not in hint
    named = [part.split(" (")[0] for part in hint.split(": ", 1)[1].split("; ")[0].split(", ")]
    assert len(named) == 3 and set(named) <= {layer.name for layer in float_model.layers}
    assert layers.failure_hint(layers.failed("MCT XQuant failed while x: Exception: boom\nmore")) == (
        "; the per-layer explanation failed: MCT XQuant failed while x: Exception: boom")
    assert layers.failure_hint(None) == layers.failure_hint({"status": "skipped"}) == ""


def test_failure_hint_is_bounded(explained):
    _, result = explained
    data = result.as_dict()
    long_name = "block_" * 20
    renamed = data["worst"][0]
    data["worst"][0] = long_name
    next(layer for layer in data["layers"] if layer["name"] == renamed)["name"] = long_name
    hint = layers.failure_hint(data)
    assert long_name[:layers.HINT_NAME_CHARS - 3] + "..." in hint and long_name not in hint
    failed = layers.failure_hint(layers.failed("XQuant failed: " + "x" * 1000))
    assert len(failed) < 200 and failed.endswith("...")


def test_html_part_shows_the_chart_or_the_tools_message(explained):
    from vsq.rendering.explain_chart import html_part

    _, result = explained
    ok = html_part("cfg", {"explanation": result.as_dict()})
    assert ok.count('<img class="vsq-chart"') == 1 and "per-layer SQNR" in ok and "victim" in ok
    failed = html_part("cfg", {"explanation": layers.failed("XQuant failed while x: <KeyError> 'a'")})
    assert 'class="vsq-fail"' in failed and "&lt;KeyError&gt;" in failed and "<img" not in failed
    assert html_part("cfg", {"explanation": {"status": "skipped", "reason": "r"}}) == html_part("cfg", {}) == ""


def test_the_float_model_is_folded_for_the_configurations_platform(models, tmp_path, monkeypatch):
    """XQuant folds the float model as PTQ did: for the platform the model was quantized for, not MCT's default."""
    from model_compression_toolkit.target_platform_capabilities.targetplatform2framework import attach2keras

    attached = []
    attach = attach2keras.AttachTpcToKeras.attach
    monkeypatch.setattr(attach2keras.AttachTpcToKeras, "attach",
                        lambda self, tpc, *args, **kwargs: attached.append(tpc) or attach(self, tpc, *args, **kwargs))
    float_model = models[0]
    quantized = quantize.ptq(float_model, lambda: ([b] for b in _batches(2, 8, 0)), "tflite")
    xquant.explain(float_model, quantized, _batches(1, 8, 0), _batches(1, 8, 1), tmp_path / "report",
                    target_platform="tflite")
    assert attached and attached[-1] == quantize.target_platform_capabilities("tflite")
    assert attached[-1] != quantize.target_platform_capabilities("imx500")
