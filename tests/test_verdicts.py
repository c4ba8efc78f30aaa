"""The decision on a drop (vsq.core.verdicts.decision), per-image records (vsq.statistics.per_image) and paired baselines."""

import json
from dataclasses import replace

import numpy as np
import pytest

from vsq.sections import baseline
from vsq.statistics import per_image
from vsq.configuration.config import Thresholds
from vsq.core.verdicts import decision, drop_check, interval_text
from vsq.core.drop_figure import MAP
from vsq.statistics.paired import compare_counts

POINT, CONFIDENT = Thresholds(), Thresholds(decision_rule="confident")


def paired(both_correct, lost, gained, both_wrong):
    return compare_counts(both_correct, lost, gained, both_wrong).as_dict()


def test_point_rule_is_the_spec_rule_and_flags_an_undecided_interval():
    judged = decision(paired(188, 1, 0, 11), 1.0, POINT)  # 0.5 points on 200 images
    assert judged["verdict"] == "PASS" and judged["passes"]
    assert judged["undecided"] and judged["images_to_resolve"] > 200
    assert decision(paired(180, 3, 0, 17), 1.0, POINT)["verdict"] == "FAIL"  # 1.5 points


def test_confident_rule_is_inconclusive_on_a_tiny_set_and_maps_it():
    small = paired(35, 1, 0, 0)  # one image lost of 36: 2.8 points, interval far wider than 1 point
    judged = decision(small, 1.0, CONFIDENT)
    assert judged["verdict"] == "INCONCLUSIVE" and not judged["passes"]
    assert judged["images_to_resolve"] > 36
    assert decision(small, 1.0, replace(CONFIDENT, inconclusive="pass"))["passes"]
    assert decision(paired(9000, 0, 0, 1000), 1.0, CONFIDENT)["verdict"] == "PASS"  # no discordant pair, n large
    assert decision(paired(8500, 500, 0, 1000), 1.0, CONFIDENT)["verdict"] == "FAIL"  # 5 points, sure


def test_inconclusive_message_gives_the_images_needed():
    model = {"top_1_accuracy": 35 / 36, "paired": {"keras": paired(35, 1, 0, 0)}}
    model["decision"] = decision(model["paired"]["keras"], 1.0, CONFIDENT)
    check = drop_check("tiny", "model_quantized.tflite", model, 1.0, "thresholds.max_top1_drop")
    assert not check.ok and check.figures["verdict"] == "INCONCLUSIVE"
    assert check.message.startswith("tiny: INCONCLUSIVE: model_quantized.tflite Top-1 0.9722 is 2.78 points below")
    assert (f"at least about {model['decision']['images_to_resolve']:,} images would decide it if the rates seen "
            "here held" in check.message)
    assert "thresholds.inconclusive is fail" in check.message and "\n" not in check.message


def test_every_inconclusive_verdict_says_how_many_images_would_decide_it():
    """A drop just above the threshold with a narrow interval still straddling it: millions of images."""
    judged = decision(paired(9000, 151, 50, 799), 1.0, CONFIDENT)  # +1.01, interval [+0.73, +1.29]
    assert judged["verdict"] == "INCONCLUSIVE" and not judged["interval_wider_than_threshold"]
    assert judged["undecided"] and judged["images_to_resolve"] > 1_000_000
    model = {"top_1_accuracy": 0.9, "paired": {"keras": paired(9000, 151, 50, 799)}, "decision": judged}
    message = drop_check("big", "model_quantized.tflite", model, 0.91, "thresholds.max_top1_drop").message
    assert f"at least about {judged['images_to_resolve']:,} images would decide it" in message
    assert "would not" not in message


def _notes(counts, thresholds):
    from vsq.reporting.summary import notes

    comparison = paired(*counts)
    model = {"paired": {"keras": comparison}, "decision": decision(comparison, 1.0, thresholds)}
    return notes({"c": {"num_images": comparison["num_images"], "models": {"tflite_quantized": model}}})


@pytest.mark.parametrize("counts, verdict", [((365, 0, 0, 23), "PASS"), ((80, 12, 2, 6), "FAIL")])
@pytest.mark.parametrize("thresholds", [POINT, CONFIDENT], ids=["point", "confident"])
def test_no_cannot_tell_note_once_the_interval_decides(counts, verdict, thresholds):
    judged = decision(paired(*counts), 1.0, CONFIDENT)
    assert judged["verdict"] == verdict and not judged["undecided"] and judged["images_to_resolve"] is None
    assert _notes(counts, thresholds) == []


