"""Running OpenVINO IR files (.xml and .bin) with OpenVINO on CPU: a pool of compiled models, each
single-threaded, with the pinned settings of vsq.runtimes.kinds.OPENVINO (f32 precision: OpenVINO would infer
in bfloat16 on CPUs that have it), one image per inference, like the TFLite interpreter pool."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vsq.errors import ExternalToolError
from vsq.runtimes.kinds import OPENVINO
from vsq.runtimes.pool import in_batches, predict_pooled
from vsq.runtimes.telemetry import import_quietly


def openvino_module():
    """The openvino package, imported with its telemetry off: vsq's only way to import it."""
    return import_quietly("openvino")


def compile_settings() -> dict:
    """The CPU plugin's properties vsq pins (the device and vsq's batch size are not plugin properties)."""
    return {name: value for name, value in OPENVINO.settings.items() if name not in ("device", "batch_size")}


class OpenVINOClassifier:
    """Scores of an OpenVINO IR classifier for float32 (N, H, W, 3) batches, from `instances` compiled models."""

    def __init__(self, path: Path, instances: int = 1):
        ov = openvino_module()
        self.path = Path(path)
        self.batch_size = OPENVINO.settings["batch_size"]
        core = ov.Core()
        try:
            model = core.read_model(str(self.path))
            compiled = [core.compile_model(model, OPENVINO.settings["device"], compile_settings())
                        for _ in range(max(1, instances))]
        except Exception as error:
            raise ExternalToolError("OpenVINO", f"loading {self.path.name}", error) from None
        self.precision = str(compiled[0].get_property("INFERENCE_PRECISION_HINT"))
        self.requests = [model.create_infer_request() for model in compiled]

    def predict(self, images: np.ndarray) -> np.ndarray:
        """images: float32 (N, H, W, 3) preprocessed -> float32 scores (N, classes)."""
        return predict_pooled([self._runner(request) for request in self.requests], images, self.batch_size)

    def _runner(self, request):
        def infer(batch: np.ndarray) -> np.ndarray:
            request.infer({0: batch.astype(np.float32)})
            return request.get_output_tensor(0).data.copy()

        return lambda images: in_batches(infer, images, self.batch_size)


def predictor(path: Path, configured, instances: int):
    """The registry's entry (vsq.runtimes.kinds.OPENVINO): pinned settings, whatever the configuration's."""
    return OpenVINOClassifier(path, instances).predict
