"""Quantization variants on the tiny model: every kind builds with the real tools, is stored as its
kind says and keeps Top-1; a recipe the tool rejects fails only its own tests (pytester)."""

import json
import time
import xml.etree.ElementTree as ET

import pytest

import tiny
from runs import run_suites
from vsq.configuration.config import Variant
from vsq.errors import ExternalToolError


VARIANTS = [
    Variant("mct_ptq_imx500", "mct_ptq", target_platform="imx500"),
    Variant("mct_ptq_qnnpack", "mct_ptq", target_platform="qnnpack"),  # docs/configuration.md's third platform
    Variant("mct_gptq", "mct_gptq", epochs=1),
    Variant("mct_mixed_precision", "mct_mixed_precision", weights_memory_fraction=0.75),
    Variant("tf_dynamic_range", "tf_dynamic_range"),
    Variant("tf_float16", "tf_float16"),
    Variant("tf_integer_float_fallback", "tf_integer_float_fallback"),
    Variant("tf_full_integer_int8", "tf_full_integer", io_type="int8"),
    Variant("tf_full_integer_uint8", "tf_full_integer", io_type="uint8"),
]


def _batches(job):
    """The calibration batches as the harness makes them (seeded choice, one preprocessing)."""
    from vsq.data.calibration import decode_calibration

    return decode_calibration(job).iterate


@pytest.fixture(scope="module")
def job(tmp_path_factory, tiny_model):
    from vsq.pipeline.job import prepare

    root = tmp_path_factory.mktemp("variants")
    tiny.write_data(root)
    return prepare(tiny.write_config(root, source_keras_model=str(tiny_model)))


@pytest.fixture(scope="module")
def keras_model(job):
    from vsq.frameworks.keras.models import load_keras_model

    return load_keras_model(job.config)


@pytest.fixture(scope="module")
def built(job, keras_model):
    """Every kind built once: {name: (path, seconds)}."""
    from vsq.frameworks.keras.recipes import build_variant

    out = {}
    for variant in VARIANTS:
        started = time.perf_counter()
        path = build_variant(variant, keras_model, _batches(job), job.config, job.config.output_dir / variant.file_name)
        out[variant.name] = (path, time.perf_counter() - started)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_each_kind_builds_and_is_stored_as_its_kind(built, variant):
    from vsq.runtimes.tflite_storage import describe_tflite, io_problems, weight_problems

    path, _seconds = built[variant.name]
    assert path.is_file() and path.name == f"model_{variant.name}.tflite"
    assert not list(path.parent.glob(".*.tmp*")), "a temporary file was left beside the model"
    description = describe_tflite(path)
    assert weight_problems(variant.kind, description) == []
    assert io_problems(variant.kind, variant.io_type, description) == []
    if variant.kind == "tf_full_integer":
        assert description["inputs"] == description["outputs"] == [variant.io_type]
    if variant.kind == "tf_float16":
        assert description["weights"]["float16"]["bytes"] > description["weights"]["float32"]["bytes"]


@pytest.mark.slow
def test_every_variant_keeps_top1_on_the_tiny_model(job, built):
    """One decode per image for all files; int8/uint8 inputs and outputs go through scale and zero point."""
    from vsq.pipeline.evaluate import evaluate_models
    from vsq.runtimes.tflite import TFLiteClassifier

    predictors = {name: TFLiteClassifier(path, job.config.tflite_runtime).predict for name, (path, _) in built.items()}
    results = evaluate_models(predictors, job.config, job.evaluation_set)
    top1 = {name: result.top1 for name, result in results.items()}
    assert {name: value for name, value in top1.items() if value != 1.0} == {}


@pytest.mark.slow
def test_mixed_precision_stores_4_bit_weights_and_a_smaller_file(built):
    from vsq.runtimes.tflite_storage import describe_tflite

    mixed, uniform = built["mct_mixed_precision"][0], built["mct_ptq_imx500"][0]
    assert describe_tflite(mixed)["weights"].get("int4", {}).get("bytes", 0) > 0
    assert mixed.stat().st_size < uniform.stat().st_size


@pytest.mark.slow
def test_the_qnnpack_platform_reaches_mct(built):
    """target_platform qnnpack builds (above: integer weights, Top-1 kept) under its own capabilities: its Dense
    weights (256 units) quantized with one scale per tensor, where imx500's have one per output channel."""
    import numpy as np
    import tensorflow as tf

    def widest(path):  # the most scales any int8 tensor of the file has
        tensors = tf.lite.Interpreter(model_path=str(path)).get_tensor_details()
        return max(len(t["quantization_parameters"]["scales"]) for t in tensors if t["dtype"] == np.int8)

    assert (widest(built["mct_ptq_imx500"][0]), widest(built["mct_ptq_qnnpack"][0])) == (256, 3)


