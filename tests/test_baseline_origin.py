"""A baseline records which configuration and stack made it (vsq.sections.baseline_origin); one made by another
is said as such. From tests/data/results-failing.json, a real run's document: no model is run."""

import copy
from pathlib import Path

import pytest

from vsq.pipeline import results
from vsq.sections import baseline
from vsq.sections.baseline_origin import configuration_digest, mismatch, origin, stack_versions

DATA = Path(__file__).parent / "data"


@pytest.fixture
def document():
    return results.read(DATA / "results-failing.json")


def test_the_digest_follows_the_settings_that_make_the_figures_only(document):
    configuration = document["configuration"]
    digest = configuration_digest(configuration)
    elsewhere = {**configuration, "name": "renamed", "file": "/elsewhere/c.json", "baseline": "/x/b.json",
                 "thresholds": {**configuration["thresholds"], "max_top1_drop": 9.0}, "output_dir": "./o",
                 "evaluate_result_dir": "./r", "evaluate_image_dir_resolved": "/another/machine/images"}
    assert configuration_digest(elsewhere) == digest  # another machine, folder, name or gate policy
    for key, value in (("batch_size", 7), ("iteration_count", 1), ("source_keras_model", "./other.h5"),
                       ("preprocessing", {**configuration["preprocessing"], "resize": "nearest"}),
                       ("variants", [])):
        assert configuration_digest({**configuration, key: value}) != digest, key
    # a baseline accepted before recipes had options matches the same recipes without options, not with them
    variants = [{"name": "tf_float16", "kind": "tf_float16"}]
    before = configuration_digest({**configuration, "variants": variants})
    now = {**configuration, "quantization": {"options": {}}, "variants": [{**variants[0], "options": {}}]}
    assert configuration_digest(now) == before
    assert configuration_digest({**now, "quantization": {"options": {"z_threshold": 8}}}) != before
    assert configuration_digest({**now, "variants": [{**variants[0], "options": {"a": 1}}]}) != before


def test_stack_versions_are_the_libraries_not_the_machine(document):
    stack = stack_versions(document["environment"])
    assert stack["tensorflow"] == "2.15.1" and stack["model_compression_toolkit"] == "2.6.1"
    assert stack["tflite_runtime.version"] == "2.15.1" and stack["tflite_runtime.interpreter"] == "tensorflow"
    assert not {"vsq", "python", "host", "cpu", "tflite_runtime.num_threads", "tflite_runtime.instances"} & set(stack)


def test_a_baseline_entry_records_its_origin_and_a_mismatch_names_what_differs(document):
    entry = baseline.entry(document)
    today = origin(document)
    assert entry["configuration_digest"] == today["configuration_digest"] and entry["stack"] == today["stack"]
    assert mismatch(entry, today) is None

    older = {key: value for key, value in entry.items() if key not in ("configuration_digest", "stack")}
    assert mismatch(older, today) == "records no configuration digest or stack versions (accepted by an older vsq)"

    other_stack = copy.deepcopy(entry)
    other_stack["stack"].update(tensorflow="2.16.2", model_compression_toolkit="2.5.0")
    assert mismatch(other_stack, today) == ("was made by another stack (model_compression_toolkit 2.5.0 -> 2.6.1, "
                                            "tensorflow 2.16.2 -> 2.15.1)")

    other_configuration = {**entry, "configuration_digest": "0123456789abcdef"}
    assert mismatch(other_configuration, today) == (
        f"was made by another configuration (digest 0123456789abcdef, today {today['configuration_digest']}: a "
        "setting that makes the figures changed)")


def test_a_hostile_baseline_origin_stays_one_bounded_line(document):
    today = origin(document)
    hostile = {"configuration_digest": ["x" * 10_000], "stack": {f"k{i}" * 50: {"v": "y" * 10_000} for i in range(50)}}
    said = mismatch(hostile, today)
    assert said.startswith("was made by another configuration") and "and " in said and len(said) < 400, said
    assert "\n" not in said


def test_a_stack_key_the_accepted_vsq_did_not_record_is_no_change_but_a_recorded_one_is(document):
    today = origin(document)
    before = copy.deepcopy(baseline.entry(document))
    today["stack"].update(mct_quantizers="1.7.0", onnxruntime_extensions="0.14.0")  # recorded since it was accepted
    assert mismatch(before, today) is None
    recorded_as_null = copy.deepcopy(before)
    recorded_as_null["stack"].update(mct_quantizers=None)
    assert mismatch(recorded_as_null, today) == "was made by another stack (mct_quantizers null -> 1.7.0)"
    gone_today = copy.deepcopy(before)
    gone_today["stack"].update(openvino="2024.1")
    assert mismatch(gone_today, today) == "was made by another stack (openvino 2024.1 -> null)"


def _detector(num_images: int, digest: str | None) -> dict:
    return {"task": "detection", "created": "2026-12-06T10:00:00+0000", "num_images": num_images,
            "models": {"keras": {"map_50_95": 0.53}, "tflite_quantized": {"map_50_95": 0.51}},
            "environment": {"tensorflow": "2.15"}, "configuration": {"name": "det", "task": "detection"},
            **({"provenance": {"evaluation_digest": digest}} if digest else {})}


def test_an_entry_compared_as_points_on_another_evaluation_set_is_a_mismatch_said_as_such():
    from vsq.sections.baseline_origin import evaluation_set

    accepted = baseline.entry(_detector(200, "a" * 32))
    assert accepted["evaluation_digest"] == "a" * 32 and accepted["num_images"] == 200
    more = origin(_detector(300, "b" * 32))
    assert mismatch(accepted, more) == "was made by another evaluation set (200 -> 300 images)"
    reannotated = origin(_detector(200, "c" * 32))
    assert mismatch(accepted, reannotated) == ("was made by another evaluation set (200 -> 200 images: other image "
                                               "files or annotations)")
    assert mismatch(accepted, origin(_detector(200, "a" * 32))) is None
    assert evaluation_set(accepted, origin(_detector(200, "a" * 32))) == "the same"
    # accepted before vsq recorded its evaluation set: not a mismatch for that alone, and said
    older = {key: value for key, value in accepted.items() if key != "evaluation_digest"}
    assert mismatch(older, more) is None
    assert evaluation_set(older, more).startswith("not recorded")


def test_a_paired_entry_on_another_evaluation_set_is_compared_on_the_shared_images_not_failed(document):
    accepted = {**baseline.entry(document), "evaluation_digest": "a" * 32}
    assert "per_image" in accepted
    today = {**origin(document), "evaluation_digest": "b" * 32, "num_images": 300}
    assert mismatch(accepted, today) is None  # no_drop_against_baseline says how many images were added
