"""The accuracy gate: Top-1 of the Keras, float TFLite and quantized TFLite models, and of MCT's quantized
Keras model (model_quantized.keras, what the IMX500 converter receives); each model against its accepted
baseline (vsq.pipeline.checks, vsq.sections.baseline)."""

from fixtures.suite import checks_as_tests

checks_as_tests(globals(), "quantized_top1_drop_within_threshold", "quantized_keras_top1_drop_within_threshold",
          "quantized_top1_above_minimum", "float_tflite_agrees_with_keras", "no_drop_against_baseline[baseline_model]")
