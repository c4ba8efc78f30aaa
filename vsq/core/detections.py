"""A detector's outputs as every framework's predictors return them: the IMX500 post-processing's boxes, scores,
classes and count (edge-mdt-cl's Keras SSDPostProcess, its PyTorch multiclass_nms), and the checks of a model's
interface that say whether it is a detector, framework-neutral (vsq.frameworks.keras, vsq.frameworks.pytorch)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

DETECTION = "detection"  # the configuration's task for models with the IMX500's detection outputs
OUTPUTS = 4  # the post-processing's outputs: boxes, scores, classes, count
# A detector's detections per image: the post-processing allocates them per image, and no weight backs the number
# an untrusted file asks for.
MAX_DETECTIONS = 1000


class Detections(NamedTuple):
    """A batch of detections, as the IMX500's post-processing returns them."""

    boxes: np.ndarray  # float32 (N, max_detections, 4): corners in the order detection.box_order says
    scores: np.ndarray  # float32 (N, max_detections), descending; padding after count
    classes: np.ndarray  # float32 (N, max_detections): 0-based class indices
    count: np.ndarray  # int32 (N,): valid detections per image

    def image(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Image i's valid detections: boxes (count, 4), scores (count,), 0-based classes (count,) as integers."""
        n = int(self.count[i])
        return self.boxes[i, :n], self.scores[i, :n], self.classes[i, :n].astype(np.int64)


def as_detections(outputs) -> Detections:
    """Four arrays (boxes, scores, classes, count) as Detections with its types; a count of shape (N, 1), as
    edge-mdt-cl's multiclass_nms gives it, becomes (N,) (N may be 0)."""
    boxes, scores, classes, count = (np.asarray(output) for output in outputs)
    if count.ndim > 1:
        count = count[(slice(None),) + (0,) * (count.ndim - 1)]
    return Detections(boxes.astype(np.float32), scores.astype(np.float32), classes.astype(np.float32),
                      count.astype(np.int32))


def concatenate(parts: list) -> Detections:
    """Detections of consecutive batches as one."""
    return Detections(*(np.concatenate(field) for field in zip(*parts)))


def detection_outputs(output_shapes) -> bool:
    """Whether a model's outputs are the IMX500's detection post-processing's: boxes (batch, n, 4), scores
    (batch, n), classes (batch, n), count (batch,), in this order (shapes as vsq feeds the model)."""
    shapes = [tuple(shape) for shape in output_shapes]
    if len(shapes) != OUTPUTS or [len(shape) for shape in shapes] != [3, 2, 2, 1]:
        return False
    return shapes[0][2] == 4 and shapes[0][1] == shapes[1][1] == shapes[2][1]


def check_task(config, info, key: str, post_processing: str) -> bool:
    """Whether the model (vsq.core.model_info.ModelInfo) is a detector, refusing (ConfigError naming `task`) a
    detector under another task and a model without detection outputs under task "detection"; a detector's
    detections per image are bounded (MAX_DETECTIONS). key: the configuration's model key; post_processing: the
    layer a detector of this framework ends in (its name in the message)."""
    detector = len(info.input_shapes) == 1 and detection_outputs(info.output_shapes)
    if detector != (config.task == DETECTION):
        raise config.error("task", f"{config.shown(key)} is " + (
            "a detector (outputs boxes, scores, classes, count); set task to \"detection\"" if detector else
            f"not a detector ending in {post_processing} (boxes, scores, classes, count); task \"detection\" needs "
            "one"))
    if detector:
        detections = info.output_shapes[0][1]
        if not isinstance(detections, int) or not 1 <= detections <= MAX_DETECTIONS:
            raise config.error(key, f"{config.shown(key)} asks for "
                               f"{'an unknown number of' if detections is None else 'too many'} detections per image; "
                               f"vsq reads at most {MAX_DETECTIONS} (the post-processing's max_detections; COCO "
                               "scores 100)")
    return detector
