"""vsq as a library, as a notebook uses it: a configuration built as a dict, a short repr, the errors exported."""

import os

import pytest

import tiny
import vsq


@pytest.fixture(scope="module")
def library_run(tmp_path_factory, tiny_model, shared_cache):
    """One run of a tiny project, its configuration given as a dict with paths relative to the working folder."""
    root = tmp_path_factory.mktemp("library")
    tiny.write_data(root, mislabelled=2)
    config = tiny.config_dict(source_keras_model=str(tiny_model))
    before = os.getcwd()
    os.chdir(root)
    try:
        run = vsq.run(config, cache_dir=shared_cache, progress=False)
    finally:
        os.chdir(before)
    return root, run


@pytest.mark.slow
def test_run_takes_a_dict_whose_paths_are_relative_to_the_working_folder(library_run):
    root, run = library_run
    assert run.name == "configuration"
    assert run.document["configuration"]["evaluate_image_dir_resolved"] == str(root / "evaluate" / "images")
    assert (root / "results" / "results.json").is_file()


@pytest.mark.slow
def test_repr_is_one_short_line_with_the_verdict_and_top1(library_run):
    _, run = library_run
    text = repr(run)
    assert "\n" not in text and len(text) < 400
    assert text.startswith(f"<RunResult 'configuration' {run.verdict}: Top-1 ")
    assert f"keras {run.top1['keras']:.4f}" in text


def test_a_bad_dict_raises_the_exported_config_error_naming_the_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tiny.write_data(tmp_path)
    with pytest.raises(vsq.ConfigError) as raised:
        vsq.run(tiny.config_dict(batch_size="eight"))
    assert raised.value.key == "batch_size" and isinstance(raised.value, vsq.VsqError)
    assert str(raised.value).startswith(f"{tmp_path / 'configuration'}: batch_size: ")


@pytest.mark.slow
def test_predictions_csv_rows_equal_the_per_image_results(library_run):
    from vsq.statistics import per_image

    root, run = library_run
    rows = run.predictions()
    document = run.document
    assert len(rows) == document["num_images"] == 36
    ids, bits = per_image.read(document["per_image"])
    images = root / "evaluate" / "images"
    row_ids = per_image.image_ids([images / row["path"] for row in rows], images)
    assert row_ids == ids  # the same images, in the same order
    models = list(document["per_image"]["correct"])
    assert set(models) <= {key.removesuffix("_class") for key in rows[0] if key.endswith("_class")}
    for model in models:
        assert [row[f"{model}_class"] == row["true_class"] for row in rows] == list(bits[model]), model
        assert all(0.0 <= row[f"{model}_score"] <= 1.0 for row in rows)
    wrong = [row for row in rows if row["keras_class"] != row["true_class"]]
    assert len(wrong) == 2 and all(row["path"].startswith("blue/") and row["keras_class"] == "green" for row in wrong)


@pytest.mark.slow
def test_per_class_rows_and_html_table(library_run):
    from vsq.tasks.classification.predictions import per_class_html

    _, run = library_run
    rows = run.per_class()
    assert [row["class"] for row in rows] == ["blue", "green", "red"]
    assert [row["images"] for row in rows] == [12, 12, 12]
    assert rows[0]["keras"] == pytest.approx(10 / 12) and rows[1]["keras"] == 1.0
    page = per_class_html({run.name: run.document})
    assert "<td>blue</td><td>12</td><td>0.8333</td>" in page


def test_predictions_csv_keeps_spreadsheets_from_running_names_as_formulas(tmp_path):
    import numpy as np

    from vsq.tasks.classification.predictions import read, write

    root = tmp_path / "images"
    paths = [root / "=HYPERLINK(1)" / "-a.jpg", root / "plain" / "'quoted.jpg"]
    written = write(tmp_path / "predictions.csv", paths, root, ["=HYPERLINK(1)", "plain"], [0, 1],
                    {"keras": (np.array([1, 1]), np.array([0.5, 0.25], np.float32)), "other": (np.array([0, 1]), None)})
    text = written.read_text()
    assert text.splitlines()[1] == "'=HYPERLINK(1)/-a.jpg,'=HYPERLINK(1),plain,0.5,'=HYPERLINK(1),"
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in text.splitlines() for cell in line.split(","))
    assert read(written) == [
        {"path": "=HYPERLINK(1)/-a.jpg", "true_class": "=HYPERLINK(1)", "keras_class": "plain", "keras_score": 0.5,
         "other_class": "=HYPERLINK(1)", "other_score": None},
        {"path": "plain/'quoted.jpg", "true_class": "plain", "keras_class": "plain", "keras_score": 0.25,
         "other_class": "plain", "other_score": None}]
