"""Checks failing on a real wrong input through the real pipeline (issue 37), where no other test shows it."""

from pathlib import Path

import pytest

import tiny
from runs import assert_short_messages

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def run(config_file, cache):
    from vsq.pipeline.job import prepare
    from vsq.cache.store import Cache
    from vsq.pipeline.options import RunOptions
    from vsq.pipeline.pipeline import Pipeline
    from vsq.pipeline.progress import Progress

    return Pipeline(prepare(config_file), RunOptions(Cache(cache), progress=Progress(False))).result


def test_calibration_images_of_one_constant_colour_fail_the_decode_check(tmp_path, tiny_model):
    """A dataset_image_dir of flat grey frames (a camera's lens cap left on): they decode, and say nothing."""
    from PIL import Image

    tiny.write_data(tmp_path)
    for path in (tmp_path / "images").rglob("*.jpg"):
        Image.new("RGB", (20, 20), (128, 128, 128)).save(path)
    result = run(tiny.write_config(tmp_path, source_keras_model=str(tiny_model)), tmp_path / "cache")
    failures = result.failures()
    assert_short_messages(failures, "configuration")
    assert failures["calibration_images_decode"] == ("configuration: every calibration image decodes to the same "
                                                     "constant colour; check dataset_image_dir"), failures


LINKABLE = ("source_keras_model", "dataset_image_dir", "output_dir", "evaluate_image_dir", "evaluate_label_file",
            "evaluate_result_dir")


@pytest.mark.parametrize("key", LINKABLE)
def test_each_path_key_pointing_through_a_link_is_refused_before_the_checks(project, key):
    """path_is_not_a_symlink[key], item by item: a real link for each key stops at prepare (exit 4), naming it."""
    from vsq.configuration.config import load_config
    from vsq.errors import ConfigError

    target = project / tiny.config_dict()[key]
    target.parent.mkdir(parents=True, exist_ok=True)
    if key.endswith("_dir"):
        target.mkdir(exist_ok=True)
    (project / f"linked-{key}").symlink_to(target)
    with pytest.raises(ConfigError, match="is a symbolic link") as caught:
        load_config(tiny.write_config(project, **{key: f"linked-{key}"}))
    assert caught.value.key == key


