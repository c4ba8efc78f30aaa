"""The bundled detector end to end (examples/detection.json through the pipeline, as `python -m vsq run` runs it):
the gate passes with the detection checks, results.json's mAP figures are pycocotools' on the run's own detections,
the file is read back through the results schema, and the HTML report draws the most changed images."""

import json
import shutil
from pathlib import Path

import pytest

from runs import relocated
from vsq.api import run_options
from vsq.pipeline.job import prepare
from vsq.pipeline.pipeline import Pipeline
from vsq.pipeline.results import read
from vsq.tasks.detection import metrics

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples"
DETECTION = json.loads((EXAMPLE / "detection.json").read_text())["detection"]
DETECTION_CHECKS = ("annotations_match_the_data", "float_map_beats_chance", "map_drop_within_threshold",
                    "quantized_map_above_minimum")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, shared_cache):
    path = relocated(EXAMPLE / "detection.json", tmp_path_factory.mktemp("detection-run"))
    made = Pipeline(prepare(path), run_options(shared_cache, progress=False))
    made.result  # the whole run: builds, evaluation, document, checks, results.json
    return made


@pytest.fixture(scope="module")
def warm(pipeline, shared_cache):
    """The same run again, every step served from the cache the first run filled, counting what it does: how many
    times the annotations file is read and checked, and how many times the float model is loaded."""
    from vsq.frameworks.keras import models
    from vsq.tasks.detection import annotations, dataset

    label_file = pipeline.config.evaluate_label_file
    counts = {"file reads": 0, "checks": 0, "model loads": 0}

    def counted(name, function, only=None):
        def wrapper(*args, **kwargs):
            if only is None or only(*args):
                counts[name] += 1
            return function(*args, **kwargs)
        return wrapper

    dataset._LAST.clear()  # a new process: nothing read yet
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "read_bytes", counted("file reads", Path.read_bytes, lambda path: path == label_file))
        patch.setattr(annotations, "check", counted("checks", annotations.check))
        patch.setattr(models, "load_keras_model", counted("model loads", models.load_keras_model))
        made = Pipeline(prepare(pipeline.config.file), run_options(shared_cache, progress=False))
        made.result
    return made, counts


def test_a_run_reads_and_checks_the_annotations_once(warm):
    made, counts = warm
    assert made.result.verdict == "PASS"
    assert (counts["file reads"], counts["checks"]) == (1, 1)


def test_a_run_served_from_the_cache_does_not_load_the_float_model(warm):
    """The box screen's reading of the sample resized the other way is cached with the float model's digest."""
    made, counts = warm
    assert made.result.checks["box_format_matches_the_model"].ok
    assert counts["model loads"] == 0 and made.cache_log["box screen's other resize"] == "hit"


def test_a_damaged_cache_entry_of_the_other_resize_is_built_again(pipeline, tmp_path):
    """The box screen's cached outputs are read back only when they hold the sample's outputs: an entry holding
    anything else (another vsq's file, a truncated write) is refused and built again, never read as outputs."""
    from types import SimpleNamespace

    from vsq.cache.store import MANIFEST, Cache, Cached
    from vsq.tasks.detection import resize_reading

    log, cache = {}, Cache(tmp_path / "cache")
    run = SimpleNamespace(cached=Cached(cache, log), fingerprints=pipeline.fingerprints, config=pipeline.config,
                          job=pipeline.job, framework=pipeline.framework, model=pipeline.model)
    ids = list(pipeline.job.evaluation_set.labels[:3])
    first = resize_reading.outputs(run, ids, "stretch")
    assert log[resize_reading.WHAT] == "built"
    for damage in ("[]", '{"image_ids": [1], "raw": []}', "not json"):
        # an intact entry (its manifest lists what it holds) whose content is not the sample's outputs
        manifest = next((tmp_path / "cache").rglob(MANIFEST))
        key = json.loads(manifest.read_text())["key"]
        shutil.rmtree(manifest.parent)
        with cache.put(resize_reading.KIND, key) as folder:
            (folder / resize_reading.STORED).write_text(damage)
        again = resize_reading.outputs(run, ids, "stretch")
        assert log[resize_reading.WHAT] == "built", damage
        assert "does not hold the sample's outputs" in run.cached.refused[resize_reading.WHAT], damage
        assert [raw.count for raw in again["letterbox"]] == [raw.count for raw in first["letterbox"]]
    resize_reading.outputs(run, ids, "stretch")
    assert log[resize_reading.WHAT] == "hit"