@pytest.mark.slow
def test_stock_tflite_platform_is_made_consistent(job):
    """MCT 2.6.1's own tflite platform rejects a model with MaxPooling2D; vsq's copy quantizes it."""
    import model_compression_toolkit as mct
    import tensorflow as tf

    from vsq.frameworks.keras import quantize

    inputs = tf.keras.Input((tiny.SIZE, tiny.SIZE, 3))
    x = tf.keras.layers.Conv2D(4, 3, padding="same")(inputs)
    x = tf.keras.layers.MaxPooling2D()(x)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(3)(tf.keras.layers.Flatten()(x)))
    batches = _batches(job)

    def data():
        return ([batch] for batch in batches())

    stock = mct.get_target_platform_capabilities(tpc_version="1.0", device_type="tflite")
    with pytest.raises(ValueError, match="can't have both enable_activation_quantization and quantization_preserving"):
        mct.ptq.keras_post_training_quantization(model, data, target_platform_capabilities=stock)
    assert quantize.ptq(model, data, "tflite") is not None
    imx500 = mct.get_target_platform_capabilities(tpc_version="1.0", device_type="imx500")
    assert quantize.target_platform_capabilities("imx500") == imx500  # consistent platforms are untouched


@pytest.mark.slow
def test_a_rejected_recipe_raises_the_tools_message_naming_the_variant(job, keras_model, tmp_path):
    from vsq.frameworks.keras.recipes import build_variant

    variant = Variant("too_small", "mct_mixed_precision", weights_memory_fraction=0.1)  # below 2-bit weights
    dest = tmp_path / variant.file_name
    with pytest.raises(ExternalToolError) as raised:
        build_variant(variant, keras_model, _batches(job), job.config, dest)
    message = str(raised.value)
    assert message.startswith("Model Compression Toolkit failed while building variant too_small (mct_mixed_precision")
    assert "cannot be quantized to meet the specified resource utilization" in message
    assert not dest.exists()


def test_cache_key_follows_the_options_that_matter(job):
    from vsq.pipeline.artifacts import Fingerprints
    from vsq.pipeline.artifacts import recipe_key as variant_key

    versions = {"tensorflow": "2.15.1", "model_compression_toolkit": "2.6.1"}
    prints = Fingerprints(model="m", calibration="c", evaluation="e", stack=versions,
                          framework={"tensorflow": "2.15.1"})
    key = lambda variant: variant_key(job, prints, variant)  # noqa: E731
    gptq = Variant("g", "mct_gptq", epochs=1)
    assert key(gptq) != key(Variant("g", "mct_gptq", epochs=2))
    assert key(gptq) == key(Variant("g", "mct_gptq", epochs=1, max_top1_drop=5.0, min_top1=0.5))
    assert key(Variant("f", "tf_float16")) == key(Variant("f", "tf_float16", epochs=9, io_type="uint8"))
    assert key(Variant("i", "tf_full_integer")) != key(Variant("i", "tf_full_integer", io_type="uint8"))
    other_calibration = Fingerprints(model="m", calibration="other", evaluation="e", stack=prints.stack,
                                     framework=prints.framework)
    assert variant_key(job, other_calibration, Variant("f", "tf_float16")) == key(Variant("f", "tf_float16"))
    assert variant_key(job, other_calibration, gptq) != key(gptq)


def test_recommendation_is_the_smallest_file_within_its_thresholds():
    from vsq.sections.comparison import recommend
    from vsq.core.verdicts import within_thresholds

    def model(top1, passes):  # a results entry: its Top-1 and the decision on its drop
        return {"top_1_accuracy": top1, "decision": {"passes": passes}}

    assert within_thresholds(model(0.9, True), None, 4) and not within_thresholds(model(0.9, False), None, 4)
    assert not within_thresholds(model(0.9, True), 0.95, 4) and not within_thresholds(model(0.25, True), None, 4)
    # While the float model is near chance every drop is meaningless (drops_are_meaningful): nothing is within.
    assert not within_thresholds(model(0.9, True), None, 4, meaningful=False)
    rows = {
        "model.tflite": {"file_size_bytes": 10, "within_threshold": True},  # not a candidate: float reference
        "big": {"file_size_bytes": 300, "within_threshold": True, "candidate": True},
        "small_but_bad": {"file_size_bytes": 100, "within_threshold": False, "candidate": True},
        "small": {"file_size_bytes": 200, "within_threshold": True, "candidate": True},
        "failed": {"within_threshold": False, "candidate": True, "error": "..."},
    }
    assert recommend(rows) == "small"
    assert recommend({"failed": rows["failed"]}) is None


# --- the plugin end to end ---------------------------------------------------------------------------