# Every check item of suites/ and where a real wrong input makes it fail: ("real", test) runs the pipeline and
# asserts the check's failure; ("refusal", test) is a check reachable only behind prepare()'s exit 4, tested as
# that refusal; ("unreachable", reason): no input a user could give reaches it. tests/breaking_conftest.py spoils
# exactly the "refusal" and "unreachable" items, and tests/test_suite_messages.py checks that they all fail there.
HERE = "test_checks_fail_for_real.py"
REAL_FAILURES = {
    "annotations_match_the_data": ("refusal", "test_detection_annotations.py::test_prepare_refuses_bad_annotations_in_one_"
                                              "line_naming_the_key"),
    "box_format_matches_the_model": ("real", "test_detection_run.py::test_a_wrong_box_order_fails_the_screen_with_its_fix"),
    "map_drop_within_threshold": ("real", "test_detection_task.py::test_a_detector_calibrated_on_black_images_fails_the_"
                                          "drop_with_its_interval"),
    **{name: ("real", "test_detection_run.py::test_pixel_boxes_read_as_another_order_fail_chance_and_the_minimum_and_the_"
                      "screen_names_the_keys") for name in ("float_map_beats_chance", "quantized_map_above_minimum")},
    "schema_valid": ("refusal", "test_config_errors.py::test_every_missing_key_is_named_in_one_message"),
    **{f"path_is_not_a_symlink[{key}]": ("refusal", f"{HERE}::test_each_path_key_pointing_through_a_link_is_refused"
                                                     "_before_the_checks") for key in LINKABLE},
    "path_is_not_a_symlink[source_pytorch_model]": ("refusal", "test_config.py::test_symbolic_link_refused"),
    "batch_size_within_calibration_images": ("refusal", "test_datasets.py::test_fewer_calibration_images_than_batch_size"),
    "input_tensor_size_matches_model": ("refusal", "test_plugin.py::test_model_that_does_not_match_stops_before_quantization"),
    "labels_are_ids_zero_to_n_minus_one": ("refusal", "test_datasets.py::test_bad_labels_json"),
    "every_class_folder_has_a_label_and_images": ("refusal", "test_datasets.py::test_class_folder_without_label"),
    "labels_match_model_outputs": ("refusal", "test_models.py::test_output_count_must_match_labels"),
    "calibration_images_decode": ("real", f"{HERE}::test_calibration_images_of_one_constant_colour_fail_the_decode_check"),
    "every_evaluation_image_was_evaluated": ("unreachable", "an unreadable image stops the run (exit 4) or is skipped "
                                             "with its reason (unreadable_images: skip): both are accounted for"),
    "file_written_to_output_dir[export]": ("unreachable", "vsq writes the exports itself; a link or a foreign "
                                           "output_dir is refused at prepare"),
    "shapes_match_the_model[export]": ("refusal", "pytorch/test_pytorch_framework.py::test_a_wrong_input_size_or_class_"
                                       "count_is_one_line"),
    # PyTorch's: pytorch/test_pytorch_checks_fail.py::test_a_model_without_weights_fails_only_the_integer_check
    "quantized_file_is_integer_quantized": ("real", f"{HERE}::test_a_dense_relu_after_pooling_fails_the_integer_check"),
    "quantized_file_is_smaller": ("real", f"{HERE}::test_a_wide_layer_fails_the_imx500_conversion_and_the_smaller_"
                                  "file_check"),
    "quantized_pytorch_top1_drop_within_threshold": ("real", "pytorch/test_pytorch_checks_fail.py::test_an_activation_"
                                                     "with_an_outlier_channel_fails_the_quantized_pytorch_models_drop"),
    "quantized_top1_drop_within_threshold": ("real", "test_explain_suite.py::test_a_failing_gate_names_the_worst_layers_"
                                             "and_keeps_mcts_report"),
    "quantized_keras_top1_drop_within_threshold": ("real", "test_explain_suite.py::test_a_failing_gate_names_the_worst_"
                                                   "layers_and_keeps_mcts_report"),
    "quantized_top1_above_minimum": ("real", "test_plugin.py::test_gate_passes_one_configuration_and_fails_another"),
    "float_tflite_agrees_with_keras": ("unreachable", "TFLite's float conversion of a model Keras loads computes the "
                                       "same function (a raw 8-bit input only differed through a vsq bug, fixed)"),
    # a detector's: {HERE}::test_a_detection_baseline_with_a_higher_map_than_todays_fails_the_baseline_drop_as_points
    "no_drop_against_baseline[baseline_model]": ("real", "test_reports.py::test_baseline_drop_fails_and_accept_replaces_"
                                                 "it_keeping_the_old_one"),
    "baseline_matches_configuration_and_stack": ("real", "test_reports.py::test_a_baseline_made_by_another_stack_and_"
                                                 "configuration_is_its_own_failing_check"),
    "float_model_beats_chance": ("real", "test_screen.py::test_a_float_model_near_chance_fails_its_own_check_and_the_"
                                 "drops_say_they_are_meaningless"),
    "drops_are_meaningful": ("real", "test_screen.py::test_a_float_model_near_chance_fails_its_own_check_and_the_"
                             "drops_say_they_are_meaningless"),
    "float_top1_meets_expected": ("real", "test_screen.py::test_a_float_model_near_chance_fails_its_own_check_and_the_"
                                  "drops_say_they_are_meaningless"),
    "preprocessing_matches_the_model": ("real", "test_screen.py::test_a_model_trained_on_other_inputs_fails_the_screen_"
                                        "naming_the_setting"),
    "label_order_matches_the_model": ("real", "test_screen.py::test_labels_shifted_by_one_fail_the_label_check_with_"
                                      "the_labels_json_to_write"),
    "imx500_converts": ("real", f"{HERE}::test_a_wide_layer_fails_the_imx500_conversion_and_the_smaller_file_check"),
    "imx500_fits_in_memory": ("real", "test_imx500_suite.py::test_a_model_that_does_not_fit_fails_with_the_converters_"
                              "figures"),
    "imx500_input_has_the_configured_size": ("real", "test_imx500_suite.py::test_a_model_that_does_not_fit_fails_with_"
                                             "the_converters_figures"),
    "verdict_is_stable_across_calibrations": ("real", "test_calibrations.py::test_a_verdict_that_flips_with_the_"
                                              "calibration_draw_fails_the_stability_check"),
    **{item: ("real", "test_search.py::test_the_search_stops_at_the_first_passing_candidate_and_a_budget_that_stops_it_"
              "first_fails") for item in ("search_found_a_passing_recipe", "search_recommended_top1_drop_within_threshold",
                                          "search_recommended_top1_above_minimum")},
    "variant_file_written[variant_name]": ("real", "test_variants.py::test_suites_fail_only_the_variant_the_tool_rejects"),
    "variant_weights_stored_as_its_kind[variant_name]": ("real", "test_variants.py::test_suites_fail_only_the_variant_"
                                                         "the_tool_rejects"),
    "full_integer_input_and_output_types[variant_name]": ("real", f"{HERE}::test_a_model_taking_raw_8_bit_pixels_fails_"
                                                          "the_int8_io_check_and_nothing_else"),
    "variant_top1_drop_within_threshold[variant_name]": ("real", "test_variants.py::test_suites_fail_only_the_variant_"
                                                         "the_tool_rejects"),
    "variant_top1_above_minimum[variant_name]": ("real", "test_variants.py::test_suites_fail_only_the_variant_the_tool_"
                                                 "rejects"),
    "variants_recommend_a_quantized_model": ("real", f"{HERE}::test_mislabelled_images_under_every_minimum_leave_no_"
                                             "quantized_model_to_recommend"),
    **{item: ("real", "test_given.py::test_a_float_file_as_quantized_model_and_a_wrong_model_fail_their_checks")
       for item in ("given_quantized_weights_are_integer", "given_model_top1_drop_within_threshold[variant_name]",
                    "given_model_top1_above_minimum[variant_name]")},
}


