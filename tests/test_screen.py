"""The preprocessing screen and the float model's checks: a model trained on another preprocessing, on BGR images
or with labels.json numbered otherwise fails the screen with the change to make; correct models pass; a warm run
does not screen again; a float model near chance fails its own check and makes the drops meaningless.

The models are tiny.py's hand-set colour classifiers, set as if trained another way (no training needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tiny
from vsq.configuration.config import Thresholds
from vsq.pipeline.job import prepare
from vsq.configuration.preprocessing import Preprocessing
from vsq.cache.store import Cache
from vsq.pipeline.options import RunOptions
from vsq.core.verdicts import float_near_chance, near_chance_limit, quantized_checks
from vsq.sections import all_sections
from vsq.sections.screen_words import found_sentence
from vsq.sections.screen_search import Rule, readings, search

REPO = Path(__file__).resolve().parents[1]
RULE = Rule(min_gain_points=10.0, max_p_value=0.01)
RED, GREEN, BLUE = tiny.CHANNEL["red"], tiny.CHANNEL["green"], tiny.CHANNEL["blue"]


# --- the search on made-up predictions (no model) -------------------------------------------------------------


def test_readings_are_labels_json_and_the_few_fixed_others_that_differ():
    assert [reading.name for reading in readings(tiny.CLASSES)] == ["as written", "ids + 1", "ids - 1"]  # sorted
    shifted = readings(tiny.CLASSES)[1]
    assert shifted.corrected(tiny.CLASSES) == {"blue": 1, "green": 2, "red": 0}
    names = ["class_10", "class_2", "class_1", "class_3"]  # ids 0..3 as listed
    numbered = readings(names)
    assert [reading.name for reading in numbered] == ["as written", "ids + 1", "ids - 1", "sorted", "natural"]
    assert numbered[3].corrected(names) == {"class_1": 0, "class_10": 1, "class_2": 2, "class_3": 3}
    assert numbered[4].corrected(names) == {"class_1": 0, "class_2": 1, "class_3": 2, "class_10": 3}
    assert [reading.name for reading in readings(["a", "b"])] == ["as written", "ids + 1"]  # +1 and -1: one swap


def _labels(per_class: int = 40, classes: int = 3) -> np.ndarray:
    return np.repeat(np.arange(classes), per_class)


def _model(wants: dict, labels: np.ndarray, shift: int = 0):
    """Predictions of a model that is right only under the preprocessing fields `wants` says (else it says
    class 0), its outputs shifted by `shift`."""
    def predictions(preprocessing: Preprocessing) -> np.ndarray:
        right = all(getattr(preprocessing, field) == value for field, value in wants.items())
        return (labels + shift) % 3 if right else np.zeros_like(labels)

    return predictions


def test_the_search_names_the_one_change_that_makes_the_model_right():
    labels = _labels()
    screen = search(Preprocessing(16), tiny.CLASSES, labels, _model({"normalization": "[-1,1]"}, labels), RULE)
    assert screen["found"]["changes"] == {"normalization": "[-1,1]"}
    assert (screen["found"]["top_1_accuracy"], screen["configured"]["top_1_accuracy"]) == (1.0, 1 / 3)
    assert screen["found"]["gain_points"] == pytest.approx(66.6667) and screen["found"]["p_value"] < 1e-20
    # Round 1: the configuration, 4 normalizations, BGR, shorter_side; round 2 from "[-1,1]": BGR, shorter_side.
    assert screen["passes"] == 9 and {row["round"] for row in screen["alternatives"]} == {1, 2}


def test_two_changes_at_once_are_found_one_round_each_and_labels_come_free():
    labels = _labels()
    wants = {"normalization": "[-1,1]", "channel_order": "BGR"}
    half = _model(wants, labels)

    def model(preprocessing):  # half right with [-1,1] alone, so that each change gains on its own
        if preprocessing.normalization == "[-1,1]" and preprocessing.channel_order == "RGB":
            return np.where(np.arange(len(labels)) % 2 == 0, labels, 0)
        return half(preprocessing)

    screen = search(Preprocessing(16), tiny.CLASSES, labels, model, RULE)
    assert screen["found"]["changes"] == wants and screen["found"]["top_1_accuracy"] == 1.0
    assert {row["round"] for row in screen["alternatives"]} == {1, 2, 3}
    shifted = search(Preprocessing(16), tiny.CLASSES, labels, _model({"mode": "shorter_side"}, labels, shift=1), RULE)
    assert shifted["found"]["changes"] == {"mode": "shorter_side", "crop_pct": 0.875, "labels": "ids + 1"}
    assert shifted["found"]["labels_json"] == {"blue": 1, "green": 2, "red": 0}


def test_a_gain_below_the_margin_or_without_a_significant_test_is_not_a_finding():
    labels = _labels()

    def slightly(preprocessing):  # 8 images of 120 better under [0,255]: 6.7 points
        out = np.where(np.arange(len(labels)) < 100, labels, (labels + 1) % 3)
        return np.where(np.arange(len(labels)) < 108, labels, out) if preprocessing.normalization == "[0,255]" else out

    assert search(Preprocessing(16), tiny.CLASSES, labels, slightly, RULE)["found"] is None
    assert search(Preprocessing(16), tiny.CLASSES, labels, slightly, Rule(5.0, 0.01))["found"] is None  # p > 0.01/20
    assert search(Preprocessing(16), tiny.CLASSES, labels, slightly, Rule(5.0, 0.5))["found"] is not None
    few = _labels(per_class=2)  # 6 images: 4 more right is 67 points, but p = 0.125
    assert search(Preprocessing(16), tiny.CLASSES, few, _model({"channel_order": "BGR"}, few), RULE)["found"] is None


def test_the_finding_reads_as_the_change_to_make():
    labels = _labels()
    screen = search(Preprocessing(16), tiny.CLASSES, labels, _model({"normalization": "[-1,1]"}, labels), RULE)
    sentence = found_sentence("mine", {**screen, "images": 120})
    assert sentence.startswith('mine: preprocessing.normalization "[-1,1]" gives Top-1 1.00 on 120 images, the '
                               'configured "[0,1]" 0.33 (+66.7 points, McNemar p = '), sentence
    assert sentence.endswith("; needed: +10 points, p < 0.01 after Bonferroni); set "
                             '"preprocessing": {"normalization": "[-1,1]"} if the model was trained so'), sentence
    shifted = search(Preprocessing(16), tiny.CLASSES, labels, _model({}, labels, shift=1), RULE)
    sentence = found_sentence("mine", shifted)
    assert sentence.startswith("mine: labels.json with every id + 1 gives Top-1 1.00 on 120 images, labels.json as "
                               "written 0.00"), sentence
    assert sentence.endswith('write labels.json as {"blue": 1, "green": 2, "red": 0} if the model was trained so')


# --- the near-chance rule ---------------------------------------------------------------------------------------


def test_near_chance_is_below_one_and_a_half_chance_and_ten_points_above_it():
    assert near_chance_limit(10) == pytest.approx(0.15) and near_chance_limit(2) == pytest.approx(0.60)
    assert near_chance_limit(1000) == pytest.approx(0.0015) and near_chance_limit(3) == pytest.approx(0.4333, abs=1e-4)
    document = {"num_classes": 10, "models": {"keras": {"top_1_interval": [0.08, 0.14]}}}
    assert float_near_chance(document, Thresholds())
    assert not float_near_chance(document, Thresholds(min_float_top1=0.0))  # the opt-out
    document["models"]["keras"]["top_1_interval"] = [0.09, 0.16]  # 36 images cannot tell: not near chance
    assert not float_near_chance(document, Thresholds())


# --- the screen of real (tiny) models in a pipeline ---------------------------------------------------------------


def _pipeline(root: Path, model: Path, **overrides):
    from vsq.pipeline.pipeline import Pipeline

    tiny.write_data(root)
    job = prepare(tiny.write_config(root, source_keras_model=str(model), **overrides))
    return Pipeline(job, RunOptions(Cache(root / "cache"), sections=all_sections()))


def _with_channels(head_channels) -> np.ndarray:
    head = np.zeros((3, len(tiny.CLASSES)), np.float32)
    for cls, channel in enumerate(head_channels):
        head[channel, cls] = 1.0
    return head


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    """Models 'trained' on [-1,1], on BGR images, with labels.json's ids + 1, and one standardising its input."""
    folder = tmp_path_factory.mktemp("screen_models")
    minus_one = tiny.colour_head()
    minus_one[:, tiny.CLASSES.index("red")] += 1.0  # + the sum of the means: negative only in [-1,1]
    shifted = np.roll(tiny.colour_head(), 1, axis=1)  # output (c + 1) mod 3 is class c
    return {"[-1,1]": tiny.write_model(folder / "minus_one.h5", head=minus_one),
            "BGR": tiny.write_model(folder / "bgr.h5", head=_with_channels([RED, GREEN, BLUE])),
            "shifted": tiny.write_model(folder / "shifted.h5", head=shifted),
            "standardising": tiny.write_model(folder / "standardising.h5", normalise_input=True)}


