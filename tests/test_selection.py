"""evaluate_classes (gate on a subset of labels.json's classes) and evaluate_subsample (a seeded draw per class):
only the chosen images are evaluated, and results.json says what was chosen."""

import json
import subprocess
import sys

import pytest

import tiny
from vsq.pipeline.job import prepare
from vsq.errors import ConfigError


def job_of(root, **overrides):
    return prepare(tiny.write_config(root, **overrides))


def test_evaluate_classes_reads_only_those_folders_with_the_models_ids(project):
    full = job_of(project)
    subset = job_of(project, evaluate_classes=["red", "blue"])
    assert subset.evaluation_set.class_names == full.evaluation_set.class_names == ("blue", "green", "red")
    assert set(subset.evaluation_set.labels) == {0, 2} and len(subset.evaluation_set.paths) == 24
    assert all(path.parent.name in ("blue", "red") for path in subset.evaluation_set.paths)
    (project / "evaluate" / "images" / "green").rename(project / "elsewhere")  # a folder the subset does not need
    assert len(job_of(project, evaluate_classes=["red", "blue"]).evaluation_set.paths) == 24


def test_an_unknown_class_is_one_line_naming_the_key(project):
    with pytest.raises(ConfigError) as raised:
        job_of(project, evaluate_classes=["red", "purple"])
    assert raised.value.key == "evaluate_classes" and "'purple' is not in evaluate_label_file" in str(raised.value)


def test_the_subsample_is_seeded_per_class_and_drawn_from_the_folders(project):
    full = set(job_of(project).evaluation_set.paths)
    one = job_of(project, evaluate_subsample={"size": 5, "seed": 1}).evaluation_set
    again = job_of(project, evaluate_subsample={"size": 5, "seed": 1}).evaluation_set
    other = job_of(project, evaluate_subsample={"size": 5, "seed": 2}).evaluation_set
    assert one.paths == again.paths and one.paths != other.paths
    assert set(one.paths) <= full and len(one.paths) == 15 and one.found == 36
    assert [one.labels.count(i) for i in range(3)] == [5, 5, 5]
    assert len(job_of(project, evaluate_subsample={"size": 50}).evaluation_set.paths) == 36  # fewer: all kept


@pytest.mark.slow
def test_a_run_on_a_subset_and_subsample_computes_every_figure_on_the_drawn_images(tmp_path, tiny_model,
                                                                                    shared_cache):
    tiny.write_data(tmp_path, mislabelled=3)
    config = tiny.write_config(tmp_path, source_keras_model=str(tiny_model), evaluate_classes=["blue", "green"],
                               evaluate_subsample={"size": 8, "seed": 3})
    done = subprocess.run([sys.executable, "-m", "vsq", "run", config, f"--cache-dir={shared_cache}"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    document = json.loads((tmp_path / "results" / "results.json").read_text())
    assert document["evaluation_selection"] == {"classes": ["blue", "green"], "subsample": {"size": 8, "seed": 3},
                                                "images_in_folders": 24, "images_drawn": 16}
    assert document["num_images"] == 16 and document["provenance"]["evaluation_images"]["count"] == 16
    keras = document["models"]["keras"]
    assert keras["per_class_top_1"]["red"] is None and sum(map(sum, keras["confusion_matrix"])) == 16
    rows = (tmp_path / "results" / "predictions.csv").read_text().splitlines()[1:]
    assert len(rows) == 16 and not any(row.startswith("red/") for row in rows)
    wrong = sum(row.split(",")[1] != row.split(",")[2] for row in rows)  # true class vs the Keras model's
    assert keras["top_1_accuracy"] == pytest.approx(1 - wrong / 16)