def test_a_wide_layer_fails_the_imx500_conversion_and_the_smaller_file_check(tmp_path):
    """A Dense of 9,000 outputs: the sensor takes at most 8,192, and the converter says so without a memory report;
    MCT's INT8 export of it is larger than the float file."""
    import tensorflow as tf

    import vsq

    inputs = tf.keras.Input((tiny.SIZE, tiny.SIZE, 3))
    wide = tf.keras.layers.Dense(9000)(tf.keras.layers.GlobalAveragePooling2D()(inputs))
    tf.keras.Model(inputs, tf.keras.layers.Dense(3, activation="softmax")(wide)).save(tmp_path / "wide.h5")
    tiny.write_data(tmp_path)
    config = tiny.write_config(tmp_path, source_keras_model="wide.h5", imx500={}, explanation={"when": "never"},
                               screen={"enabled": False}, thresholds={"min_top1": 0.0, "max_top1_drop": 100.0,
                                                                       "min_float_top1": 0.0})
    result = vsq.run(config, cache_dir=tmp_path / "cache", progress=False)
    failures = result.failures()
    # The IMX500 checks quote the converter's own error and its log's path (about 590 characters): not held to it
    assert_short_messages({name: message for name, message in failures.items() if not name.startswith("imx500")},
                          "configuration")
    # MCT's INT8 file of the wide Dense is larger than the float one (checked against the two files' sizes below).
    assert set(failures) == {"imx500_converts", "imx500_fits_in_memory", "imx500_input_has_the_configured_size",
                             "quantized_file_is_smaller"}, failures
    sizes = [(tmp_path / "output" / name).stat().st_size for name in ("model_quantized.tflite", "model.tflite")]
    assert sizes[0] >= sizes[1] >= 64 * 1024 and failures["quantized_file_is_smaller"].startswith(
        f"configuration: model_quantized.tflite ({sizes[0]} bytes) is not smaller than model.tflite ({sizes[1]} bytes)")
    assert failures["imx500_converts"].startswith("configuration: IMX500 converter failed while converting "
                                                  "model_quantized.keras"), failures
    assert "8192" in failures["imx500_converts"] and "\n" not in failures["imx500_converts"]


