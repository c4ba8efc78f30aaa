"""Make the "given files" example (examples/given.json): the example's own Keras model exported by TensorFlow's
own converter, as a user's pipeline would, for vsq to gate without building anything itself.

Run from the repository root (about 20 s on 2 cores):

    python examples/make_given.py

Output (replaced on every run), under examples/shapes/given/:

    model_int8.tflite            full-integer export, int8 input and output (examples/given.json's quantized_model)
    model_dynamic_range.tflite   dynamic-range export, int8 weights, float I/O (one of its models)

The calibration images are the example's own (examples/shapes/images), decoded and normalized as vsq does for
examples/given.json's configuration (vsq.configuration's Preprocessing), 100 of them in a fixed order.
"""

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "shapes" / "given"
CALIBRATION_IMAGES = 100


def representative(config):
    paths = sorted((ROOT / "shapes" / "images").rglob("*.jpg"))[::3][:CALIBRATION_IMAGES]
    for path in paths:
        pixels = config.preprocessing.decode(path).pixels
        yield [config.preprocessing.normalize(pixels)[None].astype(np.float32)]


def main() -> None:
    import tensorflow as tf

    from vsq.configuration.config import load_config

    config = load_config(ROOT / "variants.json")  # the example's data and preprocessing (no given file needed)
    model = tf.keras.models.load_model(ROOT / "shapes" / "model.h5", compile=False)
    OUT.mkdir(parents=True, exist_ok=True)

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: representative(config)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    (OUT / "model_int8.tflite").write_bytes(converter.convert())

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    (OUT / "model_dynamic_range.tflite").write_bytes(converter.convert())
    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(ROOT.parent)}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
