"""Keras detectors whose last layer is edge-mdt-cl's SSDPostProcess (the IMX500's post-processing): loading them,
MCT's PTQ of the whole detector, the INT8 TFLite export of the network without its post-processing, and
predictors that all return (boxes, scores, classes, count).

MCT keeps SSDPostProcess in float, but its INT8 TFLite export of the whole detector fails: the layer is
tf.image.combined_non_max_suppression, which is neither a TFLite builtin nor a custom op (TF Select would be
needed). So model_quantized.tflite holds the network up to the post-processing's two inputs (box codes, class
scores), and its predictor applies the same SSDPostProcess layer, in float, to the file's outputs, found by the
signature's output names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, NamedTuple

import numpy as np

POST_PROCESS = "SSDPostProcess"  # one of vsq.frameworks.keras.safety.TRUSTED_LAYERS
SIGNATURE = "serving_default"


class Detections(NamedTuple):
    """A batch of detections, as the IMX500's post-processing returns them."""

    boxes: np.ndarray  # float32 (N, max_detections, 4): (y_min, x_min, y_max, x_max), normalised unless the model says
    scores: np.ndarray  # float32 (N, max_detections), descending; padding after count
    classes: np.ndarray  # float32 (N, max_detections): 0-based class indices
    count: np.ndarray  # int32 (N,): valid detections per image


def trusted_layers() -> dict:
    """The custom layer classes Keras' loaders may resolve (vsq.frameworks.keras.safety.TRUSTED_LAYERS):
    edge-mdt-cl's SSDPostProcess and nothing else; its other registered layers are not needed by a model ending in
    SSDPostProcess, which builds its own box decoder."""
    from edgemdt_cl.keras import SSDPostProcess

    return {POST_PROCESS: SSDPostProcess}


def layers_scope():
    """A scope in which Keras' loaders resolve the trusted layers (edge-mdt-cl's own custom_layers_scope would
    add every layer it registers, trusted or not)."""
    import tensorflow as tf

    return tf.keras.utils.custom_object_scope(trusted_layers())


def load_detector(path: Path):
    """A Keras detector file for inference (no compile), in safe mode, refused (ValueError) when it holds layers
    that run code of its own (vsq.frameworks.keras.safety); other errors are Keras' own."""
    import tensorflow as tf

    from vsq.frameworks.keras.safety import unsafe_layers

    unsafe = unsafe_layers(Path(path))
    if unsafe:
        raise ValueError(f"{Path(path).name} has layers that run code stored in the file: {', '.join(unsafe[:3])}")
    with layers_scope():
        return tf.keras.models.load_model(str(path), compile=False)


class DetectorInfo(NamedTuple):
    """What a detector's post-processing layer says about its outputs."""

    num_classes: int  # classes the outputs' class indices count (background removed)
    max_detections: int  # rows of boxes, scores and classes per image
    anchors: int
    normalised: bool  # boxes clipped to (1, 1): fractions of the input's height and width, not pixels


def describe_detector(model) -> DetectorInfo | None:
    """The detector's DetectorInfo, or None for a model without SSDPostProcess."""
    layer = post_process_layer(model)
    if layer is None:
        return None
    cfg = layer.cfg
    classes = int(layer.input[1].shape[-1]) - (1 if cfg.remove_background else 0)
    return DetectorInfo(classes, int(cfg.max_detections), int(layer.input[0].shape[-2]),
                        tuple(float(v) for v in cfg.clip_size) == (1.0, 1.0))


def post_process_layer(model):
    """The model's SSDPostProcess layer (the last one found), or None for a model without one."""
    found = [layer for layer in model.layers if type(layer).__name__ == POST_PROCESS]
    return found[-1] if found else None


def network(model):
    """The model up to its post-processing: outputs (box codes, class scores or logits), the layer's inputs."""
    import tensorflow as tf

    layer = post_process_layer(model)
    if layer is None:
        raise ValueError(f"the model has no {POST_PROCESS} layer")
    return tf.keras.Model(model.inputs, list(layer.input), name=f"{model.name}_network")


