"""Tasks: what a model's outputs mean and how they are judged (vsq.tasks.base.Task), looked up by the
configuration's "task". Adding one: its package here, one line in TASKS, its name in the schema's enum
(tests/test_registries.py holds the two equal); docs/adding-a-task.md."""

from __future__ import annotations

from vsq.tasks.base import Task
from vsq.tasks.classification import Classification
from vsq.tasks.detection.task import Detection

TASKS: dict[str, Task] = {task.name: task for task in (Classification(), Detection())}


def for_config(config) -> Task:
    """The task of a configuration (its "task", default "classification")."""
    return TASKS[config.task]
