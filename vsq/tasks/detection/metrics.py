"""COCO box metrics: mAP@[.5:.95], mAP@.5, per-class AP and recall (AR@100), as pycocotools computes them.

pycocotools (the COCO team's own code, the reference every detector paper quotes) matches detections to ground
truth per image and category (`COCOeval.evaluate`). Its accumulation is done here, from those per-image matches,
with a weight per image: weight 1 for every image gives pycocotools' own figures exactly (tests hold them equal to
`COCOeval.accumulate` + `summarize`), and the bootstrap's resamples are weights (how many times each image was
drawn) without re-matching anything. Area ranges other than "all" and detection limits other than 100 per image
are not reported. Figures are fractions (0..1), as pycocotools gives them.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MAX_DETECTIONS = 100  # per image, COCO's (maxDets[-1])
RECALL_POINTS = 101  # COCO's interpolation: recall 0, 0.01, ..., 1


@dataclass(frozen=True)
class Figures:
    map_50_95: float  # mean over classes and IoU 0.50:0.05:0.95 of the 101-point interpolated precision
    map_50: float  # the same at IoU 0.5 alone
    recall: float  # AR@100: mean over classes and IoU thresholds of the recall at 100 detections per image
    per_class_ap: dict[int, float | None]  # category id -> AP@[.5:.95]; None for a category with no object

    def as_dict(self) -> dict:
        return {"map_50_95": self.map_50_95, "map_50": self.map_50, "recall": self.recall,
                "per_class_ap": {str(k): v for k, v in self.per_class_ap.items()}}


@dataclass(frozen=True)
class _Category:
    id: int
    image: np.ndarray  # (D,) index into Matches.image_ids of each detection, in pycocotools' order (score, stable)
    tp: np.ndarray  # (T, D) bool: matched at IoU threshold t and not ignored
    fp: np.ndarray  # (T, D) bool: unmatched and not ignored
    objects: np.ndarray  # (I,) objects not ignored per image


@dataclass(frozen=True)
class Matches:
    """pycocotools' per-image matching of one model's detections, ready to be accumulated with any image weights."""
    image_ids: tuple[int, ...]
    categories: tuple[_Category, ...]
    iou_thresholds: np.ndarray

    def figures(self, weights: np.ndarray | None = None) -> Figures:
        """The figures with each image counted `weights[i]` times (None: once each)."""
        import numpy as np

        w = np.ones(len(self.image_ids)) if weights is None else np.asarray(weights, dtype=float)
        aps, ap50s, recalls, per_class = [], [], [], {}
        for category in self.categories:
            precision, recall = _accumulate(category, w, len(self.iou_thresholds))
            if precision is None:
                per_class[category.id] = None
                continue
            per_class[category.id] = float(precision.mean())
            aps.append(precision.mean())
            ap50s.append(precision[0].mean())
            recalls.append(recall.mean())
        mean = (lambda values: float(np.mean(values)) if values else 0.0)
        return Figures(map_50_95=mean(aps), map_50=mean(ap50s), recall=mean(recalls), per_class_ap=per_class)

    def maps(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mAP@[.5:.95], mAP@.5) for each row of weights (B, images) at once: figures(row)'s two means."""
        import numpy as np

        weights = np.asarray(weights, dtype=float)
        per_class = [_ap_many(category, weights, len(self.iou_thresholds)) for category in self.categories]
        if not per_class:
            return np.zeros(len(weights)), np.zeros(len(weights))
        ap, ap50 = (np.stack([pair[n] for pair in per_class], axis=1) for n in (0, 1))

        def mean(values):
            counted = (~np.isnan(values)).sum(axis=1)
            return np.where(counted > 0, np.nansum(values, axis=1) / np.maximum(counted, 1), 0.0)

        return mean(ap), mean(ap50)


def _ap_many(category: _Category, weights: np.ndarray, thresholds: int):
    """_accumulate for many weightings at once: (AP@[.5:.95], AP@.5) per row of weights (B, I), NaN where the
    category has no object counted. The same arithmetic, vectorised over rows (the bootstrap's resamples)."""
    import numpy as np

    objects = weights @ category.objects
    rows, count = len(weights), category.tp.shape[1]
    if count == 0:
        zero = np.where(objects > 0, 0.0, np.nan)
        return zero, zero.copy()
    weight = weights[:, category.image][:, None, :]  # (B, 1, D)
    tp = np.cumsum(category.tp[None] * weight, axis=2)  # (B, T, D)
    fp = np.cumsum(category.fp[None] * weight, axis=2)
    rc = tp / np.where(objects > 0, objects, 1.0)[:, None, None]  # rows with no object are dropped below
    pr = tp / (fp + tp + np.spacing(1))
    envelope = np.maximum.accumulate(pr[:, :, ::-1], axis=2)[:, :, ::-1]
    points = np.linspace(0.0, 1.0, RECALL_POINTS)
    recalls, envelopes = rc.reshape(-1, count), envelope.reshape(-1, count)
    precision = np.zeros((len(recalls), RECALL_POINTS))
    for row, (recall, curve) in enumerate(zip(recalls, envelopes)):  # exact comparisons, as pycocotools makes them
        at = np.searchsorted(recall, points, side="left")
        inside = at < count
        precision[row, inside] = curve[at[inside]]
    precision = precision.reshape(rows, thresholds, RECALL_POINTS)
    absent = objects == 0
    ap, ap50 = precision.mean(axis=(1, 2)), precision[:, 0].mean(axis=1)
    ap[absent], ap50[absent] = np.nan, np.nan
    return ap, ap50