def test_cannot_tell_note_while_the_interval_straddles_the_threshold():
    [note] = _notes((188, 1, 0, 11), POINT)  # PASS by the point rule, interval -1.6 to +2.7
    needed = decision(paired(188, 1, 0, 11), 1.0, POINT)["images_to_resolve"]
    assert note.startswith("c: the 95 % interval of the drop (-1.6 to +2.7 points) straddles "
                           "thresholds.max_top1_drop (1.0 points): 200 images cannot tell")
    assert note.endswith(f"at least about {needed:,} images would decide it if the rates seen here held")
    [unflipped] = _notes((188, 0, 0, 12), POINT)  # no discordant pair: the estimate assumes none on more images
    assert unflipped.endswith("(none of these 200 images flipped; any flips on a larger set need more)")


def test_interval_text():
    assert interval_text({"drop_points": 0.5, "interval_points": [-0.94, 1.91]}) == "+0.50 [-0.9, +1.9]"
    detector = {metric: {"drop_points": 0.5, "interval_points": [-0.94, 1.91]} for metric in ("map_50_95", "map_50")}
    with pytest.raises(KeyError):  # one drop: the caller picks its figure's (DropFigure.paired), core knows no task
        interval_text(detector)
    assert interval_text(MAP.paired(detector)) == "+0.50 [-0.9, +1.9]"


def test_per_image_record_round_trips_and_aligns_on_shared_images(tmp_path):
    root = tmp_path / "images"
    paths = [root / "cat" / f"{i}.JPEG" for i in range(10)]
    ids = per_image.image_ids(paths, root)
    assert len(set(ids)) == 10 and all(len(i) == per_image.ID_BYTES for i in ids)
    assert per_image.image_ids([tmp_path / "moved" / "cat" / "0.JPEG"], tmp_path / "moved") == ids[:1]
    bits = np.array([True, False] * 5)
    record = per_image.record(ids, {"tflite": bits})
    assert json.loads(json.dumps(record)) == record
    read_ids, read_bits = per_image.read(record)
    assert read_ids == ids and (read_bits["tflite"] == bits).all()
    # Tomorrow: images 0-1 removed, two new ones added, the order changed.
    new_paths = paths[2:][::-1] + [root / "dog" / "a.JPEG", root / "dog" / "b.JPEG"]
    new_bits = np.ones(10, bool)
    today = per_image.record(per_image.image_ids(new_paths, root), {"tflite": new_bits})
    then, now, added, removed = per_image.align(record, today, "tflite")
    assert (added, removed) == (2, 2)
    assert list(then) == list(bits[2:][::-1]) and now.all()
    assert per_image.align(record, today, "keras") is None


def _document(correct: dict, paths, root, top1=None):
    return {"models": {name: {"top_1_accuracy": float(np.mean(bits)) if top1 is None else top1}
                       for name, bits in correct.items()},
            "per_image": per_image.record(per_image.image_ids(paths, root), correct),
            "num_images": len(paths), "created": "2026-11-23", "environment": {}, "configuration": {}}


def test_baseline_comparison_is_paired_on_shared_images(tmp_path):
    root = tmp_path / "images"
    paths = [root / "c" / f"{i}.JPEG" for i in range(400)]
    accepted_bits = np.arange(400) % 10 != 0  # 90 %
    accepted = baseline.entry(_document({"tflite": accepted_bits}, paths, root))
    today_bits = accepted_bits.copy()
    today_bits[1:9] = False  # 8 images lost: 2 points
    result = baseline.compare(_document({"tflite": today_bits}, paths, root), accepted, "tflite", 0.5, POINT)
    assert result.paired["reference_only"] == 8 and result.paired["candidate_only"] == 0
    assert result.drop_points == pytest.approx(2.0) and not result.ok
    assert result.decision["verdict"] == "FAIL" and (result.images_added, result.images_removed) == (0, 0)
    # An old (format 1) entry has no per-image results: compared on Top-1 alone.
    old = {key: value for key, value in accepted.items() if key != "per_image"}
    unpaired = baseline.compare(_document({"tflite": today_bits}, paths, root), old, "tflite", 0.5, POINT)
    assert unpaired.paired is None and not unpaired.ok and unpaired.drop_points == pytest.approx(2.0)


