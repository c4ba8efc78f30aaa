"""MCT's ONNX files (MCTQ: mct-quantizers' custom quantizer operators; a detector's with edge-mdt-cl's NMS operator)
run by ONNX Runtime, on a pool of single-threaded sessions fed whole-batch slices of each chunk
(vsq.runtimes.pool, as every runtime's pool), so the outputs do not depend on the number of sessions or of cores."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vsq.core.detections import OUTPUTS
from vsq.errors import ExternalToolError, VsqError
from vsq.runtimes.pool import in_batches, predict_pooled

BATCH = 32  # images per session run
MCT_DOMAIN = "mct_quantizers"  # mct-quantizers' operators
EDGE_MDT_DOMAIN = "EdgeMDT"  # edge-mdt-cl's (a detector's NMS)


def domains(path: Path) -> set[str]:
    """The operator domains of the file's nodes (its weights not read)."""
    import onnx

    return {node.domain for node in onnx.load(str(path), load_external_data=False).graph.node}


def session_options(used: set[str]):
    """One thread per session; the custom operators of the domains the file uses registered, no others (a
    classifier's session does not load edge-mdt-cl). Both packages' operators are Python operators of
    onnxruntime-extensions, registered when their modules are imported, and both packages' helpers register that
    one library on the options: registered twice it fails ("Conflicting with a registered kernel"), so with
    edge-mdt-cl's, mct-quantizers' operators are imported and edge-mdt-cl's helper registers the library once."""
    import onnxruntime

    if EDGE_MDT_DOMAIN in used:
        import mct_quantizers  # noqa: F401 (its operators register themselves when imported)
        from edgemdt_cl.pytorch import load_custom_ops

        options = load_custom_ops()
    elif MCT_DOMAIN in used:
        from mct_quantizers import get_ort_session_options

        options = get_ort_session_options()
    else:
        options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return options


class OnnxModel:
    """Scores of an ONNX classifier, or Detections of a detector (the task says which: four outputs, edge-mdt-cl's
    NMS), taking NCHW float32 images, from `instances` sessions of the file."""

    def __init__(self, path: Path, instances: int = 1, detector: bool = False):
        import onnxruntime

        self.path, self.detector = Path(path), detector
        try:
            options = session_options(domains(self.path))
            self.sessions = [onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
                             for _ in range(max(1, instances))]
        except Exception as error:
            raise ExternalToolError("ONNX Runtime", f"loading {self.path.name}", error) from None
        self.input = self.sessions[0].get_inputs()[0].name
        outputs = len(self.sessions[0].get_outputs())
        if (outputs == OUTPUTS) != detector or (not detector and outputs != 1):
            raise VsqError(f"{self.path}: gives {outputs} outputs but the configuration's task is "
                           f"{'detection' if detector else 'classification'}, whose files give "
                           f"{OUTPUTS if detector else 1}; set task to the model's")

    def predict(self, images: np.ndarray):
        """images: float32 (N, H, W, 3) preprocessed -> float32 scores (N, classes), or a detector's Detections."""
        from vsq.core.detections import concatenate

        batch = np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32)
        runners = [self._runner(session) for session in self.sessions]
        return predict_pooled(runners, batch, BATCH, **({"join": concatenate} if self.detector else {}))

    def _runner(self, session):
        if self.detector:
            from vsq.core.detections import as_detections, concatenate

            return lambda images: in_batches(lambda part: as_detections(session.run(None, {self.input: part})),
                                             images, BATCH, join=concatenate)
        return lambda images: in_batches(lambda part: session.run(None, {self.input: part})[0], images, BATCH)
