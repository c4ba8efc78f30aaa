"""The accuracy gate: Top-1 of the Keras, float TFLite and quantized TFLite models."""

from vsq.metrics import top1_drop_points
from vsq.paths import shown


def _record(record_property, evaluation):
    for key in ("top_1_accuracy_keras", "top_1_accuracy_tflite", "top_1_accuracy_tflite_quantized", "num_images"):
        record_property(key, evaluation[key])


def test_quantized_top1_drop_within_threshold(vsq_job, evaluation, record_property):
    limit = vsq_job.config.thresholds.max_top1_drop
    drop = top1_drop_points(evaluation["top_1_accuracy_keras"], evaluation["top_1_accuracy_tflite_quantized"])
    _record(record_property, evaluation)
    record_property("top_1_drop_points", drop)
    record_property("max_top1_drop", limit)
    within = drop <= limit
    assert within, (
        f"{vsq_job.name}: model_quantized.tflite Top-1 {evaluation['top_1_accuracy_tflite_quantized']:.4f} is {drop:.2f} points "
        f"below Keras {evaluation['top_1_accuracy_keras']:.4f}; thresholds.max_top1_drop is {limit} points"
    )


def test_quantized_top1_above_minimum(vsq_job, evaluation, record_property):
    configured = vsq_job.config.thresholds.min_top1
    chance = 1.0 / evaluation["num_classes"]
    top1 = evaluation["top_1_accuracy_tflite_quantized"]
    _record(record_property, evaluation)
    record_property("min_top1", configured if configured is not None else f"chance ({chance:.4f})")
    if configured is None:
        better = top1 > chance
        assert better, f"{vsq_job.name}: model_quantized.tflite Top-1 {top1:.4f} is no better than chance ({chance:.4f})"
    else:
        above = top1 >= configured
        assert above, (
            f"{vsq_job.name}: model_quantized.tflite Top-1 {top1:.4f} is below thresholds.min_top1 {configured:.4f}"
        )


def test_float_tflite_agrees_with_keras(vsq_job, evaluation, record_property):
    limit = vsq_job.config.thresholds.max_float_top1_drop
    difference = abs(top1_drop_points(evaluation["top_1_accuracy_keras"], evaluation["top_1_accuracy_tflite"]))
    agreement = evaluation["models"]["tflite"]["agreement_with_keras"]
    _record(record_property, evaluation)
    record_property("top_1_difference_points", difference)
    record_property("agreement_with_keras", agreement)
    record_property("max_float_top1_drop", limit)
    within = difference <= limit
    assert within, (
        f"{vsq_job.name}: model.tflite Top-1 {evaluation['top_1_accuracy_tflite']:.4f} differs from Keras "
        f"{evaluation['top_1_accuracy_keras']:.4f} by {difference:.2f} points; thresholds.max_float_top1_drop is "
        f"{limit} points"
    )


FILES = {"keras": "the Keras model", "tflite": "model.tflite", "tflite_quantized": "model_quantized.tflite"}


def test_no_drop_against_baseline(vsq_job, baseline_model, evaluation, accepted_baseline, record_property):
    from vsq.baseline import compare

    tolerance = vsq_job.config.thresholds.max_baseline_drop
    result = compare(evaluation, accepted_baseline.entry, baseline_model, tolerance)
    replaced = (accepted_baseline.replaced or {}).get("top_1", {}).get(baseline_model)
    record_property("model", baseline_model)
    record_property("top_1_accuracy", result.current)
    record_property("baseline_top_1_accuracy", result.accepted)
    record_property("baseline_drop_points", result.drop_points)
    record_property("max_baseline_drop", tolerance)
    record_property("baseline_file", str(accepted_baseline.path))
    if accepted_baseline.accepting:
        record_property("replaced_baseline_top_1_accuracy", replaced)
    accept = (f"if the new figure is right, accept it: pytest suites/ --config {shown(vsq_job.config.file)} "
              f"--baseline {shown(accepted_baseline.path)} --accept-baseline")
    accepted = result.accepted is not None
    assert accepted, (
        f"{vsq_job.name}: no accepted Top-1 of {FILES.get(baseline_model, baseline_model)} for configuration {vsq_job.name!r} in "
        f"{shown(accepted_baseline.path)}; {accept}"
    )
    kept = result.ok
    assert kept, (
        f"{vsq_job.name}: {FILES.get(baseline_model, baseline_model)} Top-1 {result.current:.4f} is {result.drop_points:.2f} points "
        f"below the accepted {result.accepted:.4f} ({shown(accepted_baseline.path)}, accepted {result.accepted_on}); "
        f"thresholds.max_baseline_drop is {tolerance} points; {accept}"
    )
