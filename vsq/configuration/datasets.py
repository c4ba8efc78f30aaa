"""Calibration and evaluation images: finding them, checking them, decoding and preprocessing them.

Scanning (file lists and labels.json) is cheap and happens while the configuration is checked;
decoding happens later, once per image, in the fixtures.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vsq.configuration import selection
from vsq.configuration.config import Config, value_error_reason
from vsq.configuration.file import type_name

CALIBRATION_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
# results.json keeps a classes x classes confusion matrix per model: 4 million counts each at 2,000 classes
# (ImageNet has 1,000); a labels.json of a million classes would make a results.json of terabytes.
MAX_CLASSES = 2000


def natural_key(text: str) -> list:
    """Sort key that orders 'img2' before 'img10' (timm's natural order)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


@dataclass(frozen=True)
class EvaluationSet:
    """Evaluation images in ImageNet layout: `paths[i]` has class id `labels[i]`."""

    class_names: tuple[str, ...]  # index = class id
    paths: tuple[Path, ...]
    labels: tuple[int, ...]
    found: int = 0  # images of the evaluated classes in their folders, before evaluate_subsample's draw

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def scan_calibration(config: Config) -> tuple[Path, ...]:
    """Every calibration image under dataset_image_dir, at any depth, in natural sorted order."""
    root = config.dataset_image_dir
    found = []
    for path in walk_files(config, "dataset_image_dir", root):
        if path.suffix.lower() in CALIBRATION_SUFFIXES:
            found.append(path)
    found.sort(key=lambda p: natural_key(p.relative_to(root).as_posix()))
    if not found:
        raise config.error("dataset_image_dir", f"{config.shown('dataset_image_dir')} holds no image "
                           f"({', '.join(CALIBRATION_SUFFIXES)}); put the training images there")
    if config.batch_size > len(found):
        raise config.error("batch_size", f"{config.batch_size} is more than the {len(found)} images in "
                           f"{config.shown('dataset_image_dir')}; lower batch_size or add images")
    return tuple(found)


def walk_files(config: Config, key: str, root: Path):
    """Files under root; symbolic links anywhere in the tree are refused (spec), and so are files that are not
    regular files (a FIFO or a device would hang or flood the decoder)."""
    for folder, dirs, files in os.walk(root, onerror=lambda e: _unreadable(config, key, e)):
        dirs.sort()
        for name in dirs + files:
            path = Path(folder) / name
            if path.is_symlink():
                raise config.error(key, f"{path} is a symbolic link; the spec refuses them: copy or move the real "
                                   "file or folder there")
        for name in files:
            path = Path(folder) / name
            if not stat.S_ISREG(os.lstat(path).st_mode):
                raise config.error(key, f"{path} is not a regular file (a FIFO, socket or device); remove it")
            yield path


def _unreadable(config: Config, key: str, error: OSError):
    raise config.error(key, f"{error.filename} cannot be read ({error.strerror}); fix its permissions")


COCO_KEYS = ("images", "annotations", "categories")  # a COCO document's top level: a detector's evaluate_label_file


def parse_labels(config: Config) -> dict[str, int]:
    """labels.json: an object mapping class name to an integer id, ids exactly 0..n-1."""
    key, file = "evaluate_label_file", config.evaluate_label_file
    where = config.shown(key)
    try:
        text = file.read_text(encoding="utf-8-sig")  # tolerate a UTF-8 BOM from Windows editors
    except (OSError, UnicodeDecodeError) as error:
        raise config.error(key, f"{where} cannot be read ({error}); save it as UTF-8 JSON") from None
    try:
        labels = json.loads(text, object_pairs_hook=lambda pairs: _no_duplicate_names(config, pairs))
    except json.JSONDecodeError as error:
        raise config.error(key, f"{where} is not valid JSON: {error.msg} at line {error.lineno} column "
                           f"{error.colno}; write it like {{\"daisy\": 0, \"roses\": 1}}") from None
    except (RecursionError, ValueError) as error:  # hundreds of nested brackets, an integer beyond 4300 digits
        raise config.error(key, f"{where} cannot be read ({value_error_reason(error)}); write it like "
                           "{\"daisy\": 0, \"roses\": 1}") from None
    if isinstance(labels, dict) and any(isinstance(labels.get(name), list) for name in COCO_KEYS):
        raise config.error(key, f"{where} is a COCO annotations file ({', '.join(COCO_KEYS)}), not a classifier's "
                           "labels.json; for a detector set \"task\": \"detection\" in the configuration, else give "
                           "labels.json mapping class name to id")
    if not isinstance(labels, dict) or not labels:
        raise config.error(key, f"{where} must be a non-empty object mapping class name to id, like "
                           "{\"daisy\": 0, \"roses\": 1}")
    if len(labels) > MAX_CLASSES:
        raise config.error(key, f"{where} lists {len(labels):,} classes, more than the {MAX_CLASSES:,} vsq evaluates "
                           "(results.json keeps a confusion matrix of classes x classes per model)")
    unusable = [name for name in labels if not _is_folder_name(name)]
    if unusable:
        raise config.error(key, f"{where}: class {_shown_name(unusable[0])} cannot name a folder of evaluate_image_dir: a "
                           "class name must not be empty, \".\" or \"..\", nor hold a path separator (/ or \\); "
                           "rename the class and its folder")
    bad = [name for name, value in labels.items() if isinstance(value, bool) or not isinstance(value, int)]
    if bad:
        raise config.error(key, f"{where}: the id of {_shown_name(bad[0])} is {type_name(labels[bad[0]])}; ids must "
                           "be integers 0..n-1")
    by_id = Counter(labels.values())
    duplicated = sorted(i for i, n in by_id.items() if n > 1)
    if duplicated:
        names = sorted(name for name, value in labels.items() if value == duplicated[0])
        raise config.error(key, f"{where}: {' and '.join(map(_shown_name, names[:2]))} have the same id; each class "
                           "needs its own id")
    outside = [name for name, value in labels.items() if not 0 <= value < len(labels)]
    if outside:
        raise config.error(key, f"{where}: ids must be exactly 0..{len(labels) - 1} for {len(labels)} classes; the id "
                           f"of {_shown_name(outside[0])} is outside; renumber them")
    return labels


def _shown_name(name: str) -> str:
    """A class name of labels.json in a message: a key of a file vsq did not make (its values are never shown)."""
    return repr(name if len(name) <= 60 else name[:59] + "…")


def _is_folder_name(name: str) -> bool:
    """A class name is the name of one folder: joined to evaluate_image_dir it must not leave it or be it."""
    return name not in ("", ".", "..") and not any(char in name for char in "/\\\0")


def _no_duplicate_names(config: Config, pairs: list) -> dict:
    seen: dict = {}
    for name, value in pairs:
        if name in seen:
            raise config.error("evaluate_label_file", f"{config.shown('evaluate_label_file')}: class {_shown_name(name)} "
                               "appears twice; keep one")
        seen[name] = value
    return seen


def scan_evaluation(config: Config) -> EvaluationSet:
    """Match class folders of evaluate_image_dir with labels.json and list their images (those of evaluate_classes,
    drawn by evaluate_subsample: vsq.configuration.selection)."""
    labels = parse_labels(config)
    evaluated = selection.classes(config, labels)
    root, ext = config.evaluate_image_dir, config.evaluate_image_extension
    folders = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.is_symlink()
                     and ("evaluate_classes" not in config.raw or p.name in evaluated))
    unlabelled = [name for name in folders if name not in labels]
    if unlabelled:
        raise config.error("evaluate_label_file", f"class folder {root / unlabelled[0]} has no label in "
                           f"{config.shown('evaluate_label_file')}" + _more(unlabelled)
                           + "; add it to labels.json or remove the folder")
    no_folder = [name for name in sorted(evaluated) if name not in folders]
    if no_folder:
        raise config.error("evaluate_label_file", f"label {_shown_name(no_folder[0])} in {config.shown('evaluate_label_file')} "
                           f"has no folder {root / no_folder[0]}" + _more(no_folder)
                           + "; add its images or remove the label")
    class_names = tuple(sorted(labels, key=labels.get))
    # One walk of the tree: the extension check below reuses it rather than walking again.
    files = {name: list(walk_files(config, "evaluate_image_dir", root / name)) for name in evaluated}
    check_evaluation_extension(config, Counter(p.suffix for found in files.values() for p in found))
    paths, ids, found = [], [], 0
    for name in evaluated:
        chosen = sorted((p for p in files[name] if p.suffix == f".{ext}"), key=lambda p: natural_key(p.name))
        if not chosen:
            raise config.error("evaluate_image_dir", f"class folder {root / name} has no .{ext} image; add images "
                               "or fix evaluate_image_extension")
        found += len(chosen)
        chosen = selection.draw(config, name, chosen)
        paths.extend(chosen)
        ids.extend([labels[name]] * len(chosen))
    return EvaluationSet(class_names=class_names, paths=tuple(paths), labels=tuple(ids), found=found)


def _more(items: list) -> str:
    return f" (and {len(items) - 1} more: {', '.join(items[1:4])}{', …' if len(items) > 4 else ''})" if len(items) > 1 else ""


def check_evaluation_extension(config: Config, suffixes: Counter) -> None:
    """Say which extensions the class folders hold when none matches the configured one (case-sensitive).

    suffixes: file suffix -> count over the class folders.
    """
    ext = config.evaluate_image_extension
    if f".{ext}" in suffixes:
        return
    found = ", ".join(f"{count} {suffix or '(none)'}" for suffix, count in suffixes.most_common(5)) or "no files"
    raise config.error("evaluate_image_extension", f"{json.dumps(ext)} matches no file in "
                       f"{config.shown('evaluate_image_dir')} (found {found}); the extension is case-sensitive: "
                       "set it to the one your images have")


def calibration_indices(num_images: int, batch_size: int, iteration_count: int, seed: int) -> list[np.ndarray]:
    """Which images each calibration iteration uses: iteration_count batches, no repeats within a batch."""
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(num_images, size=batch_size, replace=False)) for _ in range(iteration_count)]