@pytest.mark.parametrize("model, message", [
    ("[-1,1]", 'configuration: preprocessing.normalization "[-1,1]" gives Top-1 1.00 on 36 images, the configured '
               '"[0,1]" 0.33 (+66.7 points, McNemar p = '),
    ("BGR", 'configuration: preprocessing.channel_order "BGR" gives Top-1 1.00 on 36 images, the configured "RGB" '
            "0.33 (+66.7 points, McNemar p = "),
])
def test_a_model_trained_on_other_inputs_fails_the_screen_naming_the_setting(tmp_path, models, model, message):
    pipeline = _pipeline(tmp_path, models[model])
    check = pipeline.check("preprocessing_matches_the_model")
    assert not check.ok and check.message.startswith(message), check.message
    assert "\n" not in check.message and len(check.message) < 400
    assert pipeline.check("label_order_matches_the_model").ok
    assert check.figures["screen_found_top1"] == 1.0 and check.figures["screen_cache"] == "built"


def test_the_fix_the_screen_names_passes_it(tmp_path, models):
    pipeline = _pipeline(tmp_path, models["BGR"], preprocessing={"channel_order": "BGR"})
    assert pipeline.check("preprocessing_matches_the_model").ok
    assert pipeline.part("screen")["configured"]["top_1_accuracy"] == 1.0


