"""Running .onnx files with ONNX Runtime on CPU: a pool of single-threaded sessions with the pinned settings
of vsq.runtimes.kinds.ONNXRUNTIME (one image per run), like the TFLite interpreter pool."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vsq.errors import ExternalToolError
from vsq.runtimes.kinds import ONNXRUNTIME
from vsq.runtimes.pool import in_batches, predict_pooled
from vsq.runtimes.telemetry import import_quietly


def make_session(path: Path):
    """One ONNX Runtime session of the file, with the pinned threads, optimisation level and provider."""
    ort = import_quietly("onnxruntime")

    settings = ONNXRUNTIME.settings
    options = ort.SessionOptions()
    options.intra_op_num_threads = settings["intra_op_num_threads"]
    options.inter_op_num_threads = settings["inter_op_num_threads"]
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, settings["graph_optimization_level"])
    options.log_severity_level = 3  # errors only: its warnings are about graph rewrites it makes itself
    try:
        return ort.InferenceSession(str(path), options, providers=[settings["execution_provider"]])
    except Exception as error:
        raise ExternalToolError("ONNX Runtime", f"loading {Path(path).name}", error) from None


class ONNXRuntimeClassifier:
    """Scores of an .onnx classifier for float32 (N, H, W, 3) batches, from `instances` sessions."""

    def __init__(self, path: Path, instances: int = 1):
        self.path = Path(path)
        self.batch_size = ONNXRUNTIME.settings["batch_size"]
        self.sessions = [make_session(self.path) for _ in range(max(1, instances))]
        self.input = self.sessions[0].get_inputs()[0].name

    def predict(self, images: np.ndarray) -> np.ndarray:
        """images: float32 (N, H, W, 3) preprocessed -> float32 scores (N, classes)."""
        return predict_pooled([self._runner(session) for session in self.sessions], images, self.batch_size)

    def _runner(self, session):
        def run(images: np.ndarray) -> np.ndarray:
            return in_batches(lambda batch: session.run(None, {self.input: batch.astype(np.float32)})[0], images,
                              self.batch_size)

        return run


def predictor(path: Path, configured, instances: int):
    """The registry's entry (vsq.runtimes.kinds.ONNXRUNTIME): pinned settings, whatever the configuration's."""
    return ONNXRuntimeClassifier(path, instances).predict