@pytest.mark.slow
def test_suites_fail_only_the_variant_the_tool_rejects(harness, tiny_model, shared_cache):
    compared, plain = harness.path / "compared", harness.path / "plain"
    tiny.write_data(compared)
    tiny.write_data(plain)
    configs = [
        tiny.write_config(compared, source_keras_model=str(tiny_model), variants=[
            "tf_float16",
            {"kind": "mct_mixed_precision", "name": "mp_too_small", "weights_memory_fraction": 0.1},
        ]),
        tiny.write_config(plain, name="plain.json", source_keras_model=str(tiny_model)),
    ]
    baseline = harness.path / "baseline.json"
    result = run_suites(harness, *configs, extra=["--junitxml", "junit.xml", f"--baseline={baseline}",
                                                  "--accept-baseline"], cache=shared_cache)
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output[-3000:]
    # The accepted baseline holds the variants' figures too (results are complete before it is written).
    accepted = json.loads(baseline.read_text())["configurations"]["configuration"]["top_1"]
    assert accepted["tf_float16"] == 1.0 and "mp_too_small" not in accepted

    cases = {case.get("name"): case for case in ET.parse(harness.path / "junit.xml").iter("testcase")}
    # A variant's own tests: its checks, and its comparison with the accepted baseline.
    variant_cases = {name: case for name, case in cases.items() if name.endswith(("-tf_float16]", "-mp_too_small]"))}
    # The same checks for both variants, for the configuration that has variants only; no io check for tf_float16.
    assert {name.split("[")[1] for name in variant_cases} == {"configuration-tf_float16]",
                                                              "configuration-mp_too_small]"}
    checks = {variant: {name.split("[")[0] for name in variant_cases if name.endswith(f"-{variant}]")}
              for variant in ("tf_float16", "mp_too_small")}
    assert checks["tf_float16"] == checks["mp_too_small"]
    assert {"test_variant_file_written", "test_variant_top1_drop_within_threshold",
            "test_no_drop_against_baseline"} <= checks["tf_float16"]
    assert "test_full_integer_input_and_output_types" not in checks["tf_float16"]
    assert {"test_variant_file_written", "test_variant_weights_stored_as_its_kind", "test_variant_top1_drop_within_"
            "threshold", "test_variant_top1_above_minimum"} <= checks["mp_too_small"]  # each fails below
    for name, case in variant_cases.items():
        failure = case.find("failure")
        if "mp_too_small" in name:
            assert failure is not None, name
            if name.startswith("test_no_drop_against_baseline"):
                assert "variant mp_too_small (model_mp_too_small.tflite) has no Top-1 in this run" in \
                    failure.get("message")
                continue
            assert "Model Compression Toolkit failed while building variant mp_too_small" in failure.get("message")
            assert "cannot be quantized to meet the specified resource utilization" in failure.get("message")
            assert "Fix: raise weights_memory_fraction (now 0.1)" in failure.get("message")
            properties = {p.get("name"): p.get("value") for p in case.iter("property")}
            assert properties["kind"] == "mct_mixed_precision" and properties["build"] == "failed"
        else:
            assert failure is None, (name, failure.get("message") if failure is not None else None)
    other_failures = [name for name, case in cases.items()
                      if case.find("failure") is not None and name not in variant_cases]
    assert other_failures == []

    document = json.loads((compared / "results" / "results.json").read_text())
    section = document["variants"]
    assert list(section["models"]) == ["model.tflite", "model_quantized.tflite", "tf_float16", "mp_too_small"]
    assert section["models"]["tf_float16"]["top_1_accuracy"] == 1.0
    assert section["models"]["tf_float16"]["agreement_with_keras"] == 1.0
    assert section["models"]["tf_float16"]["latency_ms_per_image"] > 0
    assert section["models"]["mp_too_small"]["within_threshold"] is False
    assert "cannot be quantized" in section["failed"]["mp_too_small"]
    assert section["recommended"] == "model_quantized.tflite"  # INT8 is smaller than float16 here
    assert (compared / "output" / "model_tf_float16.tflite").is_file()
    assert not (compared / "output" / "model_mp_too_small.tflite").exists()
    assert "variants" not in json.loads((plain / "results" / "results.json").read_text())
    result.stdout.re_match_lines([
        r"configuration\s+tf_float16\s+tf_float16\s+TFLite CPU\s+[\d.]+\s+1\.0000\s+\+0\.00 \[\S+, \S+\]\s+PASS\s+1\.0000"
        r"\s+[\d.]+ / [\d.]+\s+[\d.]+\s+PASS",  # agree, worst err / min cos (the HTML's parity columns), ms/img, gate
        r"configuration\s+mp_too_small\s+mct_mixed_precision\s+IMX500\s+-.*ERROR",
        r"configuration: recommended \(\*\): model_quantized.tflite \(IMX500\) .*",
        r"configuration: recommended per device: TFLite CPU: tf_float16; IMX500: model_quantized.tflite",
        r"configuration: mp_too_small failed: Model Compression Toolkit failed while building variant mp_too_small.*",
    ])
