"""Running .tflite files with a pinned interpreter and op resolver, in batches, on a pool of instances.

`runtime` is the configuration's tflite_runtime (vsq.configuration.config.TFLiteRuntime: interpreter, op_resolver,
num_threads, pool_size): runtimes sit below the configuration and take its settings as values."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vsq.errors import ExternalToolError
from vsq.runtimes.pool import predict_pooled, shards  # noqa: F401 (shards: re-exported)


def interpreter_module(runtime):
    if runtime.interpreter == "litert":
        from ai_edge_litert import interpreter as litert

        return litert
    import tensorflow as tf

    return tf.lite


def make_interpreter(path: Path, runtime):
    module = interpreter_module(runtime)
    resolver_types = module.experimental.OpResolverType if hasattr(module, "experimental") else module.OpResolverType
    resolver = getattr(resolver_types, runtime.op_resolver.upper())
    try:
        return module.Interpreter(
            model_path=str(path), num_threads=runtime.num_threads, experimental_op_resolver_type=resolver
        )
    except Exception as error:
        raise ExternalToolError("TFLite interpreter", f"loading {path}", error) from None


def open_for_inspection(path: Path):
    """An allocated interpreter for reading a file's tensors and shapes, not for measuring accuracy.

    LiteRT when installed: it imports in ~0.2 s where TensorFlow takes ~3.5 s, which is most of a
    warm (fully cached) run. Builtin kernels without default delegates, as every evaluation runs (the default
    resolver would create LiteRT's XNNPACK delegate, and say so on standard error, for a file only inspected).
    """
    try:
        from ai_edge_litert import interpreter as module
    except ImportError:
        import tensorflow as tf

        module = tf.lite
    resolvers = module.experimental.OpResolverType if hasattr(module, "experimental") else module.OpResolverType
    try:
        interpreter = module.Interpreter(model_path=str(path),
                                         experimental_op_resolver_type=resolvers.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        interpreter.allocate_tensors()
    except Exception as error:
        raise ExternalToolError("TFLite interpreter", f"loading {path}", error) from None
    return interpreter


class TFLiteClassifier:
    """Scores of a .tflite classifier for float32 batches, from a pool of interpreter instances.

    `instances` (None: runtime.pool_size) interpreters of the same file each take one slice of the
    images (shards) in a Python thread: the interpreter releases the GIL while it invokes.
    """

    def __init__(self, path: Path, runtime, batch_size: int = 1, instances: int | None = None):
        self.path = Path(path)
        self.pool = [_Instance(self.path, runtime, batch_size) for _ in range(instances or runtime.pool_size)]
        self.input, self.output, self.batch_size = self.pool[0].input, self.pool[0].output, self.pool[0].batch_size

    def predict(self, images: np.ndarray) -> np.ndarray:
        """images: float32 (N, H, W, 3) preprocessed -> float32 scores (N, classes)."""
        return predict_pooled([instance.predict for instance in self.pool], images, self.batch_size)


class _Instance:
    """One interpreter of a .tflite file, batched where possible; quantizes int8/uint8 inputs itself."""

    def __init__(self, path: Path, runtime, batch_size: int = 1):
        self.path = Path(path)
        self.interpreter = make_interpreter(self.path, runtime)
        self.input = self.interpreter.get_input_details()[0]
        self.batch_size = self._resize(batch_size) if batch_size > 1 else 1
        if self.batch_size == 1:
            self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]

    def _resize(self, batch_size: int) -> int:
        """Resize the input to a batch; fall back to batch 1 where the model does not allow it."""
        shape = list(self.input["shape"])
        try:
            self.interpreter.resize_tensor_input(self.input["index"], [batch_size, *shape[1:]])
            self.interpreter.allocate_tensors()
            return batch_size
        except Exception:
            self.interpreter.resize_tensor_input(self.input["index"], shape)
            self.interpreter.allocate_tensors()
            return 1

    def predict(self, images: np.ndarray) -> np.ndarray:
        """images: float32 (N, H, W, 3) preprocessed -> float32 scores (N, classes)."""
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = images[start:start + self.batch_size]
            count = len(batch)
            if count < self.batch_size:  # pad the last batch rather than re-allocating tensors
                pad = np.zeros((self.batch_size - count, *batch.shape[1:]), dtype=batch.dtype)
                batch = np.concatenate([batch, pad])
            self.interpreter.set_tensor(self.input["index"], self._quantize(batch))
            self.interpreter.invoke()
            out.append(self._dequantize(self.interpreter.get_tensor(self.output["index"]))[:count])
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    def _quantize(self, batch: np.ndarray) -> np.ndarray:
        dtype = self.input["dtype"]
        if dtype in (np.int8, np.uint8):
            scale, zero_point = self.input["quantization"] if self.input["quantization"][0] else (1.0, 0)  # raw 8-bit
            info = np.iinfo(dtype)
            return np.clip(np.round(batch / scale + zero_point), info.min, info.max).astype(dtype)
        return batch.astype(dtype)

    def _dequantize(self, scores: np.ndarray) -> np.ndarray:
        if self.output["dtype"] in (np.int8, np.uint8):
            scale, zero_point = self.output["quantization"] if self.output["quantization"][0] else (1.0, 0)
            return (scores.astype(np.float32) - zero_point) * scale
        return scores.astype(np.float32)


def predictor(path: Path, configured, instances: int):
    """The registry's entry (vsq.runtimes.kinds.TFLITE): the configuration's TFLite runtime, batched, pooled."""
    return TFLiteClassifier(path, configured, batch_size=configured.batch_size, instances=instances).predict