def test_labels_shifted_by_one_fail_the_label_check_with_the_labels_json_to_write(tmp_path, models):
    pipeline = _pipeline(tmp_path, models["shifted"])
    check = pipeline.check("label_order_matches_the_model")
    assert check.message.startswith("configuration: labels.json with every id + 1 gives Top-1 1.00 on 36 images, "
                                    "labels.json as written 0.00"), check.message
    assert check.message.endswith('; write labels.json as {"blue": 1, "green": 2, "red": 0} if the model was trained so')
    assert not check.ok and pipeline.check("preprocessing_matches_the_model").ok


def test_a_model_that_standardises_its_input_passes_every_normalization_alike(tmp_path, models):
    pipeline = _pipeline(tmp_path, models["standardising"])
    assert pipeline.check("preprocessing_matches_the_model").ok and pipeline.check("label_order_matches_the_model").ok
    part = pipeline.part("screen")
    alike = [row["top_1_accuracy"] for row in part["alternatives"]
             if set(row["changes"]) == {"normalization"} and row["changes"]["normalization"] in ("[-1,1]", "[0,255]")]
    assert alike == [part["configured"]["top_1_accuracy"]] * 2 == [1.0, 1.0] and part["found"] is None


def test_the_example_passes_the_screen(tmp_path):
    from vsq.pipeline.pipeline import Pipeline

    from runs import relocated

    config = relocated(REPO / "configuration.json", tmp_path, screen={"max_images": 80})  # 20 per class
    pipeline = Pipeline(prepare(config), RunOptions(Cache(tmp_path / "cache"), sections=all_sections()))
    assert pipeline.check("preprocessing_matches_the_model").ok and pipeline.check("label_order_matches_the_model").ok
    part = pipeline.part("screen")
    assert part["images"] == 80 and part["configured"]["top_1_accuracy"] >= 0.85


