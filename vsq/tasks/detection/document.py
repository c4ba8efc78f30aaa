"""The detection part of results.json, from the annotations and every model's detections on the same images.

Per model (by its key, as classification names models): mAP@[.5:.95], mAP@.5, recall and per-class AP (fractions,
pycocotools' figures), and against the float model the paired drops with their bootstrap intervals (points). At
the top, the keys named like the classification ones: map_50_95_<model>, map_50_<model>, and map_drop_points (the
deployable quantized model's drop of mAP@[.5:.95]). "chance": the float model's own detections scored on other
images (image i given image i+1's detections): what its class, size and position habits score with no look at the
image; the float model beats chance when its paired mAP@.5 lead over that is confidently more than
NEAR_CHANCE_POINTS. "changes": the images whose detections changed most between the float and quantized model.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from vsq.tasks.detection import bootstrap, matching, metrics

NEAR_CHANCE_POINTS = 10.0  # mAP@.5 points over chance the upper end of the float model's lead must reach
MOST_CHANGED = 12  # images listed in "changes" (the gallery draws them)
DRAWN_SCORE = 0.3  # boxes of a changed image kept for the gallery: those a reader would count as found


@dataclass(frozen=True)
class Settings:
    """What the detection figures depend on besides the data (the configuration's detection object and
    thresholds)."""
    resamples: int = bootstrap.DEFAULT_RESAMPLES
    seed: int = 0
    confidence: float = 0.95
    min_score: float = 0.0  # detections below it are left out of the changes (mAP takes every detection)


def shuffled(detections: list[dict], image_ids: list[int]) -> list[dict]:
    """Each image given the next image's detections (the last the first's): the model's habits without the image."""
    following = {image_ids[n]: image_ids[(n + 1) % len(image_ids)] for n in range(len(image_ids))}
    before = {value: key for key, value in following.items()}
    return [{**d, "image_id": before[d["image_id"]]} for d in detections if d["image_id"] in before]


def build(truth: dict, detections: dict[str, list[dict]], float_key: str, quantized_key: str,
          settings: Settings = Settings()) -> dict:
    """`detections[key]`: every model's COCO detections (the float model's and the quantized one's among them)."""
    matched = {key: metrics.match(truth, found) for key, found in detections.items()}
    image_ids = list(matched[float_key].image_ids)
    options = {"resamples": settings.resamples, "seed": settings.seed}
    drawn = {key: bootstrap.draw(matches, **options) for key, matches in matched.items()}  # each model drawn once
    models = {}
    for key, matches in matched.items():
        figures = matches.figures()
        models[key] = figures.as_dict()
        if key != float_key:
            paired = bootstrap.drops(drawn[float_key], drawn[key], settings.confidence)
            models[key]["paired"] = {float_key: {metric: drop.as_dict() for metric, drop in paired.items()}}
    chance = metrics.match(truth, shuffled(detections[float_key], image_ids))
    lead = bootstrap.drops(drawn[float_key], bootstrap.draw(chance, **options), settings.confidence)["map_50"]
    changed = matching.changes(image_ids, detections[float_key], detections[quantized_key], settings.min_score)
    document = {
        "num_images": len(image_ids), "num_objects": sum(1 for a in truth["annotations"] if not a.get("iscrowd")),
        "categories": {str(c["id"]): c["name"] for c in truth["categories"]},
        "models": models,
        "chance": {"map_50": chance.figures().map_50, "float_lead": lead.as_dict(),
                   "near_chance_points": NEAR_CHANCE_POINTS,
                   "beats_chance": lead.interval_points[1] >= NEAR_CHANCE_POINTS},
        "changes": _with_boxes([c.as_dict() for c in matching.most_changed(changed, MOST_CHANGED)], truth,
                               detections[float_key], detections[quantized_key]),
        "bootstrap": {**options, "confidence": settings.confidence},
    }
    for key, figures in models.items():
        document[f"map_50_95_{key}"], document[f"map_50_{key}"] = figures["map_50_95"], figures["map_50"]
    document["map_drop_points"] = models[quantized_key]["paired"][float_key]["map_50_95"]["drop_points"]
    return document


def _drawn(detections: list[dict], image_ids: set) -> dict[int, list[list]]:
    """Per image of `image_ids`: [category_id, score, x, y, w, h] of its detections scoring at least DRAWN_SCORE,
    best first (ties in the detections' order). One pass over the detections."""
    kept = defaultdict(list)
    for d in detections:
        if d["image_id"] in image_ids and d["score"] >= DRAWN_SCORE:
            kept[d["image_id"]].append(d)
    return {image_id: [[d["category_id"], round(d["score"], 4), *(round(v, 2) for v in d["bbox"])]
                       for d in sorted(found, key=lambda d: -d["score"])] for image_id, found in kept.items()}


def _with_boxes(changes: list[dict], truth: dict, reference: list[dict], candidate: list[dict]) -> list[dict]:
    """The changed images' entries with their file names and both models' boxes (the gallery draws them): each
    model's detections grouped by image once, not scanned once per changed image."""
    ids = {change["image_id"] for change in changes}
    names = {i["id"]: i["file_name"] for i in truth["images"] if i["id"] in ids}
    drawn = [_drawn(reference, ids), _drawn(candidate, ids)]
    return [{**change, "file_name": names[change["image_id"]],
             "reference_boxes": drawn[0].get(change["image_id"], []),
             "candidate_boxes": drawn[1].get(change["image_id"], [])} for change in changes]
