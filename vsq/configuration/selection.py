"""Which evaluation images a configuration gates on: `evaluate_classes` (a subset of labels.json's classes, their
ids still the model's output ids) and `evaluate_subsample` (a seeded draw of each class's images).

Both are read from the configuration as written (Config.raw); vsq.configuration.datasets applies them while it
scans the folders, so that every later step (decoding, the statistics, the cache keys, predictions.csv) sees
only the chosen images. results.json records them under "evaluation_selection".
"""

from __future__ import annotations

import hashlib

import numpy as np


def classes(config, labels: dict[str, int]) -> list[str]:
    """The class names to evaluate, in id order: evaluate_classes, or every class of labels.json."""
    chosen = config.raw.get("evaluate_classes")
    if chosen is None:
        return sorted(labels, key=labels.get)
    unknown = [name for name in chosen if name not in labels]
    if unknown:
        raise config.error("evaluate_classes", f"class {unknown[0][:60]!r} is not in "
                           f"{config.shown('evaluate_label_file')}; name classes of labels.json (their ids are the "
                           "model's outputs)")
    return sorted(chosen, key=labels.get)


def draw(config, class_name: str, paths: list) -> list:
    """A class's images after evaluate_subsample: `size` of them drawn without replacement, seeded by the seed and
    the class's name (adding a class does not change another's draw), kept in their sorted order."""
    subsample = config.raw.get("evaluate_subsample")
    if subsample is None or len(paths) <= subsample["size"]:
        return paths
    salt = int.from_bytes(hashlib.sha256(class_name.encode("utf-8")).digest()[:8], "big")
    rng = np.random.default_rng([subsample.get("seed", 0), salt])
    return [paths[i] for i in sorted(rng.choice(len(paths), size=subsample["size"], replace=False))]


def record(config, found: int, used: int) -> dict:
    """results.json's "evaluation_selection": what was asked, and how many images the folders held and were drawn."""
    subsample = config.raw.get("evaluate_subsample")
    return {"classes": config.raw.get("evaluate_classes"),
            "subsample": {"size": subsample["size"], "seed": subsample.get("seed", 0)} if subsample else None,
            "images_in_folders": found, "images_drawn": used}