def test_a_warm_run_does_not_screen_again(tmp_path, models):
    first = _pipeline(tmp_path, models["[-1,1]"])
    built = first.part("screen")
    second = _pipeline(tmp_path, models["[-1,1]"])
    again = second.part("screen")
    assert (built["cache"], again["cache"]) == ("built", "hit") and second.cache_log["preprocessing screen"] == "hit"
    assert "model" not in second.__dict__  # the Keras model was not even loaded
    assert again["build_seconds"] is None and built["build_seconds"] > 0
    assert {key: value for key, value in again.items() if key not in ("cache", "build_seconds")} == \
        {key: value for key, value in built.items() if key not in ("cache", "build_seconds")}
    assert _pipeline(tmp_path, models["[-1,1]"], screen={"max_images": 30}).part("screen")["cache"] == "built"


def test_a_disabled_screen_plans_no_screen_check(tmp_path, models):
    planned = _pipeline(tmp_path, models["[-1,1]"], screen={"enabled": False}).planned_checks()
    assert "float_model_beats_chance" in planned and "preprocessing_matches_the_model" not in planned
    assert "float_top1_meets_expected" not in planned
    assert "float_top1_meets_expected" in _pipeline(tmp_path, models["[-1,1]"],
                                                    expected_top1={"top1": 0.9}).planned_checks()


def test_an_image_the_screen_cannot_decode_is_left_out(tmp_path, models):
    pipeline = _pipeline(tmp_path, models["BGR"], unreadable_images="skip")
    broken = tmp_path / "evaluate" / "images" / "red" / "red_0.JPEG"
    broken.write_bytes(b"not a jpeg")
    part = pipeline.part("screen")
    assert part["status"] == "ok" and part["images"] == 35


# --- the whole run: a float model near chance, its checks and the drops ----------------------------------------


@pytest.mark.slow
def test_a_float_model_near_chance_fails_its_own_check_and_the_drops_say_they_are_meaningless(tmp_path, models):
    import vsq
    from vsq.reporting.summary import table

    tiny.write_data(tmp_path, per_class=12)
    config = tiny.write_config(tmp_path, source_keras_model=str(models["shifted"]), expected_top1={"top1": 0.95})
    run = vsq.run(config, cache_dir=tmp_path / "cache", progress=False)
    failures = run.failures()
    assert failures["float_model_beats_chance"].startswith(
        "configuration: the Keras model Top-1 0.0000 on 36 images is near chance (0.3333): its 95 % interval ends at "
        "0.0964, under 0.4333 (1.5 x chance or chance + 10 points); the evaluation, not the quantization, is off; the "
        "screen found: labels.json with every id + 1 gives Top-1 1.00 on 36 images (configured 0.00)"), \
        failures["float_model_beats_chance"]
    assert failures["float_top1_meets_expected"].startswith(
        "configuration: the Keras model Top-1 0.0000 on 36 images (95 % interval 0.000 to 0.096) is below "
        "expected_top1 0.9500 less 2 points (0.9300): the evaluation, not the quantization, is off; the screen "
        "found: "), failures["float_top1_meets_expected"]
    assert failures["drops_are_meaningful"] == (
        "configuration: every drop against the Keras model is meaningless: it is near chance itself (Top-1 0.0000, "
        "chance 0.3333, its interval ending at 0.0964, under 0.4333); fix the evaluation first "
        "(float_model_beats_chance)"), failures["drops_are_meaningful"]
    for name in ("quantized_top1_drop_within_threshold", "quantized_keras_top1_drop_within_threshold"):
        assert "is meaningless: the Keras model itself is near chance (Top-1 0.0000" in failures[name], failures[name]
        assert run.checks[name].verdict == "FAIL" and run.checks[name].figures["float_near_chance"] is True
    assert "the Keras model is near chance too" in failures["quantized_top1_above_minimum"]
    row = table({"configuration": run.document}, {"configuration": "FAIL"}).splitlines()[2]
    assert " MEANINGLESS " in row and row.endswith("FAIL")  # the table's verdict column, and the gate
    assert "label_order_matches_the_model" in failures and "preprocessing_matches_the_model" not in failures
    assert run.document["explanation"]["status"] == "skipped"  # no layer explains a model near chance
    assert quantized_checks("c", run.document, Thresholds(min_float_top1=0.0))[0].ok  # opted out: a drop of 0
    opened = tiny.write_config(tmp_path, name="opened.json", source_keras_model=str(models["shifted"]),
                               thresholds={"min_float_top1": 0.0, "min_top1": 0.0}, screen={"enabled": False})
    assert vsq.run(opened, cache_dir=tmp_path / "cache", progress=False).verdict == "PASS"


