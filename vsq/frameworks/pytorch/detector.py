"""PyTorch detectors: models whose output is edge-mdt-cl's multiclass_nms (NMSResults: boxes, scores, labels,
n_valid; the IMX500's post-processing). Their interface as vsq feeds it, and their outputs as Detections
(vsq.core.detections), the same contract as a Keras detector's: boxes (N, max detections, 4) float32, scores and
classes (N, max detections) float32, count (N,) int32.

MCT quantizes the network in front of the NMS (box decoding included, when it is written in torch ops) and keeps
the NMS; its ONNX export holds edge-mdt-cl's custom NMS operator, which ONNX Runtime runs with the operators
edge-mdt-cl registers (vsq.frameworks.pytorch.onnx_runtime.session_options)."""

from __future__ import annotations

import numpy as np

from vsq.core.detections import OUTPUTS, Detections, as_detections, concatenate

POST_PROCESSING = "edge-mdt-cl's multiclass_nms"


def is_nms_output(output) -> bool:
    """Whether a forward pass's output is the post-processing's: four tensors (boxes (N, n, 4), scores (N, n),
    labels (N, n), n_valid (N,) or (N, 1)), as multiclass_nms (a NamedTuple) or MCT's quantized model (a list)
    give them."""
    import torch

    if not isinstance(output, (tuple, list)) or len(output) != OUTPUTS:
        return False
    if not all(isinstance(value, torch.Tensor) for value in output):
        return False
    boxes, scores, labels, count = output
    return (boxes.dim() == 3 and boxes.shape[-1] == 4 and scores.dim() == labels.dim() == 2
            and scores.shape == labels.shape == boxes.shape[:2] and count.dim() in (1, 2)
            and count.shape[0] == boxes.shape[0] and (count.dim() == 1 or count.shape[1] == 1))


def output_shapes(output) -> tuple:
    """ModelInfo's output shapes of the post-processing's output (batch free, count as (batch,))."""
    n = int(output[0].shape[1])
    return (None, n, 4), (None, n), (None, n), (None,)


def as_numpy(output):
    """A forward pass's output as numpy: Detections for the post-processing's, else the scores (N, classes)."""
    if isinstance(output, (tuple, list)):
        return as_detections([value.detach().numpy() for value in output])
    return output.numpy()


def empty(output):
    """No images' output of the kind `output` is (Detections or scores), its sizes past the batch kept."""
    if isinstance(output, Detections):
        return Detections(*(field[:0] for field in output))
    return output[:0]


def joined(parts: list):
    """Consecutive batches' outputs as one (Detections or scores)."""
    if parts and isinstance(parts[0], Detections):
        return concatenate(parts)
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
