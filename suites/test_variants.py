"""Quantization variants (the configuration's `variants`): each recipe's file, its storage, its Top-1.

The root conftest parametrises these tests over the (configuration, variant) pairs that exist:
ids read `[configuration-tf_float16]`, and a configuration without variants has none. A variant
that MCT or the TFLite converter could not build fails each of its tests with the tool's message.
"""

import pytest

from vsq.pipeline.verdicts import drop_check, floor_check
from vsq.util.paths import shown
from vsq.runtimes.tflite_storage import describe_tflite, io_problems, weight_problems


def _built(variant_builds, variant):
    """The variant's file, or the test fails with the reason it could not be built."""
    build = variant_builds[variant.name]
    if build.error:
        pytest.fail(build.error, pytrace=False)
    return build.path


def _record_build(record_property, build):
    record_property("kind", build.recipe.kind)
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


def _comparison_row(results, variant):
    return results["variants"]["models"][variant.name]


def _record_accuracy(record_property, row, check):
    for key in ("top_5_accuracy", "agreement_with_keras", "file_size_bytes", "latency_ms_per_image"):
        record_property(key, row.get(key))
    for name, value in check.figures.items():
        record_property(name, value)


def test_variant_top1_drop_within_threshold(vsq_job, variant, variant_builds, results, record_property):
    _record_build(record_property, variant_builds[variant.name])
    path = _built(variant_builds, variant)
    row = _comparison_row(results, variant)
    check = drop_check(vsq_job.name, f"{path.name} ({variant.kind})", row, results["top_1_accuracy_keras"],
                       "the variant's max_top1_drop")
    _record_accuracy(record_property, row, check)
    within = check.ok
    assert within, check.message


def test_variant_top1_above_minimum(vsq_job, variant, variant_builds, results, record_property):
    _record_build(record_property, variant_builds[variant.name])
    path = _built(variant_builds, variant)
    row = _comparison_row(results, variant)
    check = floor_check(vsq_job.name, f"{path.name} ({variant.kind})", row["top_1_accuracy"], variant.min_top1,
                        results["num_classes"], "the variant's min_top1")
    _record_accuracy(record_property, row, check)
    above = check.ok
    assert above, check.message
