"""The reference models every configuration is measured on: one registry for names, files, labels and roles.

`key` names the model in results.json (`models.<key>`), history and baselines; `spec_key` is its results.json
Top-1 key (the spec tool's for Keras); `file` the file in output_dir (None: the user's model, or one that
lives in memory only); `role` what it is in the run, whatever the framework:
- "float": the user's model, the reference of every drop;
- "float_export": its float conversion (model.tflite), held to max_float_top1_drop;
- "quantized": the deployable quantized file, held to max_top1_drop and min_top1;
- "fake_quant": MCT's quantized model in the framework's own form (what the IMX500 converter and the
  explanation take for Keras), held to max_top1_drop.
Each framework lists its models (vsq.frameworks), in the order tables show them.
"""

from __future__ import annotations

from dataclasses import dataclass

from vsq.configuration.config import DEFAULT_RECIPE_NAME  # noqa: F401 (re-exported)
# The checks that judge a reference model's drop: named once, in vsq.core.check_names.
from vsq.core.check_names import (  # noqa: F401 (re-exported)
    FLOAT_EXPORT_CHECK, KERAS_QUANTIZED_CHECK, PYTORCH_QUANTIZED_CHECK, QUANTIZED_DROP_CHECK)

ROLES = ("float", "float_export", "quantized", "fake_quant")


@dataclass(frozen=True)
class ReferenceModel:
    key: str
    spec_key: str
    file: str | None
    label: str  # in tables and charts
    described: str  # in messages: "model_quantized.tflite", "the Keras model"
    role: str
    short: str  # a table's column heading
    check: str | None = None  # the check that judges its drop against the float model: its one name in `checks`


KERAS = ReferenceModel("keras", "top_1_accuracy_keras", None, "Keras", "the Keras model", "float", "Keras")
FLOAT_TFLITE = ReferenceModel("tflite", "top_1_accuracy_tflite", "model.tflite", "float TFLite", "model.tflite",
                              "float_export", "TFLite", FLOAT_EXPORT_CHECK)
QUANTIZED_TFLITE = ReferenceModel("tflite_quantized", "top_1_accuracy_tflite_quantized", "model_quantized.tflite",
                                  "quantized TFLite", "model_quantized.tflite", "quantized", "quantized",
                                  QUANTIZED_DROP_CHECK)
# MCT's quantized model before the TFLite export (fake-quantized Keras): the IMX500 converter's input.
# The SDK notebook's results.json had its key.
KERAS_QUANTIZED = ReferenceModel("keras_quantized", "top_1_accuracy_keras_quantized", "model_quantized.keras",
                                 "quantized Keras", "model_quantized.keras", "fake_quant", "q. Keras",
                                 KERAS_QUANTIZED_CHECK)
# In the spec's order, then the fourth figure.
REFERENCE_MODELS = (KERAS, FLOAT_TFLITE, QUANTIZED_TFLITE, KERAS_QUANTIZED)

PYTORCH = ReferenceModel("pytorch", "top_1_accuracy_pytorch", None, "PyTorch", "the PyTorch model", "float", "PyTorch")
# MCT's ONNX export (MCTQ) run by ONNX Runtime with mct-quantizers' operators: the IMX500 converter's input.
ONNX_QUANTIZED = ReferenceModel("onnx_quantized", "top_1_accuracy_onnx_quantized", "model_quantized.onnx",
                                "quantized ONNX", "model_quantized.onnx", "quantized", "quantized", QUANTIZED_DROP_CHECK)
PYTORCH_QUANTIZED = ReferenceModel("pytorch_quantized", "top_1_accuracy_pytorch_quantized", None,
                                   "quantized PyTorch", "MCT's quantized PyTorch model", "fake_quant", "q. PyTorch",
                                   PYTORCH_QUANTIZED_CHECK)
PYTORCH_MODELS = (PYTORCH, ONNX_QUANTIZED, PYTORCH_QUANTIZED)
# A quantized file the configuration gives (quantized_model, vsq.pipeline.given): in the quantized role, any framework.
GIVEN_QUANTIZED_MODEL = ReferenceModel("given_quantized", "top_1_accuracy_given_quantized", None, "given quantized",
                                       "the given quantized_model", "quantized", "given", QUANTIZED_DROP_CHECK)

KEYS = tuple(model.key for model in REFERENCE_MODELS)  # the Keras framework's, in its order
BY_KEY = {model.key: model for model in (*REFERENCE_MODELS, *PYTORCH_MODELS, GIVEN_QUANTIZED_MODEL)}
BY_FILE = {model.file: model for model in BY_KEY.values() if model.file}


def roles(models) -> dict[str, str]:
    """role -> key of a framework's reference models (results.json `reference_models`)."""
    return {model.role: model.key for model in models}


def reference_model(document: dict, role: str) -> ReferenceModel | None:
    """A results document's reference model of a role (a document of Keras: its roles are Keras's)."""
    key = document.get("reference_models", roles(REFERENCE_MODELS)).get(role)
    return BY_KEY.get(key) if key else None


def column_roles(documents: dict[str, dict]) -> list[str]:
    """The roles the tables show a column for: those any of the documents has, in ROLES' order."""
    present = {role for document in documents.values() for role in document.get("reference_models", roles(REFERENCE_MODELS))}
    return [role for role in ROLES if role in present]


def heading(documents: dict[str, dict], role: str, field: str = "short") -> str:
    """A role's column heading: its models' `field` over the documents, "Keras/PyTorch" when they differ."""
    names = []
    for document in documents.values():
        model = reference_model(document, role)
        if model and getattr(model, field) not in names:
            names.append(getattr(model, field))
    return "/".join(names)


def model_entry(document: dict, role: str) -> dict | None:
    """results.json's `models` entry of the document's model of a role (None: the framework has none)."""
    model = reference_model(document, role)
    return document["models"].get(model.key) if model else None
