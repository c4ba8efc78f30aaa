"""MCT's ONNX files (MCTQ: mct-quantizers' custom quantizer operators) run by ONNX Runtime, on a pool of
single-threaded sessions fed whole-batch slices of each chunk (vsq.runtimes.pool, as every runtime's pool), so
the scores do not depend on the number of sessions or of cores."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vsq.errors import ExternalToolError
from vsq.runtimes.pool import in_batches, predict_pooled

BATCH = 32  # images per session run


def session_options():
    """One thread per session; mct-quantizers' custom operators registered (onnxruntime-extensions)."""
    from mct_quantizers import get_ort_session_options

    options = get_ort_session_options()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return options


class OnnxClassifier:
    """Scores of an ONNX classifier taking NCHW float32 images, from `instances` sessions of the file."""

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

    def predict(self, images: np.ndarray) -> np.ndarray:
        """images: float32 (N, H, W, 3) preprocessed -> float32 scores (N, classes)."""
        batch = np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32)
        return predict_pooled([self._runner(session) for session in self.sessions], batch, BATCH)

    def _runner(self, session):
        def run(images: np.ndarray) -> np.ndarray:
            return in_batches(lambda part: session.run(None, {self.input: part})[0], images, BATCH)

        return run
