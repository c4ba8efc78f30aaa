"""Generated detection data for tests: COCO ground truth and a model's detections made from it with known noise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CATEGORIES = (1, 2, 3)


def ground_truth(images: int, rng: np.random.Generator, size=(128, 96), per_image=(0, 5), empty_every=7) -> dict:
    """COCO ground truth: `images` images of width x height `size`, 0..4 boxes each, every 7th image empty."""
    width, height = size
    out = {"images": [], "annotations": [], "categories": [{"id": c, "name": f"shape{c}"} for c in CATEGORIES]}
    for i in range(images):
        out["images"].append({"id": i + 1, "file_name": f"img_{i:04d}.jpg", "width": width, "height": height})
        count = 0 if i % empty_every == empty_every - 1 else int(rng.integers(per_image[0] + 1, per_image[1]))
        for _ in range(count):
            w, h = rng.uniform(8, width / 2), rng.uniform(8, height / 2)
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            out["annotations"].append({"id": len(out["annotations"]) + 1, "image_id": i + 1,
                                       "category_id": int(rng.choice(CATEGORIES)), "bbox": [x, y, w, h],
                                       "area": w * h, "iscrowd": 0})
    return out


def detections(truth: dict, rng: np.random.Generator, jitter=0.05, miss=0.1, wrong_class=0.05, extra=0.5) -> list:
    """A model's detections: each object found with probability 1 - miss, its box moved by `jitter` of its size,
    its class wrong with probability wrong_class, plus `extra` false boxes per image on average; continuous
    scores (no ties), higher for found objects."""
    sizes = {image["id"]: (image["width"], image["height"]) for image in truth["images"]}
    out = []
    for annotation in truth["annotations"]:
        if rng.random() < miss:
            continue
        x, y, w, h = annotation["bbox"]
        x, y = x + rng.normal(0, jitter) * w, y + rng.normal(0, jitter) * h
        w, h = w * (1 + rng.normal(0, jitter)), h * (1 + rng.normal(0, jitter))
        category = annotation["category_id"]
        if rng.random() < wrong_class:
            category = int(rng.choice([c for c in CATEGORIES if c != category]))
        out.append({"image_id": annotation["image_id"], "category_id": category, "bbox": [x, y, abs(w), abs(h)],
                    "score": float(rng.uniform(0.4, 1.0))})
    for image_id, (width, height) in sizes.items():
        for _ in range(rng.poisson(extra)):
            w, h = rng.uniform(5, width / 3), rng.uniform(5, height / 3)
            out.append({"image_id": image_id, "category_id": int(rng.choice(CATEGORIES)),
                        "bbox": [rng.uniform(0, width - w), rng.uniform(0, height - h), w, h],
                        "score": float(rng.uniform(0.05, 0.7))})
    return out


def write(folder: Path, truth: dict) -> Path:
    path = folder / "annotations.json"
    path.write_text(json.dumps(truth))
    return path


def moved(found: list, rng: np.random.Generator, pixels: float) -> list:
    """The same detections with each box's top-left corner moved by N(0, pixels): a quantized copy's rounding."""
    return [{**d, "bbox": [v + rng.normal(0, pixels) for v in d["bbox"][:2]] + d["bbox"][2:]} for d in found]


def float_and_copies(seed: int, images: int, *pixels: float) -> tuple[dict, list, list]:
    """Ground truth, a float model's detections (jitter 0.03) and one copy of them per `pixels` (moved)."""
    rng = np.random.default_rng(seed)
    truth = ground_truth(images, rng)
    floating = detections(truth, rng, jitter=0.03)
    return truth, floating, [moved(floating, rng, amount) for amount in pixels]
