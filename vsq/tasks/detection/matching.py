"""Where two models' detections differ, per image: the float model's and the quantized model's detections matched
(same class, IoU >= 0.5, greedily by IoU, each detection used once), and a change score per image.

The change score is 1 - (sum of the matched pairs' IoU) / (detections in the union), where the union counts a
matched pair once: 0 when both models found the same boxes, 1 when no detection of one has a counterpart in the
other; an image where neither model found anything scores 0. Detections are COCO dicts ({image_id, category_id,
bbox [x, y, w, h] in pixels, score}); those below `min_score` are left out of both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

IOU_MATCH = 0.5


@dataclass(frozen=True)
class ImageChange:
    image_id: int
    reference: int  # detections of the reference model kept (score >= min_score)
    candidate: int
    matched: int  # pairs of the same class at IoU >= 0.5
    mean_iou: float  # of the matched pairs (1.0 when none)
    change: float  # 0 (the same boxes) .. 1 (nothing in common)

    def as_dict(self) -> dict:
        return {"image_id": self.image_id, "reference": self.reference, "candidate": self.candidate,
                "matched": self.matched, "mean_iou": self.mean_iou, "change": self.change}


def iou(a, b) -> float:
    """Intersection over union of two [x, y, w, h] boxes."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def match_image(reference: list[dict], candidate: list[dict]) -> list[tuple[int, int, float]]:
    """(index in reference, index in candidate, IoU) of the matched pairs: highest IoU first, same class, IoU >= 0.5."""
    pairs = sorted(((iou(r["bbox"], c["bbox"]), i, j) for i, r in enumerate(reference)
                    for j, c in enumerate(candidate) if r["category_id"] == c["category_id"]), reverse=True)
    used_r, used_c, out = set(), set(), []
    for overlap, i, j in pairs:
        if overlap < IOU_MATCH:
            break
        if i not in used_r and j not in used_c:
            used_r.add(i)
            used_c.add(j)
            out.append((i, j, overlap))
    return out


def changes(image_ids, reference: list[dict], candidate: list[dict], min_score: float = 0.0) -> list[ImageChange]:
    """The change of every image (in `image_ids` order), most changed first when sorted by `change`."""
    by_image = {image_id: ([], []) for image_id in image_ids}
    for side, detections in enumerate((reference, candidate)):
        for detection in detections:
            if detection["score"] >= min_score and detection["image_id"] in by_image:
                by_image[detection["image_id"]][side].append(detection)
    out = []
    for image_id in image_ids:
        ours, theirs = by_image[image_id]
        pairs = match_image(ours, theirs)
        union = len(ours) + len(theirs) - len(pairs)
        overlap = sum(p[2] for p in pairs)
        out.append(ImageChange(image_id=image_id, reference=len(ours), candidate=len(theirs), matched=len(pairs),
                               mean_iou=overlap / len(pairs) if pairs else 1.0,
                               change=1 - overlap / union if union else 0.0))
    return out


def most_changed(found: list[ImageChange], count: int) -> list[ImageChange]:
    """The `count` images whose detections changed most (ties in image order), changed ones only."""
    ranked = sorted((c for c in found if c.change > 0), key=lambda c: -c.change)
    return ranked[:count]
