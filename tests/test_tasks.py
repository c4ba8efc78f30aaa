"""The task seam (vsq.tasks): the configuration names a task, the evaluation pass hands every chunk's outputs to
the task's accumulator, and classification's evaluation survives the cache unchanged."""

import json

import numpy as np
import pytest

import tiny
from vsq.errors import ConfigError
from vsq.pipeline import evaluate
from vsq.pipeline.job import prepare
from vsq.tasks import TASKS, for_config
from vsq.tasks.classification import evaluation as classification


def colour(images: np.ndarray) -> np.ndarray:
    """Class scores from the mean of each channel: blue, green, red (tiny.CLASSES' ids)."""
    return images.mean(axis=(1, 2))[:, ::-1]


def test_the_task_defaults_to_classification_and_an_unknown_one_is_one_line(project):
    assert for_config(prepare(tiny.write_config(project)).config) is TASKS["classification"]
    with pytest.raises(ConfigError) as caught:
        prepare(tiny.write_config(project, task="segmentation"))
    assert caught.value.key == "task" and "classification" in str(caught.value) and "\n" not in str(caught.value)


class Outputs:
    """A task that keeps what the pass hands it: which images, in what order, and the outputs' shapes."""

    name, stored, checks = "outputs", (), ()

    def truth(self, config, evaluation_set):
        return len(evaluation_set.paths)

    def accumulator(self, name, truth, config, evaluation_set):
        task = self

        class Seen:
            indices, shapes = [], []

            def add(self, outputs, indices):
                self.indices.extend(indices.tolist())
                self.shapes.append(np.shape(outputs))

            def finish(self, seconds, skipped, modes):
                return {"name": name, "images": truth, "indices": self.indices, "shapes": self.shapes,
                        "skipped": skipped, "modes": modes, "task": task}

        return Seen()


def test_the_evaluation_pass_gives_each_chunk_to_the_tasks_accumulator(project):
    job = prepare(tiny.write_config(project))
    done = evaluate.evaluate_models({"colour": colour}, job.config, job.evaluation_set, task=Outputs())["colour"]
    assert done["indices"] == list(range(done["images"])) and done["images"] == 36
    assert all(shape[1:] == (3,) for shape in done["shapes"]) and done["skipped"] == ()
    assert sum(done["modes"].values()) == 36


def test_classifications_evaluation_is_top1_and_survives_the_cache(project):
    job = prepare(tiny.write_config(project))
    result = evaluate.evaluate_models({"colour": colour}, job.config, job.evaluation_set)["colour"]
    assert isinstance(result, classification.ModelEvaluation)
    assert result.top1 == 1.0 and result.images_used == 36 and result.top5 is None  # 3 classes: no Top-5
    assert (result.labels == np.repeat([0, 1, 2], 12)).all()
    task, entry = TASKS["classification"], project / "entry"
    entry.mkdir()
    task.save(result, entry)
    assert sorted(path.name for path in entry.iterdir()) == sorted(task.stored)
    again = task.load(entry)
    assert (again.predictions == result.predictions).all() and again.top1 == result.top1
    assert json.loads((entry / "evaluation.json").read_text())["num_classes"] == 3
