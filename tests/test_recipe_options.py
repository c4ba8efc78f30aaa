"""Recipes as data: a variant's `options` (and the default recipe's, under "quantization") in the tools' own
names are checked before any heavy work, change the file the tool writes, and change exactly the cache keys of the
files they make (vsq.configuration.recipes, vsq.frameworks.recipe_options)."""

import hashlib
import json
import subprocess
import sys

import pytest

import tiny
from vsq.configuration.config import VARIANT_KINDS, Variant
from vsq.configuration.recipes import kind_options
from vsq.errors import ConfigError

PRINTS = dict(model="m", calibration="c", evaluation="e",
              stack={"tensorflow": "2.15.1", "model_compression_toolkit": "2.6.1"}, framework={"tensorflow": "2.15.1"})


def _load(project, **overrides):
    from vsq.configuration.config import load_config

    return load_config(tiny.write_config(project, **overrides))


def _refusal(project, **overrides) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        _load(project, **overrides)
    assert "\n" not in str(raised.value)
    return raised.value


def a_value(spec: dict):
    """A value the option's schema accepts (not necessarily the tool's default)."""
    if "enum" in spec:
        return spec["enum"][-1]
    kind = spec["type"]
    if kind == "boolean":
        return False
    if kind == "array":
        return ["Conv"]
    if kind == "object":
        return {"names": ["dense"]}
    if kind == "integer":
        return max(spec.get("minimum", 1), 2)
    return spec.get("maximum", spec.get("exclusiveMinimum", spec.get("minimum", 0)) + 0.5)


def test_a_variant_takes_a_name_a_kind_and_options_and_a_bare_kind_keeps_working(project):
    config = _load(project, variants=["mct_gptq", {"name": "mse", "kind": "mct_ptq",
                                                   "options": {"activation_error_method": "MSE", "z_threshold": 8}}],
                   quantization={"options": {"weights_bias_correction": False}})
    gptq, mse = config.variants
    assert (gptq.name, gptq.kind, gptq.options) == ("mct_gptq", "mct_gptq", {})
    assert (mse.name, mse.kind, mse.options) == ("mse", "mct_ptq", {"activation_error_method": "MSE", "z_threshold": 8})
    assert config.quantization.options == {"weights_bias_correction": False}
    assert config.as_dict()["quantization"] == {"options": {"weights_bias_correction": False}}
    assert config.as_dict()["variants"][1]["options"] == mse.options


def test_an_unknown_option_is_refused_in_one_line_with_did_you_mean(project):
    error = _refusal(project, variants=[{"kind": "mct_ptq", "options": {"z_treshold": 8}}])
    assert error.key == "variants.0.options.z_treshold"
    assert "is not an option of mct_ptq; did you mean z_threshold?" in str(error)
    error = _refusal(project, quantization={"options": {"per_channel": True}})  # ONNX Runtime's, not MCT's
    assert error.key == "quantization.options.per_channel" and "is not an option of mct_ptq" in str(error)
    error = _refusal(project, variants=[{"kind": "tf_float16", "options": {"experimental_new_quantizer": True}}])
    assert "tf_float16 takes no options" in str(error)


def test_a_value_out_of_its_limits_names_the_option_the_kind_and_what_it_accepts(project):
    error = _refusal(project, variants=[{"kind": "onnxruntime_int8", "options": {"weight_type": "int8"}}])
    assert error.key == "variants.0.options.weight_type"
    assert '"int8" is not accepted by onnxruntime_int8; it takes one of "QInt8", "QUInt8"' in str(error)
    error = _refusal(project, variants=[{"kind": "mct_ptq", "options": {"z_threshold": 0}}])
    assert "0 is not accepted by mct_ptq; it takes a number > 0" in str(error)
    error = _refusal(project, variants=[{"kind": "openvino_int8", "options": {"fast_bias_correction": "no"}}])
    assert "takes true or false" in str(error)


