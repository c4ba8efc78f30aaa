"""Keras detectors whose last layer is edge-mdt-cl's SSDPostProcess (the IMX500's post-processing): that layer read
from a model file, TFLite exports of the network without its post-processing, and predictors that all return
Detections (boxes, scores, classes, count). Loading and MCT's PTQ are a classifier's (vsq.frameworks.keras.models,
vsq.frameworks.keras.quantize.ptq of the whole detector).

MCT keeps SSDPostProcess in float, but its INT8 TFLite export of the whole detector fails (and so does
TensorFlow's float conversion): the layer is tf.image.combined_non_max_suppression, which is neither a TFLite
builtin nor a custom op (TF Select would be needed). So a detector's .tflite files hold the network up to the
post-processing's two inputs, named OUTPUTS in the file's signature (the converter keeps neither the outputs'
order nor, with 4 classes, a shape that tells them apart), and their predictor applies the source model's
SSDPostProcess layer, in float, to the file's outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from vsq.core.detections import Detections, as_detections as _as_detections, concatenate  # noqa: F401 (re-exported)

POST_PROCESS = "SSDPostProcess"  # one of vsq.frameworks.keras.safety.TRUSTED_LAYERS
SIGNATURE = "serving_default"
OUTPUTS = ("box_codes", "class_scores")  # the network's outputs, as its .tflite signature names them


def post_process_layer(model):
    """The model's SSDPostProcess layer (the last one found), or None for a model without one."""
    found = [layer for layer in model.layers if type(layer).__name__ == POST_PROCESS]
    return found[-1] if found else None


def network(model):
    """The model up to its post-processing, whose outputs (box codes, class scores or logits: the layer's inputs)
    are named OUTPUTS (identity layers, which converters drop)."""
    import tensorflow as tf

    layer = _required(model)
    codes, scores = (tf.keras.layers.Identity(name=name)(tensor) for name, tensor in zip(OUTPUTS, layer.input))
    return tf.keras.Model(model.inputs, [codes, scores], name=f"{model.name}_network")


def is_detector(model) -> bool:
    return post_process_layer(model) is not None


def _required(model):
    layer = post_process_layer(model)
    if layer is None:
        raise ValueError(f"the model has no {POST_PROCESS} layer")
    return layer


def post_process_from_file(path: Path):
    """The SSDPostProcess layer of a Keras model file, built from its configuration alone (no weights, no other
    layer), or None when the file has none; the file must have passed vsq.frameworks.keras.safety."""
    from vsq.frameworks.keras.models import trusted_layers
    from vsq.frameworks.keras.safety import model_configs, objects

    found = [node["config"] for node in objects(model_configs(Path(path)))
             if node.get("class_name") == POST_PROCESS and isinstance(node.get("config"), dict)]

    return trusted_layers()[POST_PROCESS].from_config(dict(found[-1])) if found else None


def export_network_int8_tflite(fake_quant_model, dest: Path) -> Path:
    """A detector's model_quantized.tflite: MCT's INT8 TFLite export of the fake-quant network without its
    post-processing."""
    from vsq.frameworks.keras.quantize import export_int8_tflite

    return export_int8_tflite(network(fake_quant_model), Path(dest))


def export_network_float_tflite(model, dest: Path) -> Path:
    """A detector's model.tflite: TensorFlow's float conversion of the network without its post-processing."""
    from vsq.frameworks.keras.models import export_float_tflite

    return export_float_tflite(network(model), Path(dest))


def is_network_file(path: Path) -> bool:
    """Whether a .tflite file is a detector's network as vsq exports it (signature outputs OUTPUTS)."""
    from vsq.runtimes.tflite import open_for_inspection

    signatures = open_for_inspection(Path(path)).get_signature_list()
    return sorted(signatures.get(SIGNATURE, {}).get("outputs", [])) == sorted(OUTPUTS)


class DetectorPredictor:
    """Detections for float32 batches (N, H, W, 3), preprocessed as the model's contract says, computed in chunks
    of at most `chunk` images (a Keras model's outputs may depend on its batch size)."""

    def __init__(self, predict: Callable[[np.ndarray], Detections], chunk: int = 32):
        self._predict, self.chunk = predict, chunk

    def __call__(self, images: np.ndarray) -> Detections:
        images = np.asarray(images, np.float32)
        return concatenate([self._predict(images[i:i + self.chunk]) for i in range(0, max(len(images), 1), self.chunk)])

    @classmethod
    def keras(cls, model) -> DetectorPredictor:
        """A float or MCT fake-quant Keras detector ending in SSDPostProcess."""
        _required(model)
        return cls(lambda images: _as_detections(model.predict_on_batch(images)))

    @classmethod
    def tflite(cls, path: Path, post_process, runtime=None) -> DetectorPredictor:
        """A detector's network .tflite (export_network_*), followed by `post_process` in float: the SSDPostProcess
        layer of the model it came from (or a Keras model holding it, such as the source model). `runtime`: vsq's
        TFLite runtime settings (default: the configuration's defaults with one thread)."""
        import tensorflow as tf

        layer = post_process if type(post_process).__name__ == POST_PROCESS else _required(post_process)
        runner = _SignatureRunner(Path(path), runtime)

        def predict(images: np.ndarray) -> Detections:
            codes, scores = runner(images)
            return _as_detections(layer([tf.constant(codes), tf.constant(scores)]))

        return cls(predict)


class _SignatureRunner:
    """The network's two outputs (box codes (N, anchors, 4), class scores (N, anchors, classes)) from a .tflite
    file, by the signature's names (OUTPUTS)."""

    def __init__(self, path: Path, runtime=None, names=OUTPUTS):
        from vsq.configuration.config import TFLiteRuntime
        from vsq.runtimes.tflite import make_interpreter

        self.interpreter = make_interpreter(path, runtime or TFLiteRuntime(num_threads=1))
        signatures = self.interpreter.get_signature_list()
        inputs = signatures.get(SIGNATURE, {}).get("inputs", [])
        outputs = signatures.get(SIGNATURE, {}).get("outputs", [])
        if len(inputs) != 1 or sorted(outputs) != sorted(names):
            raise ValueError(f"{path.name} has inputs {inputs} and outputs {sorted(outputs)} in its {SIGNATURE} "
                             f"signature; a detector's network as vsq exports it has one input and the outputs "
                             f"{', '.join(names)}")
        self.runner = self.interpreter.get_signature_runner(SIGNATURE)
        self.input_name, self.names = inputs[0], tuple(names)

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        codes, scores = [], []
        for image in images:  # the export's input has a batch of one
            outputs = self.runner(**{self.input_name: image[None]})
            codes.append(outputs[self.names[0]])
            scores.append(outputs[self.names[1]])
        return np.concatenate(codes), np.concatenate(scores)