def test_the_report_shows_the_screen_from_the_document_alone_and_escapes_it():
    from vsq.sections.screen import SCREEN

    labels = _labels()
    part = {"status": "ok", **search(Preprocessing(16), tiny.CLASSES, labels, _model({}, labels, shift=1), RULE),
            "build_seconds": 0.5, "cache": "built"}
    part["found"]["labels_json"] = {"<b>blue</b>": 1, "green": 2, "red": 0}
    html = SCREEN.html("<i>c</i>", {"screen": part})
    assert "&lt;i&gt;c&lt;/i&gt;: preprocessing screen" in html and "<i>" not in html and "<b>" not in html
    assert '<td class="vsq-fail">labels.json with every id + 1</td>' in html and "clearly better" in html
    assert SCREEN.terminal_lines("c", {"screen": part}) == [found_sentence("c", part)]
    failed = {"screen": {"status": "failed", "error": "none of the 3 <images> could be decoded"}}
    assert "&lt;images&gt;" in SCREEN.html("c", failed)
    assert SCREEN.terminal_lines("c", failed) == ["c: the preprocessing screen failed: none of the 3 <images> could "
                                                  "be decoded"]
    assert SCREEN.html("c", {}) == "" and SCREEN.terminal_lines("c", {}) == []  # results.json of an older vsq


def test_results_record_what_decoded_and_resized_the_images():
    """Another Pillow or JPEG decoder gives other pixels: results.json says which ones made the figures."""
    import PIL

    from vsq.configuration.config import TFLiteRuntime
    from vsq.pipeline.document import environment
    from vsq.util.versions import stack

    images = environment(stack(), TFLiteRuntime(), "bicubic")["images"]
    assert images["pillow"] == PIL.__version__ and images["resize_filter"] == "bicubic"
    assert images["jpeg"].startswith(("libjpeg-turbo ", "libjpeg ")), images


@pytest.mark.parametrize("rule, inconclusive, interval, verdict, passes", [
    ("point", "fail", (0.80, 0.95), "PASS", True),  # Top-1 0.90 >= floor 0.88
    ("confident", "fail", (0.89, 0.95), "PASS", True),  # the whole interval at or above the floor
    ("confident", "fail", (0.80, 0.95), "INCONCLUSIVE", False),  # straddles it: more images decide
    ("confident", "pass", (0.80, 0.95), "INCONCLUSIVE", True),
    ("confident", "fail", (0.70, 0.87), "FAIL", False),  # wholly below
])
def test_expected_top1_is_judged_under_the_decision_rule(rule, inconclusive, interval, verdict, passes):
    """A stand-in pipeline (the check reads the float model's figures from the document, nothing else)."""
    from types import SimpleNamespace

    from vsq.configuration.config import ExpectedTop1, Thresholds
    from vsq.tasks.classification.checks import float_top1_meets_expected
    from vsq.core.reference import KERAS

    top1 = 0.90 if verdict != "FAIL" else 0.80
    pipeline = SimpleNamespace(
        name="c", framework=SimpleNamespace(models=(KERAS,)), has_section=lambda key: False,
        core={"models": {"keras": {"top_1_accuracy": top1, "top_1_interval": list(interval)}}, "num_classes": 10,
              "num_images": 200},
        config=SimpleNamespace(expected_top1=ExpectedTop1(0.90, 2.0),
                               thresholds=Thresholds(decision_rule=rule, inconclusive=inconclusive)))
    check = float_top1_meets_expected(pipeline)
    assert (check.verdict, check.ok) == (verdict, passes), check.message
    assert check.message.startswith("c: ") and "expected_top1 0.9000 less 2 points (0.8800)" in check.message, \
        check.message  # every row: a passing check's message is what its test would say had it failed
    assert ("INCONCLUSIVE: " in check.message) == (verdict == "INCONCLUSIVE"), check.message
