"""vsq.configuration.config: good files are accepted as the spec writes them; each bad one gets its own message."""

import json
import math
import os
from pathlib import Path

import pytest
import yaml

import tiny
from vsq.configuration.config import MAX_DEPTH, Imx500Check, TFLiteRuntime, Thresholds, Variant, defaults, load_config
from vsq.configuration.preprocessing import Preprocessing
from vsq.errors import ConfigError

SPEC_EXAMPLE = {  # the spec's defaults (000), with the label file that replaced ground_truth
    "source_keras_model": "./model.h5",
    "dataset_image_dir": "./images",
    "batch_size": 8,
    "input_tensor_size": 16,
    "iteration_count": 10,
    "output_dir": "./output",
    "evaluate_image_dir": "./evaluate/images",
    "evaluate_image_extension": "JPEG",
    "evaluate_label_file": "./evaluate/labels.json",
    "evaluate_result_dir": "./evaluate/results",
}


class Yaml(str):
    """Content of a BAD row that is written as configuration.yaml."""


def write(project, data, name=None):
    path = project / (name or ("configuration.yaml" if isinstance(data, Yaml) else "configuration.json"))
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_spec_file_accepted_unchanged(project):
    config = load_config(write(project, SPEC_EXAMPLE))
    assert config.dataset_image_dir == project / "images"
    assert config.output_dir == project / "output"
    assert config.batch_size == 8 and config.iteration_count == 10
    assert config.evaluate_image_extension == "JPEG"
    assert config.name == "configuration"


def test_defaults_of_optional_keys(project):
    config = load_config(write(project, SPEC_EXAMPLE))
    assert config.thresholds.max_top1_drop == 1.0
    assert config.thresholds.min_top1 is None
    assert config.preprocessing.resize == "bilinear"
    assert config.preprocessing.mean_std == ((0.0,) * 3, (255.0,) * 3)
    assert config.target_platform == "imx500"
    assert config.seed == 0
    assert config.tflite_runtime.op_resolver == "builtin_without_default_delegates"
    assert config.tflite_runtime.num_threads == 1
    assert config.tflite_runtime.batch_size == 1
    assert config.preprocessing.mode == "square" and config.preprocessing.size == 16
    top = defaults()
    assert (config.seed, config.target_platform, config.unreadable_images, config.allow_unsafe_model_code) == (
        top["seed"], top["target_platform"], top["unreadable_images"], top["allow_unsafe_model_code"])