def test_a_changed_evaluation_set_is_paired_on_what_both_share(tmp_path):
    root = tmp_path / "images"
    paths = [root / "c" / f"{i}.JPEG" for i in range(100)]
    accepted = baseline.entry(_document({"tflite": np.ones(100, bool)}, paths, root))
    # Today: 50 of the old images (all still right) and 50 new ones, all wrong. Unpaired Top-1 says a
    # 50-point drop; on the images both runs share nothing changed.
    new = paths[:50] + [root / "new" / f"{i}.JPEG" for i in range(50)]
    bits = np.r_[np.ones(50, bool), np.zeros(50, bool)]
    result = baseline.compare(_document({"tflite": bits}, new, root), accepted, "tflite", 0.5, POINT)
    assert (result.images_added, result.images_removed) == (50, 50)
    assert result.paired["num_images"] == 50 and result.drop_points == 0.0 and result.ok


@pytest.mark.slow
def test_confident_rule_on_a_tiny_set_ends_inconclusive_with_the_images_it_needs(harness, tiny_model, shared_cache):
    import xml.etree.ElementTree as ET

    import tiny
    from runs import run_suites

    tiny.write_data(harness.path)
    strict = tiny.write_config(harness.path, source_keras_model=str(tiny_model),
                               thresholds={"decision_rule": "confident"})
    result = run_suites(harness, strict, extra=["--junitxml=junit.xml"], cache=shared_cache)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    row = next(line for line in result.outlines if line.startswith("configuration  ") and "Keras" not in line)
    assert "INCONCLUSIVE" in row and row.split()[-1] == "FAIL"
    # The check's reason line says how many images would decide it (the cannot-tell note would say the same).
    note = next(line for line in result.outlines
                if line.startswith("configuration: quantized_top1_drop_within_threshold INCONCLUSIVE"))
    needed = int(note.rsplit("at least about ", 1)[1].split()[0].replace(",", ""))
    assert needed > 36
    cases = {case.get("name").split("[")[0]: case for case in ET.parse(harness.path / "junit.xml").iter("testcase")}
    failure = cases["test_quantized_top1_drop_within_threshold"].find("failure").get("message")
    assert "INCONCLUSIVE" in failure and f"at least about {needed:,} images would decide it" in failure
    properties = {p.get("name"): p.get("value")
                  for p in cases["test_quantized_top1_drop_within_threshold"].iter("property")}
    assert properties["verdict"] == "INCONCLUSIVE" and properties["images_to_resolve"] == str(needed)
    explanation = json.loads((harness.path / "results" / "results.json").read_text())["explanation"]
    assert explanation["status"] == "skipped" and "INCONCLUSIVE" in explanation["reason"]  # more images, not layers

    lenient = tiny.write_config(harness.path, name="lenient.json", source_keras_model=str(tiny_model),
                                thresholds={"decision_rule": "confident", "inconclusive": "pass"})
    result = run_suites(harness, lenient, cache=shared_cache)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    row = next(line for line in result.outlines if line.startswith("lenient  "))
    assert "INCONCLUSIVE" in row and row.split()[-1] == "PASS"


@pytest.mark.slow
def test_a_variants_baseline_is_paired_like_the_reference_models(harness, tiny_model, shared_cache):
    import xml.etree.ElementTree as ET

    import tiny
    from runs import run_suites

    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model=str(tiny_model), variants=["tf_float16"])
    baseline_file = harness.path / "baseline.json"
    accepted = run_suites(harness, config, extra=[f"--baseline={baseline_file}", "--accept-baseline"], cache=shared_cache)
    assert accepted.ret == pytest.ExitCode.OK, accepted.stdout.str()[-3000:]
    entry = json.loads(baseline_file.read_text())["configurations"]["configuration"]
    assert set(per_image.read(entry["per_image"])[1]) >= {"tflite_quantized", "tf_float16"}
    compared = run_suites(harness, config, extra=[f"--baseline={baseline_file}", "--junitxml=junit.xml"],
                          cache=shared_cache)
    assert compared.ret == pytest.ExitCode.OK, compared.stdout.str()[-3000:]
    case = next(c for c in ET.parse(harness.path / "junit.xml").iter("testcase")
                if c.get("name") == "test_no_drop_against_baseline[configuration-tf_float16]")
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["baseline_paired"] == "True" and properties["baseline_verdict"] == "PASS"
    assert properties["baseline_images_lost"] == "0"
