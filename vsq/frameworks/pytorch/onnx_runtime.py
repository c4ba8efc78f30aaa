"""MCT's ONNX files (MCTQ: mct-quantizers' custom quantizer operators) run by ONNX Runtime, on a pool of
single-threaded sessions fed whole-batch slices of each chunk (vsq.runtimes.tflite.shards), so the scores do
not depend on the number of sessions or of cores."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from vsq.errors import ExternalToolError
from vsq.runtimes.tflite import shards

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
        parts = shards(len(batch), BATCH, len(self.sessions))
        if len(parts) == 1:
            return self._run(self.sessions[0], batch)
        with ThreadPoolExecutor(max_workers=len(parts)) as threads:
            return np.concatenate(list(threads.map(lambda pair: self._run(pair[0], batch[pair[1]]),
                                                   zip(self.sessions, parts))))

    def _run(self, session, images: np.ndarray) -> np.ndarray:
        out = [session.run(None, {self.input: images[start:start + BATCH]})[0] for start in range(0, len(images), BATCH)]
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)
