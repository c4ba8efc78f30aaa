"""Tasks: what a model's outputs mean and how they are judged (vsq.tasks.base.Task), looked up by the
configuration's "task". Adding one: its package here, one line in TASKS, its name in the schema's enum
(tests/test_registries.py holds the two equal); docs/adding-a-task.md."""

from __future__ import annotations

from vsq.core.drop_figure import DropFigure
from vsq.tasks.base import Task
from vsq.tasks.classification import Classification
from vsq.tasks.detection.task import Detection

TASKS: dict[str, Task] = {task.name: task for task in (Classification(), Detection())}


def for_config(config) -> Task:
    """The task of a configuration (its "task", default "classification")."""
    return TASKS[config.task]


def figure_of(document) -> DropFigure:
    """The figure a results document's drop charts show: its task's (a document without a task we know:
    classification's, what vsq wrote before tasks)."""
    task = TASKS.get(document.get("task") if isinstance(document, dict) else None) or TASKS["classification"]
    return task.drop_figure
