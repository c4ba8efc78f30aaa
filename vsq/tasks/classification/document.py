"""Classification's keys of the results document's core: the spec tool's Top-1 keys, per-model figures (Top-1,
Top-5, per class, confusion, agreement with the float model), paired statistics and decisions, the flipped
images and the per-image record. Top-1/Top-5/agreement are fractions 0..1, drops percentage points."""

from __future__ import annotations

from vsq.core.reference import roles
from vsq.core.verdicts import decision
from vsq.statistics import metrics, parity, per_image
from vsq.statistics import paired as statistics
from vsq.tasks.classification.evaluation import ModelEvaluation


def core(run, evaluations: dict) -> dict:
    """run: vsq.core.checks.Run (its job, framework and evaluations); evaluations: ModelEvaluation per model
    evaluated (the reference models and the variants: the per-image record pairs baselines)."""
    job, framework = run.job, run.framework
    references = {model.key: evaluations[model.key] for model in framework.models}
    float_key = framework.models[0].key
    keras = references[float_key]  # the float model, every drop's reference (the Keras model for Keras)
    names = job.evaluation_set.class_names
    out: dict = {model.spec_key: references[model.key].top1 for model in framework.models}
    out["top_1_drop_points"] = {
        key: metrics.top1_drop_points(keras.top1, result.top1) for key, result in references.items() if key != float_key
    }
    out["num_classes"] = job.evaluation_set.num_classes
    out["models"] = {key: _model(result, float_key, keras, names) for key, result in references.items()}
    paths = per_image.used_paths(job.evaluation_set.paths, keras.skipped)  # the images every model saw, in order
    _add_statistics(out["models"], references, roles(framework.models), job, paths)
    out["class_names"] = list(names)
    correct = {key: result.correct for key, result in evaluations.items()}
    out["per_image"] = per_image.record(per_image.image_ids(paths, job.config.evaluate_image_dir), correct)
    return out


def _model(result: ModelEvaluation, float_key: str, reference: ModelEvaluation, names) -> dict:
    """A model's figures; agreement_with_<float key> (agreement_with_keras): the fraction of images on which it
    predicts the float model's class."""
    return {
        "top_1_accuracy": result.top1,
        "top_5_accuracy": result.top5,
        "top_k_of_top_5": min(5, len(names)),
        f"agreement_with_{float_key}": metrics.agreement(result.predictions, reference.predictions),
        "per_class_top_1": dict(zip(names, result.per_class_top1)),
        "confusion_matrix": result.confusion.tolist(),
        "evaluation_seconds": round(result.seconds, 4),
    }


def _add_statistics(models: dict, evaluations: dict[str, ModelEvaluation], roles: dict, job, paths: list) -> None:
    """Per model: the Wilson interval of its Top-1; against the float model (and the quantized file against
    MCT's quantized model it was exported from: the export's own effect) the paired comparison, keyed by the
    reference's key; for the gated models (the quantized and the fake-quant one) the decision; the flipped
    images. roles: role -> key (vsq.core.reference.roles)."""
    thresholds, float_key = job.config.thresholds, roles["float"]
    reference, correct = evaluations[float_key], {key: result.correct for key, result in evaluations.items()}
    gated = (roles.get("quantized"), roles.get("fake_quant"))
    ids = parity.image_names(paths, job.config.evaluate_image_dir)
    for key, model in models.items():
        model["top_1_interval"] = list(statistics.wilson_interval(int(correct[key].sum()), len(correct[key]),
                                                                  thresholds.confidence))
        if key == float_key:
            continue
        against = [float_key, *([roles["fake_quant"]] if key == roles.get("quantized") and roles.get("fake_quant")
                                in correct else [])]
        model["paired"] = {other: statistics.compare_paired(correct[other], correct[key], thresholds.confidence).as_dict()
                           for other in against}
        # per image, how far its scores are from each model it is compared with (vsq.statistics.parity)
        pairs = {other: parity.of(evaluations[other], evaluations[key], ids) for other in against}
        model["parity"] = {other: summary for other, summary in pairs.items() if summary}
        for other in against[1:]:  # the export's own effect on predictions, not only on correctness
            model[f"agreement_with_{other}"] = metrics.agreement(evaluations[key].predictions,
                                                                 evaluations[other].predictions)
        if key in gated:
            model["decision"] = decision(model["paired"][float_key], thresholds.max_top1_drop, thresholds)
        model["flipped"] = per_image.flipped(paths, reference.labels, job.evaluation_set.class_names, reference,
                                             evaluations[key], float_key)
