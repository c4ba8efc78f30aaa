"""The names of the checks that others read besides their own module: defined here once.

A check's name is its key in results.json `checks`, its suite test's name (test_<name>) and its JUnit test case. The
checks register under these names (vsq.pipeline.checks, vsq.frameworks.*.checks, vsq.sections.*), the model roles
name the check that judges each model (vsq.core.reference), and the renderers (vsq.rendering, vsq.reporting) read a
verdict's word and colour from `checks` under them, never from a model's `decision` or a recomputed rule.
"""

QUANTIZED_DROP_CHECK = "quantized_top1_drop_within_threshold"  # the deployable quantized file, any framework
FLOAT_EXPORT_CHECK = "float_tflite_agrees_with_keras"  # |difference| <= max_float_top1_drop: both sides
KERAS_QUANTIZED_CHECK = "quantized_keras_top1_drop_within_threshold"
PYTORCH_QUANTIZED_CHECK = "quantized_pytorch_top1_drop_within_threshold"
VARIANT_DROP_CHECK = "variant_top1_drop_within_threshold"  # one per variant: variant_top1_drop_within_threshold[name]
# FAIL while the float model is near chance (vsq.core.verdicts.float_near_chance): the drops say nothing about
# quantization; the tables' verdict column says MEANINGLESS then.
DROPS_MEANINGFUL_CHECK = "drops_are_meaningful"
IMX500_FITS_CHECK = "imx500_fits_in_memory"
# FAIL when the variants' comparison recommends no quantized model (vsq.sections.comparison.RECOMMENDATION_RULE)
RECOMMENDATION_CHECK = "variants_recommend_a_quantized_model"
STABILITY_CHECK = "verdict_is_stable_across_calibrations"  # the calibration draws agree on the gate (the forest's draws)
SEARCH_FOUND_CHECK = "search_found_a_passing_recipe"
# The search's recommended recipe (or, when none passed, the tried candidate with the highest Top-1) judged as a variant
SEARCH_DROP_CHECK = "search_recommended_top1_drop_within_threshold"
SEARCH_FLOOR_CHECK = "search_recommended_top1_above_minimum"


def variant_check(base: str, variant: str) -> str:
    """A variant's check in `checks`: variant_check(VARIANT_DROP_CHECK, "tf_float16") ->
    'variant_top1_drop_within_threshold[tf_float16]'."""
    return f"{base}[{variant}]"
# "task": "detection" (vsq.tasks.detection.checks)
ANNOTATIONS_CHECK = "annotations_match_the_data"
MAP_DROP_CHECK = "map_drop_within_threshold"  # mAP@[.5:.95] and mAP@.5 of the quantized model
QUANTIZED_MAP_FLOOR_CHECK = "quantized_map_above_minimum"
FLOAT_MAP_CHANCE_CHECK = "float_map_beats_chance"
BOX_FORMAT_CHECK = "box_format_matches_the_model"  # the known-answer screen of the box format
