"""TFLite's reference kernels (the BUILTIN_REF op resolver) as a runtime of their own: a .tflite variant with
`"runtime": "tflite_reference"` runs on TensorFlow's interpreter with the plain kernels that follow the TFLite
specification's arithmetic, beside the configured (optimized) kernels the other rows run on. Its settings are pinned
in vsq.runtimes.kinds.TFLITE_REFERENCE (one thread, batch 1): they are the runtime, not the configuration's."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace


def predictor(path: Path, configured, instances: int):
    """The registry's entry: the file on the reference kernels, a pool of `instances` single-threaded interpreters
    (`configured`, the configuration's tflite_runtime, is not used: these settings are pinned)."""
    from vsq.runtimes.kinds import TFLITE_REFERENCE
    from vsq.runtimes.tflite import TFLiteClassifier

    pinned = SimpleNamespace(**TFLITE_REFERENCE.settings)
    return TFLiteClassifier(path, pinned, batch_size=pinned.batch_size, instances=instances).predict
