"""What the preprocessing screen says, once, and only what its rule found significant; thresholds.min_float_top1 0
(README's advice for a random-weight model) records its finding without failing the run."""

import numpy as np
import pytest

import tiny
from test_screen import BLUE, GREEN, RED, _pipeline, _with_channels  # noqa: F401
from vsq.sections.screen import SCREEN
from vsq.sections.screen_words import best_alternative_hint

SCREEN_CHECKS = ("preprocessing_matches_the_model", "label_order_matches_the_model")


@pytest.fixture(scope="module")
def bgr_shifted(tmp_path_factory):
    """A model trained on BGR images with labels.json's ids + 1: the screen finds both changes at once."""
    head = np.roll(_with_channels([RED, GREEN, BLUE]), 1, axis=1)
    return tiny.write_model(tmp_path_factory.mktemp("bgr_shifted") / "model.h5", head=head)


def test_a_finding_that_changes_both_is_said_once(tmp_path, bgr_shifted):
    pipeline = _pipeline(tmp_path, bgr_shifted)
    checks = {name: pipeline.check(name) for name in SCREEN_CHECKS}
    assert not any(check.ok for check in checks.values())
    sentence = checks["preprocessing_matches_the_model"].message
    assert "channel_order" in sentence and "labels.json" in sentence, sentence
    assert checks["label_order_matches_the_model"].message == (
        "configuration: the screen's finding changes labels.json too: see preprocessing_matches_the_model")
    document = {"screen": pipeline.part("screen"), "checks": {name: c.as_dict() for name, c in checks.items()}}
    assert SCREEN.terminal_lines("configuration", document) == []  # the failing check's reason line says it


def test_min_float_top1_zero_records_the_finding_without_failing(tmp_path, bgr_shifted):
    pipeline = _pipeline(tmp_path, bgr_shifted, thresholds={"min_float_top1": 0.0})
    for name in SCREEN_CHECKS:
        check = pipeline.check(name)
        assert check.ok and check.figures["screen_gates"] is False and check.figures["screen_found"] != "none", name
    document = {"screen": pipeline.part("screen"),
                "checks": {name: pipeline.check(name).as_dict() for name in SCREEN_CHECKS}}
    assert len(SCREEN.terminal_lines("configuration", document)) == 1  # the finding, once, as a note


def test_an_alternative_that_is_not_significant_is_not_offered(tmp_path, bgr_shifted):
    pipeline = _pipeline(tmp_path, bgr_shifted)
    part = {**pipeline.part("screen"), "found": None}  # what the screen says when its rule found nothing
    assert part["best_alternative"]["top_1_accuracy"] > part["configured"]["top_1_accuracy"]
    hint = best_alternative_hint(part)
    assert "alternative" in hint and "significantly better" in hint and "best alternative" not in hint, hint