def test_a_model_taking_raw_8_bit_pixels_fails_the_int8_io_check_and_nothing_else(tmp_path):
    """A Keras model whose input is uint8 (raw pixels; its own Rescaling inside), built as tf_full_integer with
    io_type int8: the converter keeps a uint8 input as uint8, so that variant, and only it, fails
    full_integer_input_and_output_types; the uint8 variant and every model read the raw pixels right (Top-1 1.0)."""
    import numpy as np
    import tensorflow as tf

    import vsq

    inputs = tf.keras.Input((tiny.SIZE, tiny.SIZE, 3), dtype="uint8")
    pooled = tf.keras.layers.GlobalAveragePooling2D()(tf.keras.layers.Rescaling(1 / 255)(inputs))
    head = tf.keras.layers.Dense(len(tiny.CLASSES), activation="softmax")
    model = tf.keras.Model(inputs, head(pooled))
    head.set_weights([10 * tiny.colour_head(), np.zeros(len(tiny.CLASSES), np.float32)])
    model.save(tmp_path / "raw8.h5")
    tiny.write_data(tmp_path)
    config = tiny.write_config(tmp_path, source_keras_model="raw8.h5", preprocessing={"normalization": "[0,255]"},
                               variants=[{"kind": "tf_full_integer", "io_type": io} for io in ("int8", "uint8")],
                               explanation={"when": "never"}, screen={"enabled": False})
    result = vsq.run(config, cache_dir=tmp_path / "cache", progress=False)
    assert result.failures() == {"full_integer_input_and_output_types[tf_full_integer_int8]": (
        "configuration: model_tf_full_integer_int8.tflite (tf_full_integer) inputs are ['uint8'], not int8 (io_type)")}
    tops = {name: row["top_1_accuracy"] for part in (result.document["models"], result.document["variants"]["models"])
            for name, row in part.items()}
    assert set(tops.values()) == {1.0} and {"tflite", "tf_full_integer_uint8"} <= set(tops), tops


def test_a_dense_relu_after_pooling_fails_the_integer_check(tmp_path):
    """Keras: MCT 2.6.1 exports a Dense with a fused ReLU after global pooling in float (tests/tiny.py keeps its
    Dense layers linear for that reason): model_quantized.tflite is not integer, and only that check fails."""
    import tensorflow as tf

    import vsq

    inputs = tf.keras.Input((tiny.SIZE, tiny.SIZE, 3))
    hidden = tf.keras.layers.Dense(256, activation="relu")(tf.keras.layers.GlobalAveragePooling2D()(inputs))
    tf.keras.Model(inputs, tf.keras.layers.Dense(3, activation="softmax")(hidden)).save(tmp_path / "relu.h5")
    tiny.write_data(tmp_path)
    config = tiny.write_config(tmp_path, source_keras_model="relu.h5", explanation={"when": "never"},
                               screen={"enabled": False}, thresholds={"min_top1": 0.0, "max_top1_drop": 100.0,
                                                                       "min_float_top1": 0.0})
    failures = vsq.run(config, cache_dir=tmp_path / "cache", progress=False).failures()
    assert list(failures) == ["quantized_file_is_integer_quantized"], failures
    assert_short_messages(failures, "configuration")
    assert failures["quantized_file_is_integer_quantized"].startswith(
        "configuration: model_quantized.tflite keeps 1 of 2 weight tensors in float (CONV_2D "), failures


