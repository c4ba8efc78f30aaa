"""Quantization variants (the configuration's `variants`): each recipe's file, its storage, its Top-1.

fixtures/variants.py parametrises these tests over the (configuration, variant) pairs that exist:
ids read `[configuration-tf_float16]`, and a configuration without variants has none. A variant
that MCT or the TFLite converter could not build fails each of its tests with the tool's message.
"""

import pytest

from vsq.metrics import top1_drop_points
from vsq.paths import shown
from vsq.storage import describe_tflite, io_problems, weight_problems


def _built(variant_builds, variant):
    """The variant's file, or the test fails with the reason it could not be built."""
    build = variant_builds[variant.name]
    if build.error:
        pytest.fail(build.error, pytrace=False)
    return build.path


def _record_build(record_property, build):
    record_property("kind", build.variant.kind)
    record_property("file", str(build.path) if build.path else None)
    record_property("build", build.cache)
    record_property("build_seconds", None if build.seconds is None else round(build.seconds, 2))
    if build.error:
        record_property("error", build.error)


def test_variant_file_written(vsq_job, variant, variant_builds, record_property):
    build = variant_builds[variant.name]
    _record_build(record_property, build)
    path = _built(variant_builds, variant)
    size = path.stat().st_size if path.is_file() else 0
    record_property("size_bytes", size)
    in_place = path.parent == vsq_job.config.output_dir and size > 0
    assert in_place, (
        f"{vsq_job.name}: {shown(path)} is {'empty or missing' if not size else 'not in output_dir'}")


def test_variant_weights_stored_as_its_kind(vsq_job, variant, variant_builds, record_property):
    _record_build(record_property, variant_builds[variant.name])
    path = _built(variant_builds, variant)
    description = describe_tflite(path)
    for dtype, figures in description["weights"].items():
        record_property(f"weights_{dtype}_bytes", figures["bytes"])
    record_property("weight_tensors", len(description["kernels"]))
    problems = weight_problems(variant.kind, description)
    as_its_kind = not problems
    assert as_its_kind, f"{vsq_job.name}: {path.name} ({variant.kind}) " + "; ".join(problems)


@pytest.mark.variant_kinds("tf_full_integer")
def test_full_integer_input_and_output_types(vsq_job, variant, variant_builds, record_property):
    _record_build(record_property, variant_builds[variant.name])
    path = _built(variant_builds, variant)
    description = describe_tflite(path)
    record_property("io_type", variant.io_type)
    record_property("inputs", ",".join(description["inputs"]))
    record_property("outputs", ",".join(description["outputs"]))
    problems = io_problems(variant.kind, variant.io_type, description)
    as_configured = not problems
    assert as_configured, f"{vsq_job.name}: {path.name} ({variant.kind}) " + "; ".join(problems)


def _record_accuracy(record_property, row, evaluation):
    record_property("top_1_accuracy_keras", evaluation["top_1_accuracy_keras"])
    for key in ("top_1_accuracy", "top_5_accuracy", "top_1_drop_points", "agreement_with_keras",
                "file_size_bytes", "latency_ms_per_image"):
        record_property(key, row.get(key))


def test_variant_top1_drop_within_threshold(vsq_job, variant, variant_builds, variant_evaluation, evaluation,
                                            record_property):
    _record_build(record_property, variant_builds[variant.name])
    path = _built(variant_builds, variant)
    row = variant_evaluation["models"][variant.name]
    drop = top1_drop_points(evaluation["top_1_accuracy_keras"], row["top_1_accuracy"])
    _record_accuracy(record_property, row, evaluation)
    limit = variant.max_top1_drop
    record_property("max_top1_drop", limit)
    within = drop <= limit
    assert within, (
        f"{vsq_job.name}: {path.name} ({variant.kind}) Top-1 {row['top_1_accuracy']:.4f} is {drop:.2f} points below Keras "
        f"{evaluation['top_1_accuracy_keras']:.4f}; the variant's max_top1_drop is {limit} points"
    )


def test_variant_top1_above_minimum(vsq_job, variant, variant_builds, variant_evaluation, evaluation, record_property):
    _record_build(record_property, variant_builds[variant.name])
    path = _built(variant_builds, variant)
    row = variant_evaluation["models"][variant.name]
    top1, chance = row["top_1_accuracy"], 1.0 / evaluation["num_classes"]
    _record_accuracy(record_property, row, evaluation)
    record_property("min_top1", variant.min_top1 if variant.min_top1 is not None else f"chance ({chance:.4f})")
    minimum = variant.min_top1
    if minimum is None:
        better = top1 > chance
        assert better, (
            f"{vsq_job.name}: {path.name} ({variant.kind}) Top-1 {top1:.4f} is no better than chance ({chance:.4f})")
    else:
        above = top1 >= minimum
        assert above, (
            f"{vsq_job.name}: {path.name} ({variant.kind}) Top-1 {top1:.4f} is below the variant's min_top1 {minimum:.4f}"
        )
