"""Per-image outcomes: the images a model flipped against Keras, and the compact per-image record that
makes tomorrow's comparison with an accepted baseline paired.

The record identifies each used evaluation image by the first 8 bytes of the SHA-256 of its path
relative to evaluate_image_dir (moving the folder keeps the ids), and keeps one bit per image per
model (right or wrong), both base64-encoded: 50,000 images take about 530 KB of ids and 8 KB per model.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import numpy as np

ID_BYTES = 8


def used_paths(paths, skipped) -> list[Path]:
    """The evaluation images a model saw, in order: all but the skipped ones ((path, reason) pairs)."""
    left_out = {str(path) for path, _ in skipped}
    return [path for path in paths if str(path) not in left_out]


def image_ids(paths, root: Path) -> list[bytes]:
    return [hashlib.sha256(Path(path).relative_to(root).as_posix().encode("utf-8")).digest()[:ID_BYTES]
            for path in paths]


def record(ids: list[bytes], correct: dict[str, np.ndarray]) -> dict:
    """results.json `per_image`: the ids and, per model, a bit per image (1: Top-1 right)."""
    return {"id_bytes": ID_BYTES, "count": len(ids), "ids": base64.b64encode(b"".join(ids)).decode("ascii"),
            "correct": {name: base64.b64encode(np.packbits(np.asarray(bits, bool)).tobytes()).decode("ascii")
                        for name, bits in correct.items()}}


def read(section: dict) -> tuple[list[bytes], dict[str, np.ndarray]]:
    """The ids and the per-model bits of a `per_image` record."""
    raw, size, count = base64.b64decode(section["ids"]), section["id_bytes"], section["count"]
    ids = [raw[i * size:(i + 1) * size] for i in range(count)]
    bits = {name: np.unpackbits(np.frombuffer(base64.b64decode(packed), np.uint8))[:count].astype(bool)
            for name, packed in section["correct"].items()}
    return ids, bits


def align(accepted: dict, today: dict, model: str) -> tuple[np.ndarray, np.ndarray, int, int] | None:
    """Accepted and today's correctness of `model` on the images both records share (in today's order),
    and how many images were added and removed since; None when either record lacks the model."""
    old_ids, old_bits = read(accepted)
    new_ids, new_bits = read(today)
    if model not in old_bits or model not in new_bits:
        return None
    position = {image: i for i, image in enumerate(old_ids)}
    shared = [(position[image], i) for i, image in enumerate(new_ids) if image in position]
    old_index = np.array([old for old, _ in shared], dtype=np.int64)
    new_index = np.array([new for _, new in shared], dtype=np.int64)
    added, removed = len(new_ids) - len(shared), len(old_ids) - len(shared)
    return old_bits[model][old_index], new_bits[model][new_index], added, removed


def flipped(paths, labels, names, keras, model, float_key: str = "keras") -> list[dict]:
    """The images whose predicted class differs from the float model's (`keras`), losses first (float right,
    model wrong), then gains, then both wrong; each with its true class and both models' class and score
    (the float model's under its key: "keras", "pytorch")."""
    rows = []
    for i in np.flatnonzero(model.predictions != keras.predictions):
        truth, ours, theirs = int(labels[i]), int(model.predictions[i]), int(keras.predictions[i])
        kind = "loss" if theirs == truth else "gain" if ours == truth else "both_wrong"
        rows.append({"path": str(paths[i]), "kind": kind, "true": names[truth],
                     float_key: {"class": names[theirs], "score": round(float(keras.top_scores[i]), 4)},
                     "model": {"class": names[ours], "score": round(float(model.top_scores[i]), 4)}})
    order = {"loss": 0, "gain": 1, "both_wrong": 2}
    return sorted(rows, key=lambda row: order[row["kind"]])