def quantize_detector(model, batches: Callable[[], Iterable[list]], platform: str = "imx500", options=None):
    """MCT PTQ of the whole detector (MCT keeps SSDPostProcess, in float); MCT's errors are left to the caller."""
    from vsq.frameworks.keras.quantize import ptq

    return ptq(model, batches, platform, options)


def export_network_int8_tflite(fake_quant_model, dest: Path) -> Path:
    """model_quantized.tflite of a detector: MCT's INT8 TFLite export of the fake-quant network without its
    post-processing (the whole detector would need TF Select's CombinedNonMaxSuppression)."""
    from vsq.frameworks.keras.quantize import export_int8_tflite

    return export_int8_tflite(network(fake_quant_model), Path(dest))


def _as_detections(outputs) -> Detections:
    boxes, scores, classes, count = (np.asarray(output) for output in outputs)
    return Detections(boxes.astype(np.float32), scores.astype(np.float32), classes.astype(np.float32),
                      count.astype(np.int32))


class DetectorPredictor:
    """Detections for float32 batches (N, H, W, 3), preprocessed as the model's contract says."""

    def __init__(self, predict: Callable[[np.ndarray], Detections]):
        self._predict = predict

    def __call__(self, images: np.ndarray) -> Detections:
        return self._predict(np.asarray(images, np.float32))

    @classmethod
    def keras(cls, model) -> DetectorPredictor:
        """A float or MCT fake-quant Keras detector ending in SSDPostProcess."""
        if post_process_layer(model) is None:
            raise ValueError(f"the model has no {POST_PROCESS} layer")
        return cls(lambda images: _as_detections(model.predict_on_batch(images)))

    @classmethod
    def tflite(cls, path: Path, fake_quant_model, runtime=None) -> DetectorPredictor:
        """A .tflite network without post-processing exported from `fake_quant_model` (export_network_int8_tflite),
        followed by that model's SSDPostProcess layer in float. `runtime`: vsq's TFLite runtime settings (default:
        the configuration's defaults with one thread)."""
        import tensorflow as tf

        layer = post_process_layer(fake_quant_model)
        if layer is None:
            raise ValueError(f"the model has no {POST_PROCESS} layer")
        runner = _SignatureRunner(Path(path), network(fake_quant_model).output_names, runtime)

        def predict(images: np.ndarray) -> Detections:
            codes, scores = runner(images)
            return _as_detections(layer([tf.constant(codes), tf.constant(scores)]))

        return cls(predict)


class _SignatureRunner:
    """The network's two outputs (box codes (N, anchors, 4), class scores (N, anchors, classes)) from a .tflite
    file. The converter keeps neither the order of the outputs nor their shapes apart (4 classes look like 4
    coordinates): the signature names each output after the Keras layer that made it, so `names` (the network's
    output_names: codes' layer, scores' layer) says which is which."""

    def __init__(self, path: Path, names, runtime=None):
        from vsq.configuration.config import TFLiteRuntime
        from vsq.runtimes.tflite import make_interpreter

        self.interpreter = make_interpreter(path, runtime or TFLiteRuntime(num_threads=1))
        signatures = self.interpreter.get_signature_list()
        if SIGNATURE not in signatures:
            raise ValueError(f"{path.name} has no {SIGNATURE} signature (it has {sorted(signatures)})")
        inputs, outputs = signatures[SIGNATURE]["inputs"], signatures[SIGNATURE]["outputs"]
        if len(inputs) != 1 or sorted(outputs) != sorted(names):
            raise ValueError(f"{path.name} has inputs {inputs} and outputs {sorted(outputs)}; the detector's network "
                             f"has one input and the outputs {sorted(names)}: export it from this fake-quant model")
        self.runner = self.interpreter.get_signature_runner(SIGNATURE)
        self.input_name, self.names = inputs[0], list(names)

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        codes, scores = [], []
        for image in images:  # the export's input has a batch of one
            outputs = self.runner(**{self.input_name: image[None]})
            codes.append(outputs[self.names[0]])
            scores.append(outputs[self.names[1]])
        return np.concatenate(codes), np.concatenate(scores)
