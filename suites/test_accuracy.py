"""The accuracy gate: Top-1 of the Keras, float TFLite and quantized TFLite models."""

from vsq.gate import drop_check, floor_check
from vsq.metrics import top1_drop_points
from vsq.paths import shown
from vsq.reference import BY_KEY, QUANTIZED_TFLITE, REFERENCE_MODELS


def _record(record_property, results, check=None):
    for model in REFERENCE_MODELS:
        record_property(model.spec_key, results[model.spec_key])
    record_property("num_images", results["num_images"])
    for name, value in (check.figures if check else {}).items():
        if name not in ("top_1_accuracy", "top_1_accuracy_keras"):  # recorded above under the spec's names
            record_property(name, value)


def test_quantized_top1_drop_within_threshold(vsq_job, results, record_property):
    check = drop_check(vsq_job.name, QUANTIZED_TFLITE.described, results[QUANTIZED_TFLITE.spec_key],
                       results["top_1_accuracy_keras"], vsq_job.config.thresholds.max_top1_drop,
                       "thresholds.max_top1_drop")
    _record(record_property, results, check)
    within = check.ok
    assert within, check.message


def test_quantized_top1_above_minimum(vsq_job, results, record_property):
    check = floor_check(vsq_job.name, QUANTIZED_TFLITE.described, results[QUANTIZED_TFLITE.spec_key],
                        vsq_job.config.thresholds.min_top1, results["num_classes"], "thresholds.min_top1")
    _record(record_property, results, check)
    above = check.ok
    assert above, check.message


def test_float_tflite_agrees_with_keras(vsq_job, results, record_property):
    limit = vsq_job.config.thresholds.max_float_top1_drop
    difference = abs(top1_drop_points(results["top_1_accuracy_keras"], results["top_1_accuracy_tflite"]))
    _record(record_property, results)
    record_property("top_1_difference_points", difference)
    record_property("agreement_with_keras", results["models"]["tflite"]["agreement_with_keras"])
    record_property("max_float_top1_drop", limit)
    within = difference <= limit
    assert within, (
        f"{vsq_job.name}: model.tflite Top-1 {results['top_1_accuracy_tflite']:.4f} differs from Keras "
        f"{results['top_1_accuracy_keras']:.4f} by {difference:.2f} points; thresholds.max_float_top1_drop is "
        f"{limit} points"
    )


def test_no_drop_against_baseline(vsq_job, baseline_model, results, accepted_baseline, record_property):
    from vsq.baseline import compare

    tolerance = vsq_job.config.thresholds.max_baseline_drop
    result = compare(results, accepted_baseline.entry, baseline_model, tolerance)
    replaced = (accepted_baseline.replaced or {}).get("top_1", {}).get(baseline_model)
    record_property("model", baseline_model)
    record_property("top_1_accuracy", result.current)
    record_property("baseline_top_1_accuracy", result.accepted)
    record_property("baseline_drop_points", result.drop_points)
    record_property("max_baseline_drop", tolerance)
    record_property("baseline_file", str(accepted_baseline.path))
    if accepted_baseline.accepting:
        record_property("replaced_baseline_top_1_accuracy", replaced)
    described = BY_KEY[baseline_model].described if baseline_model in BY_KEY else baseline_model
    accept = (f"if the new figure is right, accept it: pytest suites/ --config {shown(vsq_job.config.file)} "
              f"--baseline {shown(accepted_baseline.path)} --accept-baseline")
    accepted = result.accepted is not None
    assert accepted, (
        f"{vsq_job.name}: no accepted Top-1 of {described} for configuration {vsq_job.name!r} in "
        f"{shown(accepted_baseline.path)}; {accept}"
    )
    kept = result.ok
    assert kept, (
        f"{vsq_job.name}: {described} Top-1 {result.current:.4f} is {result.drop_points:.2f} points "
        f"below the accepted {result.accepted:.4f} ({shown(accepted_baseline.path)}, accepted {result.accepted_on}); "
        f"thresholds.max_baseline_drop is {tolerance} points; {accept}"
    )