def _accumulate(category: _Category, w: np.ndarray, thresholds: int):
    """pycocotools' accumulate for one category (area all, 100 detections), each image weighted: (precision
    (T, R), recall (T,)), or (None, None) when no object of the category is counted."""
    import numpy as np

    objects = float(np.dot(category.objects, w))
    if objects == 0:
        return None, None
    recall_points = np.linspace(0.0, 1.0, RECALL_POINTS)
    weight = w[category.image]
    tp = np.cumsum(category.tp * weight, axis=1)
    fp = np.cumsum(category.fp * weight, axis=1)
    count = tp.shape[1]
    precision = np.zeros((thresholds, RECALL_POINTS))
    recall = np.zeros(thresholds)
    if count == 0:
        return precision, recall
    rc = tp / objects
    pr = tp / (fp + tp + np.spacing(1))
    envelope = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]  # precision made non-increasing in recall
    for t in range(thresholds):
        at = np.searchsorted(rc[t], recall_points, side="left")
        inside = at < count
        precision[t, inside] = envelope[t, at[inside]]
    recall[:] = rc[:, -1]
    return precision, recall


def _quiet():
    """pycocotools prints its progress to stdout."""
    return contextlib.redirect_stdout(io.StringIO())


def coco_pair(ground_truth: dict, detections: list[dict]):
    """pycocotools' COCO objects of the ground truth and of detections ({image_id, category_id, bbox [x, y, w, h]
    in pixels, score}). Built as `COCO.loadRes` builds them, which fails on an empty list; pycocotools writes
    into the annotations it is given, so it gets copies."""
    from pycocotools.coco import COCO

    with _quiet():
        truth = COCO()
        truth.dataset = {"images": ground_truth["images"], "categories": ground_truth["categories"],
                         "annotations": [dict(annotation) for annotation in ground_truth["annotations"]]}
        truth.createIndex()
        found = COCO()
        found.dataset = {"images": ground_truth["images"], "categories": ground_truth["categories"],
                         "annotations": [{"id": n + 1, "image_id": d["image_id"], "category_id": d["category_id"],
                                          "bbox": list(d["bbox"]), "score": d["score"], "iscrowd": 0,
                                          "area": d["bbox"][2] * d["bbox"][3]} for n, d in enumerate(detections)]}
        found.createIndex()
    return truth, found


def match(ground_truth: dict, detections: list[dict]) -> Matches:
    """pycocotools' per-image matching (COCOeval.evaluate) of a model's detections, kept for accumulation."""
    import numpy as np
    from pycocotools.cocoeval import COCOeval

    truth, found = coco_pair(ground_truth, detections)
    evaluation = COCOeval(truth, found, "bbox")
    with _quiet():
        evaluation.evaluate()
    params = evaluation.params
    image_ids, thresholds = tuple(int(i) for i in params.imgIds), len(params.iouThrs)  # numpy ints after evaluate()
    images, areas = len(image_ids), len(params.areaRng)
    categories = []
    for k, category in enumerate(params.catIds):
        cells = [evaluation.evalImgs[k * areas * images + i] for i in range(images)]  # area "all" is index 0
        kept = [(i, e) for i, e in enumerate(cells) if e is not None]
        objects = np.zeros(images)
        for i, e in kept:
            objects[i] = np.count_nonzero(np.asarray(e["gtIgnore"]) == 0)
        if kept:
            scores = np.concatenate([np.asarray(e["dtScores"][:MAX_DETECTIONS], dtype=float) for _, e in kept])
            image = np.concatenate([np.full(len(e["dtScores"][:MAX_DETECTIONS]), i) for i, e in kept]).astype(int)
            matched = np.concatenate([e["dtMatches"][:, :MAX_DETECTIONS] for _, e in kept], axis=1)
            ignored = np.concatenate([e["dtIgnore"][:, :MAX_DETECTIONS] for _, e in kept], axis=1)
            order = np.argsort(-scores, kind="mergesort")  # pycocotools' order (stable, as its Matlab original)
            matched, ignored, image = matched[:, order] > 0, ignored[:, order] > 0, image[order]
        else:
            image, matched, ignored = np.zeros(0, int), np.zeros((thresholds, 0), bool), np.zeros((thresholds, 0), bool)
        categories.append(_Category(id=int(category), image=image, tp=matched & ~ignored, fp=~matched & ~ignored,
                                    objects=objects))
    return Matches(image_ids=image_ids, categories=tuple(categories), iou_thresholds=np.asarray(params.iouThrs))


def figures(ground_truth: dict, detections: list[dict]) -> Figures:
    """mAP@[.5:.95], mAP@.5, recall and per-class AP of a model's detections on every image once."""
    return match(ground_truth, detections).figures()


def pycocotools_stats(ground_truth: dict, detections: list[dict]) -> list[float]:
    """pycocotools run as its README shows (evaluate, accumulate, summarize): its 12 `stats` (stats[0] mAP@[.5:.95],
    stats[1] mAP@.5, stats[8] AR@100). The check on `figures`."""
    from pycocotools.cocoeval import COCOeval

    truth, found = coco_pair(ground_truth, detections)
    evaluation = COCOeval(truth, found, "bbox")
    with _quiet():
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return [float(value) for value in evaluation.stats]