def test_the_defaults_in_use_are_the_documented_ones(project):
    """docs/configuration.md's table, written by hand, states each default: the values a loaded configuration
    and the settings' dataclasses hold are those (the schema is where both come from; docs/configuration-reference.md
    is generated from it, so it could not tell)."""
    import re

    from vsq.configuration.config import ExplanationSettings, ScreenSettings

    config = load_config(write(project, SPEC_EXAMPLE))
    settings = {"thresholds": Thresholds(), "tflite_runtime": TFLiteRuntime(), "preprocessing": Preprocessing(16),
                "explanation": ExplanationSettings(), "screen": ScreenSettings(),
                "calibration_repeats": config.calibration_repeats, "": config}
    rows = re.findall(r"^\| `([\w.]+)` \| `([^`]+)` \|", (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text(), re.M)
    compared = {}
    for key, documented in rows:
        group, _, name = key.rpartition(".")
        if group in settings and hasattr(settings[group], name):
            compared[key] = (json.loads(documented), getattr(settings[group], name))
    assert len(compared) >= 24, sorted(compared)  # every row but pytorch_architecture.arguments
    assert {key: in_use for key, (_, in_use) in compared.items()} == {key: doc for key, (doc, _) in compared.items()}


def test_defaults_are_the_schemas():
    """One place for defaults: the dataclasses take theirs from the schema (which editors show); a literal default
    written into a dataclass that differs from the schema's fails here."""
    assert vars(Thresholds()) == defaults("thresholds")
    assert vars(TFLiteRuntime()) == defaults("tflite_runtime")
    assert vars(Preprocessing(16)) == {"size": 16, **defaults("preprocessing")}
    variant = vars(Variant("v", "mct_gptq"))
    assert {key: variant[key] for key in defaults("variants")} == defaults("variants")
    assert (variant["max_top1_drop"], variant["min_top1"]) == (Thresholds().max_top1_drop, Thresholds().min_top1)
    assert vars(Imx500Check()) == defaults("imx500")


def test_imx500_section_turns_the_converter_check_on(project):
    assert load_config(write(project, SPEC_EXAMPLE)).imx500 is None
    config = load_config(write(project, {**SPEC_EXAMPLE, "imx500": {}}))
    assert config.imx500 == Imx500Check() and config.imx500.memory_report_only
    config = load_config(write(project, {**SPEC_EXAMPLE, "imx500": {"converter": "bin/imxconv-tf", "output": "full",
                                                                    "max_memory_utilization": 80}}))
    assert config.imx500.converter == project / "bin" / "imxconv-tf"
    assert not config.imx500.memory_report_only and config.imx500.max_memory_utilization == 80
    with pytest.raises(ConfigError, match="imx500.max_memory_utilization"):
        load_config(write(project, {**SPEC_EXAMPLE, "imx500": {"max_memory_utilization": 150}}))


def test_as_dict_lists_what_results_json_always_listed(project):
    out = load_config(write(project, SPEC_EXAMPLE)).as_dict()
    assert list(out) == [*SPEC_EXAMPLE, *(f"{key}_resolved" for key in (
        "source_keras_model", "dataset_image_dir", "output_dir", "evaluate_image_dir", "evaluate_label_file",
        "evaluate_result_dir")), "name", "file", "seed", "calibration_repeats", "search", "target_platform", "quantization",
        "unreadable_images", "allow_unsafe_model_code", "preprocessing", "thresholds", "tflite_runtime", "baseline", "variants", "imx500",
        "explanation", "screen", "expected_top1", "task"]
    assert out["preprocessing"] == {"resize": "bilinear", "mode": "square", "crop_pct": 0.875, "normalization": "[0,1]",
                                    "channel_order": "RGB",
                                    "max_image_pixels": 40_000_000}
    assert out["screen"] == {"enabled": True, "max_images": 200, "min_gain_points": 10.0, "max_p_value": 0.01}
    assert out["expected_top1"] is None
    assert out["thresholds"] == {"max_top1_drop": 1.0, "min_top1": None, "min_float_top1": None, "max_float_top1_drop": 0.5,
                                 "max_baseline_drop": 0.5, "max_latency_ms": {}, "decision_rule": "point",
                                 "confidence": 0.95, "inconclusive": "fail"}
    assert out["imx500"] is None and out["quantization"] == {"options": {}}
    assert out["file"] == str(project / "configuration.json") and out["baseline"] is None and out["variants"] == []
    json.dumps(out, allow_nan=False)


def test_variants_and_paths_in_as_dict_are_plain_json(project):
    data = with_(baseline="./base.json", variants=["tf_float16", {"kind": "mct_gptq", "epochs": 2}])
    out = load_config(write(project, data)).as_dict()
    assert out["baseline"] == str(project / "base.json")
    assert out["variants"] == [
        {"name": "tf_float16", "kind": "tf_float16", "target_platform": None, "epochs": 5,
         "weights_memory_fraction": 0.75, "io_type": "int8", "calibration_method": "minmax", "runtime": None,
         "max_top1_drop": 1.0, "min_top1": None, "options": {}},
        {"name": "mct_gptq", "kind": "mct_gptq", "target_platform": None, "epochs": 2,
         "weights_memory_fraction": 0.75, "io_type": "int8", "calibration_method": "minmax", "runtime": None,
         "max_top1_drop": 1.0, "min_top1": None, "options": {}}]


def test_shorter_side_preprocessing_is_read(project):
    data = with_(preprocessing={"resize": "bicubic", "mode": "shorter_side", "crop_pct": 0.9, "normalization": "[-1,1]",
                                "channel_order": "BGR"})
    config = load_config(write(project, data))
    assert config.preprocessing == Preprocessing(16, "bicubic", mode="shorter_side", crop_pct=0.9,
                                                 normalization="[-1,1]", channel_order="BGR")
    assert config.preprocessing.mean_std == ((127.5,) * 3, (127.5,) * 3)
    assert config.as_dict()["preprocessing"] == {**data["preprocessing"], "max_image_pixels": 40_000_000}
    default_crop = load_config(write(project, with_(preprocessing={"mode": "shorter_side"}))).preprocessing
    assert default_crop.crop_pct == 0.875 and default_crop.size == 16


def test_relative_paths_resolve_against_the_file_not_the_cwd(project, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    config = load_config(os.path.relpath(write(project, SPEC_EXAMPLE)))
    assert config.source_keras_model == project / "model.h5"


def test_yaml_file_is_the_same_configuration(project):
    from_json = load_config(write(project, SPEC_EXAMPLE))
    from_yaml = load_config(write(project, Yaml(yaml.safe_dump(SPEC_EXAMPLE))))
    assert from_yaml.as_dict() | {"file": None} == from_json.as_dict() | {"file": None}


def test_null_threads_means_every_core(project):
    config = load_config(write(project, dict(SPEC_EXAMPLE, tflite_runtime={"num_threads": None})))
    assert config.tflite_runtime.num_threads == os.cpu_count()


def test_optional_keys_are_read(project):
    data = dict(SPEC_EXAMPLE, name="shapes-int8", seed=3, target_platform="tflite",
                preprocessing={"resize": "nearest", "normalization": {"mean": [1, 2, 3], "std": [4, 5, 6]}},
                thresholds={"max_top1_drop": 2.5, "min_top1": 0.7})
    config = load_config(write(project, data))
    assert (config.name, config.seed, config.target_platform) == ("shapes-int8", 3, "tflite")
    assert config.preprocessing.mean_std == ((1, 2, 3), (4, 5, 6))
    assert config.thresholds.max_top1_drop == 2.5 and config.thresholds.min_top1 == 0.7
    assert config.thresholds.max_float_top1_drop == 0.5  # untouched keys keep their default


def with_(**changes):
    data = dict(SPEC_EXAMPLE)
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


def yaml_with(lines):
    """The spec example as YAML, with lines added at the end."""
    return Yaml(yaml.safe_dump(SPEC_EXAMPLE) + lines)


def billion_laughs():
    """Under 1 KB: nine anchors of nine aliases each, 9^9 strings once expanded. PyYAML builds them as shared
    lists, quickly; it is the first walk over the value (here name's error message) that never ends."""
    lines = ["name:", '- &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"- &{name} [{','.join([f'*{previous}'] * 9)}]" for previous, name in zip("abcdefgh", "bcdefghi")]
    return Yaml("\n".join(lines) + "\n" + yaml.safe_dump(SPEC_EXAMPLE))


DEEP = MAX_DEPTH + 1

# (id, file content, key named in the message, words the message must contain)
BAD = [
    ("missing-key", with_(batch_size=None), "batch_size", "is missing"),
    ("retired-ground-truth", with_(evaluate_ground_truth_file="gt.txt"), "evaluate_ground_truth_file",
     "replaced by evaluate_label_file"),
    ("unknown-key-typo", with_(batch_sise=4), "batch_sise", "did you mean batch_size?"),
    ("unknown-key-far", with_(colour="red"), "colour", "known keys:"),
    ("unknown-nested-key", with_(thresholds={"max_drop": 1}), "thresholds.max_drop", "did you mean max_top1_drop?"),
    ("string-integer", with_(batch_size="8"), "batch_size", '"8" is a string; write an integer'),
    ("zero-iterations", with_(iteration_count=0), "iteration_count", "use a value >= 1"),
    ("float-size", with_(input_tensor_size=16.5), "input_tensor_size", "write an integer"),
    ("bool-batch", with_(batch_size=True), "batch_size", "is a boolean"),
    ("empty-path", with_(output_dir=""), "output_dir", "is empty"),
    ("extension-with-path", with_(evaluate_image_extension="a/JPEG"), "evaluate_image_extension",
     '"a/JPEG" is not an extension: glob characters (* ? [ ]), path separators (/ \\) and inner dots are not '
     "allowed; give the extension only, like JPEG"),
    ("extension-backslash", with_(evaluate_image_extension="a\\JPEG"), "evaluate_image_extension", "path separators"),
    ("extension-glob-star", with_(evaluate_image_extension="*.JPEG"), "evaluate_image_extension", "glob characters"),
    ("extension-glob-question", with_(evaluate_image_extension="JP?G"), "evaluate_image_extension", "glob characters"),
    ("extension-glob-class", with_(evaluate_image_extension="[jJ]PEG"), "evaluate_image_extension",
     "glob characters"),
    ("platform", with_(target_platform="IMX500"), "target_platform", 'use one of "imx500"'),
    ("normalization", with_(preprocessing={"normalization": "0-1"}), "preprocessing.normalization",
     "is not a normalization"),
    ("resize", with_(preprocessing={"resize": "linear"}), "preprocessing.resize", '"bilinear"'),
    ("negative-drop", with_(thresholds={"max_top1_drop": -1}), "thresholds.max_top1_drop", ">= 0"),
    ("min-top1-percent", with_(thresholds={"min_top1": 85}), "thresholds.min_top1", "<= 1"),
    ("variant-kind", with_(variants=["tf_float"]), "variants.0", '"tf_float" is not a variant; use one of'),
    ("variant-option-typo", with_(variants=[{"kind": "mct_gptq", "epoch": 3}]), "variants.0.epoch",
     "unknown key; did you mean epochs?"),
    ("variant-thresholds-typo", with_(variants=[{"kind": "mct_ptq", "thresholds": {"max_drop": 1}}]),
     "variants.0.thresholds.max_drop", "unknown key; did you mean max_top1_drop?"),
    ("latency-model-typo", with_(thresholds={"max_latency_ms": {"tflite_quantised": 3}}),
     "thresholds.max_latency_ms.tflite_quantised", "unknown key; did you mean tflite_quantized?"),
    ("normalization-key-typo", with_(preprocessing={"normalization": {"mean": [0] * 3, "std": [1] * 3, "sdt": 1}}),
     "preprocessing.normalization.sdt", "unknown key; did you mean std?"),
    ("preprocessing-key-typo", with_(preprocessing={"crop": 0.875}), "preprocessing.crop",
     "unknown key; did you mean crop_pct?"),
    ("preprocessing-mode", with_(preprocessing={"mode": "center_crop"}), "preprocessing.mode",
     '"center_crop" is not supported; use one of "square", "shorter_side"'),
    ("crop-pct-zero", with_(preprocessing={"mode": "shorter_side", "crop_pct": 0}), "preprocessing.crop_pct",
     "0 is too small; use a value > 0"),
    ("crop-pct-percent", with_(preprocessing={"mode": "shorter_side", "crop_pct": 87.5}), "preprocessing.crop_pct",
     "87.5 is too large; use a value <= 1"),
    ("crop-pct-string", with_(preprocessing={"mode": "shorter_side", "crop_pct": "0.875"}), "preprocessing.crop_pct",
     '"0.875" is a string; write a number'),
    ("crop-pct-without-mode", with_(preprocessing={"crop_pct": 0.875}), "preprocessing.crop_pct",
     'is only used with "mode": "shorter_side" (mode is square); remove crop_pct, or set "mode": "shorter_side"'),
    ("crop-pct-with-square", with_(preprocessing={"mode": "square", "crop_pct": 1}), "preprocessing.crop_pct",
     'is only used with "mode": "shorter_side"'),
    ("variant-names-clash", with_(variants=["tf_float16", "tf_float16"]), "variants", "two variants are named"),
    ("variant-named-as-a-reference-model", with_(variants=[{"kind": "tf_float16", "name": "tflite"}]), "variants",
     "a variant named 'tflite' would be taken for the reference model of that name"),
    ("not-an-object", [1, 2], None, "must hold an object"),
    # json.dumps writes NaN, Infinity and -Infinity literals, which Python's json reads back.
    ("nan-nested", with_(thresholds={"max_top1_drop": math.nan}), "thresholds.max_top1_drop",
     "NaN is not a finite number (NaN, Infinity and numbers beyond 1.8e308 are refused); write a finite number"),
    ("infinity-top-level", with_(seed=math.inf), "seed", "Infinity is not a finite number"),
    ("infinity-in-variant", with_(variants=[{"kind": "mct_ptq", "thresholds": {"max_top1_drop": -math.inf}}]),
     "variants.0.thresholds.max_top1_drop", "-Infinity is not a finite number"),
    ("nan-in-list", with_(preprocessing={"normalization": {"mean": [0, math.nan, 0], "std": [1, 1, 1]}}),
     "preprocessing.normalization.mean.1", "NaN is not a finite number"),
    ("overflow-is-infinity", json.dumps(SPEC_EXAMPLE)[:-1] + ', "thresholds": {"min_top1": 1e400}}',
     "thresholds.min_top1", "Infinity is not a finite number"),
    ("huge-integer", json.dumps(SPEC_EXAMPLE)[:-1] + f', "seed": {"9" * 5000}}}', None,
     "holds a value that cannot be read (Exceeds the limit (4300 digits)"),
    ("deep-nesting", with_(seed=json.loads("[" * DEEP + "]" * DEEP)), "seed", "more than 10 levels deep"),
    ("nesting-beyond-recursion", '{"seed": ' + "[" * 100_000, None, "more than 10 levels deep"),
    ("yaml-nan", yaml_with("thresholds:\n  max_top1_drop: .nan\n"), "thresholds.max_top1_drop",
     "NaN is not a finite number"),
    ("yaml-infinity-in-variant", yaml_with("variants:\n- kind: mct_ptq\n  thresholds: {min_top1: .inf}\n"),
     "variants.0.thresholds.min_top1", "Infinity is not a finite number"),
    ("yaml-minus-infinity", yaml_with("seed: -.inf\n"), "seed", "-Infinity is not a finite number"),
    ("yaml-billion-laughs", billion_laughs(), None, "sets a YAML anchor (&a) at line 2; anchors and aliases are not "
     "supported in a configuration: write the values out"),
    ("yaml-alias", Yaml("batch_size: 8\nseed: *a\n"), None, "uses a YAML alias (*a) at line 2; anchors and aliases"),
    ("yaml-merge-key", yaml_with("thresholds:\n  <<: *defaults\n"), None, "uses a YAML alias (*defaults) at line 12"),
    ("yaml-deep-nesting", yaml_with("seed: " + "[" * 100_000 + "\n"), None, "more than 10 levels deep at line 11"),
    ("yaml-date", yaml_with("seed: 2024-01-31\n"), "seed", "is a YAML date, which a configuration cannot hold"),
    ("yaml-bad-date", yaml_with("seed: 2024-13-31\n"), None, "cannot be read (month must be in 1..12)"),
    ("yaml-key-not-a-string", yaml_with("thresholds: {1: 2}\n"), "thresholds",
     "has the key 1, which is an integer, not a string; put it in quotes"),
    ("duplicate-key", '{"batch_size": 1, "batch_size": 2}', "batch_size", "appears twice"),
    ("bad-json", '{"batch_size": 1,,}', None, "is not valid JSON"),
    ("images-missing", with_(dataset_image_dir="./imgs"), "dataset_image_dir", "does not exist"),
    ("images-is-file", with_(evaluate_image_dir="./model.h5"), "evaluate_image_dir", "is not a directory"),
    ("labels-missing", with_(evaluate_label_file="./labels.json"), "evaluate_label_file", "does not exist"),
    ("output-is-file", with_(output_dir="./model.h5"), "output_dir", "exists and is not a directory"),
]


@pytest.mark.parametrize("content, key, words", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_configuration_named_precisely(project, content, key, words):
    path = write(project, content)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert error.key == key
    assert words in str(error)
    assert str(error).startswith(f"{path}: ")


# The model file is its framework's to check (vsq.pipeline.job.prepare), before any heavy work.
BAD_MODEL = [
    ("model-missing", with_(source_keras_model="./nope.h5"), "no such file"),
    ("model-not-keras", with_(source_keras_model="./evaluate/labels.json"), "not a Keras model file"),
    ("model-dir-not-savedmodel", with_(source_keras_model="./images"), "without saved_model.pb"),
]


@pytest.mark.parametrize("content, words", [case[1:] for case in BAD_MODEL], ids=[case[0] for case in BAD_MODEL])
def test_bad_model_file_named_precisely(project, content, words):
    from vsq.pipeline.job import prepare

    path = write(project, content)
    with pytest.raises(ConfigError) as caught:
        prepare(path)
    assert caught.value.key == "source_keras_model"
    assert words in str(caught.value) and str(caught.value).startswith(f"{path}: ")


def test_variants_get_names_and_thresholds(project):
    data = with_(thresholds={"max_top1_drop": 2.0}, variants=[
        "tf_float16", {"kind": "mct_ptq", "target_platform": "tflite", "thresholds": {"max_top1_drop": 3}},
        {"kind": "tf_full_integer", "io_type": "uint8", "name": "edge"}])
    variants = load_config(write(project, data)).variants
    assert [(v.name, v.kind, v.max_top1_drop) for v in variants] == [
        ("tf_float16", "tf_float16", 2.0), ("mct_ptq_tflite", "mct_ptq", 3), ("edge", "tf_full_integer", 2.0)]
    assert variants[2].file_name == "model_edge.tflite" and variants[2].io_type == "uint8"


def test_bad_yaml_names_line(project):
    path = write(project, "batch_size: [1,\n", name="c.yml")
    with pytest.raises(ConfigError, match=r"is not valid YAML: .* at line \d+"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "configuration.json")


def test_directory_is_not_a_configuration(tmp_path):
    (tmp_path / "some_dir.json").mkdir()
    with pytest.raises(ConfigError, match=r"some_dir.json: is a directory; a configuration file is expected: give "
                       r"the file itself, e.g. .*some_dir.json/configuration.json$"):
        load_config(tmp_path / "some_dir.json")


def test_yaml_merge_of_an_inline_mapping_is_harmless(project):
    config = load_config(write(project, yaml_with("thresholds:\n  <<: {max_top1_drop: 2}\n")))
    assert config.thresholds.max_top1_drop == 2


def test_symbolic_link_refused(project):
    (project / "linked").symlink_to(project / "images")
    path = write(project, with_(dataset_image_dir="./linked"))
    with pytest.raises(ConfigError, match="is a symbolic link") as caught:
        load_config(path)
    assert caught.value.key == "dataset_image_dir"


def test_symbolic_link_in_a_parent_folder_refused(project):
    (project / "data").symlink_to(project / "evaluate")
    with pytest.raises(ConfigError, match="data is a symbolic link"):
        load_config(write(project, with_(evaluate_label_file="./data/labels.json")))


def test_symlinked_configuration_refused(project):
    real = write(project, SPEC_EXAMPLE)
    (project / "link.json").symlink_to(real)
    with pytest.raises(ConfigError, match="symbolic link"):
        load_config(project / "link.json")


def test_tiny_project_helper_config_is_valid(project):
    assert load_config(tiny.write_config(project)).batch_size == 8
