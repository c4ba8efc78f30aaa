"""The accuracy gate: Top-1 of the Keras, float TFLite and quantized TFLite models, and of MCT's quantized
Keras model (model_quantized.keras, what the IMX500 converter receives)."""

from vsq.frameworks.keras.explain import failure_hint
from vsq.pipeline.verdicts import quantized_checks
from vsq.statistics.metrics import top1_drop_points
from vsq.util.paths import shown
from vsq.pipeline.reference import BY_KEY, REFERENCE_MODELS


def _record(record_property, results, check=None):
    for model in REFERENCE_MODELS:
        record_property(model.spec_key, results[model.spec_key])
    record_property("num_images", results["num_images"])
    for name, value in (check.figures if check else {}).items():
        if name not in ("top_1_accuracy", "top_1_accuracy_keras"):  # recorded above under the spec's names
            record_property(name, value)


def _explanation(record_property, results) -> str:
    """Records the per-layer explanation's figures (results.json `explanation`); returns what a failing
    quantized-model check appends to its message (the worst layers, or "")."""
    section = results.get("explanation") or {}
    record_property("explanation_status", section.get("status", "absent"))
    if section.get("status") == "ok":
        for rank, name in enumerate(section["worst"], 1):
            record_property(f"worst_layer_{rank}", name)
        record_property("output_sqnr_db", section["output"]["validation"]["sqnr_db"])
        record_property("explanation_seconds", section["seconds"])
        record_property("explanation_report_dir", section["report_dir"])
    elif section.get("status") == "failed":
        record_property("explanation_error", section["error"])
    return failure_hint(section)


def _quantized_check(which: int, vsq_job, results, record_property):
    """One of the default model's checks (vsq.pipeline.verdicts.quantized_checks), recorded, with the explanation's hint."""
    check = quantized_checks(vsq_job.name, results, vsq_job.config.thresholds)[which]
    _record(record_property, results, check)
    return check.ok, check.message + _explanation(record_property, results)


def test_quantized_top1_drop_within_threshold(vsq_job, results, record_property):
    within, message = _quantized_check(0, vsq_job, results, record_property)
    assert within, message


def test_quantized_keras_top1_drop_within_threshold(vsq_job, results, record_property):
    within, message = _quantized_check(1, vsq_job, results, record_property)
    assert within, message


def test_quantized_top1_above_minimum(vsq_job, results, record_property):
    above, message = _quantized_check(2, vsq_job, results, record_property)
    assert above, message


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
    from vsq.sections.baseline import compare

    tolerance = vsq_job.config.thresholds.max_baseline_drop
    result = compare(results, accepted_baseline.entry, baseline_model, tolerance, vsq_job.config.thresholds)
    replaced = (accepted_baseline.replaced or {}).get("top_1", {}).get(baseline_model)
    record_property("model", baseline_model)
    record_property("top_1_accuracy", result.current)
    record_property("baseline_top_1_accuracy", result.accepted)
    record_property("baseline_drop_points", result.drop_points)
    record_property("max_baseline_drop", tolerance)
    record_property("baseline_file", str(accepted_baseline.path))
    record_property("baseline_paired", result.paired is not None)
    if result.paired:
        for name, value in (("baseline_images_lost", result.paired["reference_only"]),
                            ("baseline_images_gained", result.paired["candidate_only"]),
                            ("baseline_drop_interval_points", result.paired["interval_points"]),
                            ("baseline_mcnemar_p_value", result.paired["p_value"]),
                            ("baseline_verdict", result.decision["verdict"]),
                            ("images_added", result.images_added), ("images_removed", result.images_removed)):
            record_property(name, value)
    if accepted_baseline.accepting:
        record_property("replaced_baseline_top_1_accuracy", replaced)
    described = (BY_KEY[baseline_model].described if baseline_model in BY_KEY else
                 f"variant {baseline_model} (model_{baseline_model}.tflite)")
    built = result.current is not None
    assert built, f"{vsq_job.name}: {described} has no Top-1 in this run: it could not be built (see its own tests)"
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
        f"below the accepted {result.accepted:.4f} ({shown(accepted_baseline.path)}, accepted {result.accepted_on}"
        f"{_pairing(result)}); thresholds.max_baseline_drop is {tolerance} points; {accept}"
    )


def _pairing(result) -> str:
    """How the baseline comparison was made, for its message."""
    if result.paired is None:
        return "; unpaired: the baseline keeps no per-image results, accept again to pair"
    low, high = result.paired["interval_points"]
    changed = (f"; the evaluation set changed: {result.images_added} images added, {result.images_removed} removed"
               if result.images_added or result.images_removed else "")
    return (f"; paired on {result.paired['num_images']} shared images: {result.paired['reference_only']} lost, "
            f"{result.paired['candidate_only']} gained, interval {low:+.2f} to {high:+.2f}, "
            f"{result.decision['verdict']}{changed}")