def test_a_shorthand_and_its_option_together_are_refused(project):
    error = _refusal(project, variants=[{"kind": "mct_gptq", "epochs": 2, "options": {"n_epochs": 3}}])
    assert error.key == "variants.0.epochs" and "options.n_epochs say the same thing; keep one" in str(error)


@pytest.mark.parametrize("kind", VARIANT_KINDS)
def test_each_kind_accepts_its_options_and_refuses_another_kinds(project, kind):
    options = {name: a_value(spec) for name, spec in kind_options(kind).items()}
    if kind == "mct_gptq":
        options.pop("use_hessian_sample_attention")  # valid alone; MCT, not the schema, asks for both together
    config = _load(project, variants=[{"kind": kind, "options": options}])
    assert config.variants[0].options == options
    foreign = "preset" if kind != "openvino_int8" else "z_threshold"
    error = _refusal(project, variants=[{"kind": kind, "options": {foreign: "mixed"}}])
    assert f"is not an option of {kind}" in str(error)


def test_an_unknown_option_exits_4_before_any_heavy_work(project):
    path = tiny.write_config(project, variants=[{"kind": "mct_gptq", "options": {"n_epoch": 2}}])
    done = subprocess.run([sys.executable, "-m", "vsq", "run", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 4, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "variants.0.options.n_epoch" in lines[0] and "did you mean n_epochs?" in lines[0]


def test_each_option_changes_its_recipes_cache_key_and_no_other(project):
    """What is rebuilt: the recipe whose option changed; what is not: the default model and the other variants
    (and thresholds change no key)."""
    from vsq.frameworks.recipe_options import default_recipe
    from vsq.pipeline.artifacts import Fingerprints, recipe_key
    from vsq.pipeline.job import prepare

    prints = Fingerprints(**PRINTS)
    job = prepare(tiny.write_config(project))
    default_key = recipe_key(job, prints, default_recipe(job.config))
    for kind in VARIANT_KINDS:
        bystander = Variant("other", "mct_gptq")
        plain = recipe_key(job, prints, Variant("v", kind))
        for name, spec in kind_options(kind).items():
            # a boolean written as vsq's own default (fast_bias_correction false) is the same file: its two values
            before = recipe_key(job, prints, Variant("v", kind, options={name: True})) if spec.get("type") == \
                "boolean" else plain
            changed = recipe_key(job, prints, Variant("v", kind, options={name: a_value(spec)}))
            assert changed != before, f"{kind}: option {name} does not change the key"
        assert recipe_key(job, prints, bystander) == recipe_key(job, prints, Variant("other", "mct_gptq"))
    assert recipe_key(job, prints, default_recipe(job.config)) == default_key
    optioned = prepare(tiny.write_config(project, quantization={"options": {"activation_error_method": "KL"}}))
    assert recipe_key(optioned, prints, default_recipe(optioned.config)) != default_key
    assert recipe_key(optioned, prints, Variant("v", "mct_gptq")) == recipe_key(job, prints, Variant("v", "mct_gptq"))
    assert recipe_key(job, prints, Variant("v", "mct_ptq", options={"z_threshold": 8}, max_top1_drop=9.0)) == \
        recipe_key(job, prints, Variant("v", "mct_ptq", options={"z_threshold": 8}))


def test_each_shorthand_and_the_target_platform_change_their_recipes_key_and_no_other(project):
    """The keys a variant has besides options (epochs, weights_memory_fraction, io_type, calibration_method,
    target_platform, and the configuration's target_platform for MCT kinds) each change that recipe's key only."""
    from vsq.frameworks.recipe_options import default_recipe
    from vsq.pipeline.artifacts import Fingerprints, recipe_key
    from vsq.pipeline.job import prepare

    prints = Fingerprints(**PRINTS)
    job = prepare(tiny.write_config(project))
    changes = {"mct_gptq": {"epochs": 3}, "mct_mixed_precision": {"weights_memory_fraction": 0.5},
               "tf_full_integer": {"io_type": "uint8"}, "onnxruntime_int8": {"calibration_method": "entropy"},
               "mct_ptq": {"target_platform": "tflite"}}
    for kind, change in changes.items():
        assert recipe_key(job, prints, Variant("v", kind)) != recipe_key(job, prints, Variant("v", kind, **change)), kind
        assert recipe_key(job, prints, Variant("tf_float16", "tf_float16")) == \
            recipe_key(job, prints, Variant("tf_float16", "tf_float16", **change))  # a key another kind ignores
    tflite = prepare(tiny.write_config(project, target_platform="tflite"))
    assert recipe_key(tflite, prints, default_recipe(tflite.config)) != recipe_key(job, prints, default_recipe(job.config))
    assert recipe_key(tflite, prints, Variant("v", "mct_ptq")) != recipe_key(job, prints, Variant("v", "mct_ptq"))
    assert recipe_key(tflite, prints, Variant("v", "tf_float16")) == recipe_key(job, prints, Variant("v", "tf_float16"))


def test_options_without_an_option_keep_the_key_they_had(project):
    """A configuration without options keeps its cache: the key of a recipe is what it was before options."""
    from vsq.frameworks.recipe_options import options
    from vsq.pipeline.job import prepare

    config = prepare(tiny.write_config(project)).config
    assert options(Variant("g", "mct_gptq", epochs=2), config) == {"kind": "mct_gptq", "target_platform": "imx500",
                                                                   "epochs": 2}
    assert options(Variant("g", "mct_gptq", options={"n_epochs": 2}), config) == \
        options(Variant("g", "mct_gptq", epochs=2), config)  # the shorthand and the option: one key
    assert options(Variant("o", "openvino_int8"), config)["nncf"] == {"fast_bias_correction": False}


@pytest.fixture(scope="module")
def build(tmp_path_factory, tiny_model):
    """build(variant) -> the bytes' digest of the file vsq's recipe writes for it on the tiny project."""
    from vsq.data.calibration import decode_calibration
    from vsq.frameworks.keras.models import load_keras_model
    from vsq.frameworks.keras.recipes import build_variant
    from vsq.pipeline.job import prepare

    root = tmp_path_factory.mktemp("recipe-options")
    tiny.write_data(root)
    job = prepare(tiny.write_config(root, source_keras_model=str(tiny_model)))
    model, batches = load_keras_model(job.config), decode_calibration(job).iterate

    def digest(variant: Variant) -> str:
        path = build_variant(variant, model, batches, job.config, job.config.output_dir / variant.file_name)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    return digest


CHANGES = [  # (kind, an option that changes the tiny model's file)
    ("mct_ptq", {"weights_error_method": "NOCLIPPING", "activation_error_method": "NOCLIPPING"}),
    ("mct_mixed_precision", {"weights_memory": 1e9}),  # every weight 8-bit, not 0.75 of it
    ("tf_integer_float_fallback", {"experimental_new_quantizer": False}),
    ("onnxruntime_int8", {"per_channel": False}),
    ("openvino_int8", {"preset": "mixed"}),
]


@pytest.mark.slow
@pytest.mark.parametrize("kind, change", CHANGES, ids=[kind for kind, _ in CHANGES])
def test_an_option_changes_the_file(build, kind, change):
    assert build(Variant("plain", kind)) != build(Variant("optioned", kind, options=change))


def test_the_recipe_examples_of_readme_docs_and_examples_load(project):
    """README's and docs/variants.md's examples with options, and examples/variants.json, are valid recipes."""
    import re
    from pathlib import Path

    from vsq.configuration.config import load_config

    repo = Path(__file__).resolve().parents[1]
    blocks = [block for page in (repo / "README.md", repo / "docs" / "variants.md")
              for block in re.findall(r"```json\n(.*?)```", page.read_text(), re.S) if '"options"' in block]
    assert len(blocks) == 2
    for block in blocks:
        if block.lstrip().startswith("{"):  # README's whole configuration, loaded as written in its own folder
            (project / "labels.json").write_text((project / "evaluate" / "labels.json").read_text())
            data = {**json.loads(block), "batch_size": 8, "iteration_count": 2}  # README's for 500 images
            config = load_config(tiny.write_config_dict(project, data, "readme.json"))
            assert config.variants[-1].options == {"weights_n_bits": 4} and config.target_platform == "imx500"
        else:
            config = _load(project, **json.loads("{" + block.strip().rstrip(",") + "}"))
        assert config.quantization.options == {"z_threshold": 16}
        assert any(variant.options for variant in config.variants)
    example = load_config(repo / "examples" / "variants.json")
    assert [v.options for v in example.variants if v.name == "mct_ptq_noclipping"] == [
        {"activation_error_method": "NOCLIPPING", "weights_error_method": "NOCLIPPING"}]


def test_a_budget_in_bytes_too_small_is_told_to_raise_that_option(project):
    from vsq.frameworks.recipe_options import fix_hint
    from vsq.pipeline.job import prepare

    config = prepare(tiny.write_config(project)).config
    variant = Variant("mp", "mct_mixed_precision", options={"weights_memory": 30})
    assert fix_hint(variant, config, "The model cannot be quantized to meet the specified resource utilization") \
        .startswith("raise options.weights_memory (now 30 bytes)")
    assert fix_hint(Variant("mp", "mct_mixed_precision"), config, "cannot be quantized to meet").startswith(
        "raise weights_memory_fraction (now 0.75)")


def test_the_deepest_option_fits_within_the_nesting_limit(project):
    """NNCF's ignored scope is the deepest a configuration goes (file, variants, a variant, options, the scope, its
    list): well within file.MAX_DEPTH."""
    config = _load(project, variants=[{"kind": "openvino_int8",
                                       "options": {"ignored_scope": {"names": ["dense"], "types": ["Softmax"]}}}])
    assert config.variants[0].options["ignored_scope"] == {"names": ["dense"], "types": ["Softmax"]}
    error = _refusal(project, variants=[{"kind": "openvino_int8", "options": {"ignored_scope": {"name": ["x"]}}}])
    assert "takes an object with names" in str(error)


def test_a_variants_runtime_must_run_its_kinds_file_and_naming_the_default_changes_no_key(project):
    from pathlib import Path

    from vsq.runtimes import kinds

    refused = _refusal(project, variants=[{"kind": "onnxruntime_float", "runtime": "tflite"}])
    assert "variants.0.runtime" in str(refused) and "use one of onnxruntime" in str(refused)
    config = _load(project, variants=[{"kind": "tf_float16", "runtime": "tflite"}, "tf_dynamic_range"])
    named, default = config.variants
    assert (named.runtime, default.runtime) == ("tflite", None)
    for path in (Path("model.tflite"), Path("model.onnx"), Path("model.xml")):  # the suffix's runtime, named
        runtime = kinds.for_file(path).key
        assert kinds.evaluation_settings(path, config.tflite_runtime, runtime) == \
            kinds.evaluation_settings(path, config.tflite_runtime)
        assert kinds.runtime_record(path, config.tflite_runtime, runtime) == \
            kinds.runtime_record(path, config.tflite_runtime)
    assert kinds.device_of("tf_float16", None, "tflite") == kinds.device_of("tf_float16", None) == "TFLite CPU"
    data = tiny.config_dict(source_keras_model=None, source_pytorch_model="model.pt",
                            pytorch_architecture={"entry_point": "torchvision.models:resnet18"},
                            variants=[{"kind": "mct_ptq", "runtime": "tflite"}])
    (project / "model.pt").write_bytes(b"weights")
    from vsq.configuration.config import load_config

    with pytest.raises(ConfigError, match="variants.0.runtime: applies to a Keras model's variants"):
        load_config(tiny.write_config_dict(project, data))