def test_the_example_passes_its_gate_with_the_detection_checks(pipeline):
    checks = pipeline.result.checks
    assert pipeline.result.verdict == "PASS", {name: c.message for name, c in checks.items() if not c.ok}
    assert set(DETECTION_CHECKS) <= set(checks) and "quantized_top1_drop_within_threshold" not in checks


def test_results_json_holds_pycocotools_figures_of_the_runs_detections(pipeline):
    document = read(Path(pipeline.result.document["results_file"]))  # through the results schema
    truth = pipeline.task.truth(pipeline.config, pipeline.job.evaluation_set).coco
    for key in ("keras", "tflite", "tflite_quantized", "keras_quantized"):
        stats = metrics.pycocotools_stats(truth, pipeline.evaluations[key].detections)
        assert (document[f"map_50_95_{key}"], document[f"map_50_{key}"]) == pytest.approx((stats[0], stats[1]),
                                                                                          abs=1e-12)
    assert document["task"] == "detection" and document["map_50_keras"] > 0.6


def test_the_html_report_draws_the_most_changed_images(pipeline, tmp_path):
    from vsq.reporting.html import summary_section

    document = pipeline.result.document
    page = summary_section({pipeline.name: document}, {pipeline.name: "PASS"}, [],
                           image_folders={pipeline.name: [pipeline.config.evaluate_image_dir]})
    assert "where the detections changed" in page and "<th>mAP@[" in page  # headers break before dots
    assert page.count("data:image/png;base64,") >= len(document["changes"])


def test_the_evaluation_cache_key_follows_the_box_format_and_the_annotations(tmp_path):
    # Detections are stored decoded: another box_order (or other annotated sizes) must not reuse them.
    from vsq.pipeline.artifacts import Fingerprints, evaluation_key

    config = json.loads((EXAMPLE / "detection.json").read_text())

    def key(**detection):
        data = {**config, "detection": {**config["detection"], **detection}}
        job = prepare(EXAMPLE / "detection.json", data=data)
        return evaluation_key(job, Fingerprints.of(job), "model-digest", None)

    assert key() == key()
    assert len({key(), key(box_order="xyxy"), key(class_offset=0), key(min_score=0.2)}) == 4


def test_a_wrong_box_order_fails_the_screen_with_its_fix(tmp_path, shared_cache):
    path = relocated(EXAMPLE / "detection.json", tmp_path, "wrong.json", detection={**DETECTION, "box_order": "xyxy"})
    checks = Pipeline(prepare(path), run_options(shared_cache, progress=False)).result.checks
    screen = checks["box_format_matches_the_model"]
    assert not screen.ok and 'set detection.box_order "yxyx"' in screen.message
    assert screen.figures["best_map_50"] > 0.6 > 0.1 > screen.figures["configured_map_50"]
    # the transposed boxes score near chance, which makes the drop meaningless; no other check fails
    failed = {name: check.message for name, check in checks.items() if not check.ok}
    assert set(failed) == {"box_format_matches_the_model", "float_map_beats_chance", "map_drop_within_threshold"}
    assert "less than 10: check the box format (detection.box_order" in failed["float_map_beats_chance"]
    assert "meaningless: the float model itself is near chance" in failed["map_drop_within_threshold"]


def test_pixel_boxes_read_as_another_order_fail_chance_and_the_minimum_and_the_screen_names_the_keys(tmp_path,
                                                                                                    shared_cache):
    """The example read as pixel xyxy boxes: the float model's mAP@.5 is no better than its own detections on other
    images (float_map_beats_chance), the quantized model is below detection.min_map (quantized_map_above_minimum),
    the drop is MEANINGLESS, and the screen names the configuration's keys to set."""
    path = relocated(EXAMPLE / "detection.json", tmp_path, "pixels.json",
                     detection={**DETECTION, "box_order": "xyxy", "boxes_normalized": False, "min_map": 60})
    checks = Pipeline(prepare(path), run_options(shared_cache, progress=False)).result.checks
    chance, minimum = checks["float_map_beats_chance"], checks["quantized_map_above_minimum"]
    assert not chance.ok and "on other images" in chance.message
    assert not minimum.ok and "below detection.min_map 60" in minimum.message
    assert "meaningless" in checks["map_drop_within_threshold"].message
    assert 'detection.box_order "yxyx"' in checks["box_format_matches_the_model"].message
    assert "detection.boxes_normalized true" in checks["box_format_matches_the_model"].message