def test_a_model_over_the_configured_memory_share_fails_the_fit_check_with_its_figures(tmp_path, tiny_model):
    """imx500.max_memory_utilization below what the tiny model uses: it converts and fits the sensor, but not the
    share the configuration allows (the branch past a memory report that fits, vsq/sections/imx500.py)."""
    import vsq

    tiny.write_data(tmp_path)
    config = tiny.write_config(tmp_path, source_keras_model=str(tiny_model), explanation={"when": "never"},
                               imx500={"max_memory_utilization": 0.01})
    result = vsq.run(config, cache_dir=tmp_path / "cache", progress=False)
    failures, section = result.failures(), result.document["imx500"]
    assert list(failures) == ["imx500_fits_in_memory"] and section["fits"] is True, failures
    assert 0.01 < section["utilization_percent"] < 100, section
    assert failures["imx500_fits_in_memory"].startswith(
        f"configuration: model_quantized.keras uses {section['utilization_percent']:g} % of the IMX500's memory"), failures
    assert "imx500.max_memory_utilization is 0.01 %" in failures["imx500_fits_in_memory"]
    assert_short_messages(failures, "configuration")


def test_mislabelled_images_under_every_minimum_leave_no_quantized_model_to_recommend(tmp_path, tiny_model):
    """Six blue images drawn green: every model's Top-1 is 30/36 (0.8333), nothing dropped, but under
    thresholds.min_top1 0.9 neither the default model nor the float16 variant is within its thresholds, so the
    variants' comparison recommends none and variants_recommend_a_quantized_model fails beside the minimum checks."""
    import vsq

    tiny.write_data(tmp_path, mislabelled=6)
    config = tiny.write_config(tmp_path, source_keras_model=str(tiny_model), thresholds={"min_top1": 0.9},
                               variants=[{"kind": "tf_float16"}], explanation={"when": "never"},
                               screen={"enabled": False})
    result = vsq.run(config, cache_dir=tmp_path / "cache", progress=False)
    failures, section = result.failures(), result.document["variants"]
    assert set(failures) == {"quantized_top1_above_minimum", "variant_top1_above_minimum[tf_float16]",
                             "variants_recommend_a_quantized_model"}, failures
    assert section["recommended"] is None and result.document["top_1_accuracy_keras"] == 30 / 36
    assert failures["variants_recommend_a_quantized_model"] == (
        "configuration: no quantized model is recommended: none of the 2 quantized models is within its max_top1_drop "
        "and min_top1 (Top-1: model_quantized.tflite 0.8333, tf_float16 0.8333); see each model's drop and minimum "
        "checks, or let a search try other recipes")
    check = result.document["checks"]["variants_recommend_a_quantized_model"]
    assert check["figures"]["quantized_models"] == 2 and check["figures"]["within_thresholds"] == 0
    assert_short_messages(failures, "configuration")


def function_source(path: Path, name: str) -> str | None:
    """The test function's source, with the module-level constants it names written out after it."""
    import ast

    source = path.read_text()
    tree = ast.parse(source)
    body = next((ast.get_source_segment(source, node) for node in tree.body
                 if isinstance(node, ast.FunctionDef) and node.name == name), None)
    if body is None:
        return None
    constants = [ast.get_source_segment(source, node) for node in tree.body if isinstance(node, ast.Assign)
                 and any(isinstance(target, ast.Name) and target.id in body for target in node.targets)]
    return "\n".join([body, *constants])


