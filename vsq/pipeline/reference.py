"""The reference models every configuration is measured on: one registry for names, files and labels.

`key` names the model in results.json (`models.<key>`), history and baselines; `spec_key` is the spec
tool's results.json key; `file` the file in output_dir (None: the user's Keras model).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReferenceModel:
    key: str
    spec_key: str
    file: str | None
    label: str  # in tables and charts
    described: str  # in messages: "model_quantized.tflite", "the Keras model"


KERAS = ReferenceModel("keras", "top_1_accuracy_keras", None, "Keras", "the Keras model")
FLOAT_TFLITE = ReferenceModel("tflite", "top_1_accuracy_tflite", "model.tflite", "float TFLite", "model.tflite")
QUANTIZED_TFLITE = ReferenceModel("tflite_quantized", "top_1_accuracy_tflite_quantized", "model_quantized.tflite",
                                  "quantized TFLite", "model_quantized.tflite")
# MCT's quantized model before the TFLite export (fake-quantized Keras): the IMX500 converter's input.
# The SDK notebook's results.json had its key.
KERAS_QUANTIZED = ReferenceModel("keras_quantized", "top_1_accuracy_keras_quantized", "model_quantized.keras",
                                 "quantized Keras", "model_quantized.keras")
# In the spec's order, then the fourth figure.
REFERENCE_MODELS = (KERAS, FLOAT_TFLITE, QUANTIZED_TFLITE, KERAS_QUANTIZED)
KEYS = tuple(model.key for model in REFERENCE_MODELS)
BY_KEY = {model.key: model for model in REFERENCE_MODELS}
BY_FILE = {model.file: model for model in REFERENCE_MODELS if model.file}
# The default model is the reserved first recipe of the variants pipeline: its name gives its file.
DEFAULT_RECIPE_NAME = "quantized"  # -> model_quantized.tflite
