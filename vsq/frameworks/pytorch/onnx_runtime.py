"""MCT's ONNX files (MCTQ: mct-quantizers' custom quantizer operators; a detector's with edge-mdt-cl's NMS operator)
run by ONNX Runtime, on a pool of single-threaded sessions fed whole-batch slices of each chunk
(vsq.runtimes.pool, as every runtime's pool), so the outputs do not depend on the number of sessions or of cores."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vsq.errors import ExternalToolError
from vsq.runtimes.pool import in_batches, predict_pooled

BATCH = 32  # images per session run


def session_options():
    """One thread per session; mct-quantizers' and edge-mdt-cl's custom operators registered. Both are Python
    operators of onnxruntime-extensions, registered when their modules are imported, and both packages' helpers
    register that one library on the options: registered twice it fails ("Conflicting with a registered
    kernel"), so mct-quantizers' operators are imported and edge-mdt-cl's helper registers the library once."""
    import mct_quantizers  # noqa: F401 (its operators register themselves when imported)
    from edgemdt_cl.pytorch import load_custom_ops

    options = load_custom_ops()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return options


class OnnxModel:
    """Scores of an ONNX classifier, or Detections of a detector (four outputs: edge-mdt-cl's NMS), taking NCHW
    float32 images, from `instances` sessions of the file."""

    def __init__(self, path: Path, instances: int = 1):
        import onnxruntime

        self.path = Path(path)
        try:
            self.sessions = [onnxruntime.InferenceSession(str(self.path), session_options(),
                                                          providers=["CPUExecutionProvider"])
                             for _ in range(max(1, instances))]
        except Exception as error:
            raise ExternalToolError("ONNX Runtime", f"loading {self.path.name}", error) from None
        self.input = self.sessions[0].get_inputs()[0].name
        self.detector = len(self.sessions[0].get_outputs()) == 4

    def predict(self, images: np.ndarray):
        """images: float32 (N, H, W, 3) preprocessed -> float32 scores (N, classes), or a detector's Detections."""
        from vsq.core.detections import concatenate

        batch = np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32)
        runners = [self._runner(session) for session in self.sessions]
        if self.detector:
            return predict_pooled(runners, batch, BATCH, join=concatenate)
        return predict_pooled(runners, batch, BATCH)

    def _runner(self, session):
        if self.detector:
            from vsq.core.detections import as_detections, concatenate

            def detect(images: np.ndarray):
                return concatenate([as_detections(session.run(None, {self.input: images[start:start + BATCH]}))
                                    for start in range(0, max(len(images), 1), BATCH)])

            return detect

        def run(images: np.ndarray) -> np.ndarray:
            return in_batches(lambda part: session.run(None, {self.input: part})[0], images, BATCH)

        return run


OnnxClassifier = OnnxModel  # its name before detectors
