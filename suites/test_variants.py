"""Quantization variants (the configuration's `variants`): each recipe's file, its storage, its Top-1.

fixtures/variants.py parametrises these tests over the (configuration, variant) pairs that exist:
ids read `[configuration-tf_float16]`, and a configuration without variants has none. A variant
that MCT or the TFLite converter could not build fails each of its tests with the tool's message.
"""

import pytest

from vsq.metrics import top1_drop_points
from vsq.variants import describe_tflite, io_problems, weight_problems


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
    record_property("size_bytes", path.stat().st_size if path.exists() else 0)
    assert path.parent == vsq_job.config.output_dir
    assert path.is_file() and path.stat().st_size > 0, f"{path} is missing or empty"


def test_variant_weights_stored_as_its_kind(variant, variant_builds, record_property):
    _record_build(record_property, variant_builds[variant.name])
    path = _built(variant_builds, variant)
    description = describe_tflite(path)
    for dtype, figures in description["weights"].items():
        record_property(f"weights_{dtype}_bytes", figures["bytes"])
    problems = weight_problems(variant, description)
    assert not problems, f"{path.name} ({variant.kind}) " + "; ".join(problems)


@pytest.mark.variant_kinds("tf_full_integer")
def test_full_integer_input_and_output_types(variant, variant_builds, record_property):
    _record_build(record_property, variant_builds[variant.name])
    path = _built(variant_builds, variant)
    description = describe_tflite(path)
    record_property("io_type", variant.io_type)
    record_property("inputs", ",".join(description["inputs"]))
    record_property("outputs", ",".join(description["outputs"]))
    problems = io_problems(variant, description)
    assert not problems, f"{path.name} ({variant.kind}) " + "; ".join(problems)


def _record_accuracy(record_property, row, evaluation):
    record_property("top_1_accuracy_keras", evaluation["top_1_accuracy_keras"])
    for key in ("top_1_accuracy", "top_5_accuracy", "top_1_drop_points", "agreement_with_keras",
                "file_size_bytes", "latency_ms_per_image"):
        record_property(key, row.get(key))


def test_variant_top1_drop_within_threshold(variant, variant_builds, variant_evaluation, evaluation,
                                            record_property):
    _record_build(record_property, variant_builds[variant.name])
    path = _built(variant_builds, variant)
    row = variant_evaluation["models"][variant.name]
    drop = top1_drop_points(evaluation["top_1_accuracy_keras"], row["top_1_accuracy"])
    _record_accuracy(record_property, row, evaluation)
    record_property("max_top1_drop", variant.max_top1_drop)
    assert drop <= variant.max_top1_drop, (
        f"{path.name} ({variant.kind}) Top-1 {row['top_1_accuracy']:.4f} is {drop:.2f} points below Keras "
        f"{evaluation['top_1_accuracy_keras']:.4f}; the variant's max_top1_drop is {variant.max_top1_drop} points"
    )


def test_variant_top1_above_minimum(variant, variant_builds, variant_evaluation, evaluation, record_property):
    _record_build(record_property, variant_builds[variant.name])
    path = _built(variant_builds, variant)
    row = variant_evaluation["models"][variant.name]
    top1, chance = row["top_1_accuracy"], 1.0 / evaluation["num_classes"]
    _record_accuracy(record_property, row, evaluation)
    record_property("min_top1", variant.min_top1 if variant.min_top1 is not None else f"chance ({chance:.4f})")
    if variant.min_top1 is None:
        assert top1 > chance, f"{path.name} ({variant.kind}) Top-1 {top1:.4f} is no better than chance ({chance:.4f})"
    else:
        assert top1 >= variant.min_top1, (
            f"{path.name} ({variant.kind}) Top-1 {top1:.4f} is below the variant's min_top1 {variant.min_top1:.4f}"
        )