def check_items() -> set[str]:
    """Every check item the suites plan: a check per name, path_is_not_a_symlink per path key (item by item)."""
    import ast

    from vsq.configuration.config import PATH_KEYS

    names = set()
    for path in (REPO / "suites").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "checks_as_tests":
                names |= {arg.value for arg in node.args if isinstance(arg, ast.Constant)}
    names.discard("path_is_not_a_symlink[key]")
    return names | {f"path_is_not_a_symlink[{key}]" for key in PATH_KEYS}


def test_every_check_item_has_a_real_failing_case_or_a_reason():
    """Fails on a check the table does not list, a listed check that no longer exists, or a test that is gone; the
    "real" and "refusal" tests must name the check's words (its name, or the refusal's key)."""
    assert set(REAL_FAILURES) == check_items(), (check_items() ^ set(REAL_FAILURES))
    problems = []
    for item, (kind, where) in REAL_FAILURES.items():
        assert kind in ("real", "refusal", "unreachable"), item  # no check shown failing on made-up figures only
        if kind in ("real", "refusal"):
            file, _, name = where.partition("::")
            body = function_source(REPO / "tests" / file, name) or ""
            named = item.partition("[")[0] in body if kind == "real" else \
                any(words in body for words in ("ConfigError", "USAGE_ERROR", "pytest.raises"))
            if not named:
                problems.append(f"{item}: {where} does not exist or does not name the check (or the refusal)")
    assert not problems, "\n".join(problems)


def test_a_detection_baseline_with_a_higher_map_than_todays_fails_the_baseline_drop_as_points(tmp_path, shared_cache,
                                                                                               monkeypatch):
    """The bundled detector accepted, then its accepted mAP@[.5:.95] of model_quantized.tflite raised by 2 points
    (more than thresholds.max_baseline_drop, 0.5): no_drop_against_baseline fails for that model alone, compared as
    points (the baseline keeps no detections); changing detection.max_map_drop (a threshold, not a figure) leaves
    the baseline like for like."""
    import json

    from vsq.api import run_options
    from vsq.pipeline.job import prepare
    from vsq.pipeline.pipeline import Pipeline

    example = REPO / "examples"
    config = json.loads((example / "detection.json").read_text())
    for key in ("source_keras_model", "dataset_image_dir", "evaluate_image_dir", "evaluate_label_file"):
        config[key] = str((example / config[key]).resolve())
    config.update(output_dir=str(tmp_path / "output"), evaluate_result_dir=str(tmp_path / "results"))
    config["detection"]["bootstrap_resamples"] = 100  # the quantization drop's interval: not what this test is about
    path, baseline = tmp_path / "detection.json", tmp_path / "baseline.json"
    path.write_text(json.dumps(config))
    monkeypatch.chdir(tmp_path)  # the message names the files as the command line would, from here

    def run(accept: bool):
        options = run_options(shared_cache, baseline=baseline, accept_baseline=accept, progress=False)
        return Pipeline(prepare(path), options).result

    assert run(accept=True).verdict == "PASS"
    data = json.loads(baseline.read_text())
    accepted = data["configurations"]["detection"]
    assert "per_image" not in accepted and set(accepted["map_50_95"]) == {"keras", "tflite", "tflite_quantized",
                                                                          "keras_quantized"}
    today = accepted["map_50_95"]["tflite_quantized"]
    accepted["map_50_95"]["tflite_quantized"] = today + 0.02
    baseline.write_text(json.dumps(data))
    path.write_text(json.dumps({**config, "detection": {**config["detection"], "max_map_drop": 3.0}}))
    failures = run(accept=False).failures()
    assert_short_messages(failures, "detection")
    assert set(failures) == {"no_drop_against_baseline[tflite_quantized]"}, failures
    message = failures["no_drop_against_baseline[tflite_quantized]"]
    assert message.startswith(f"detection: model_quantized.tflite mAP@[.5:.95] {today:.4f} is 2.00 points below the "
                              f"accepted {today + 0.02:.4f}"), message
    assert "unpaired: a detector's baseline keeps no detections, so compared as points)" in message
    assert "max_baseline_drop is 0.5 points" in message
