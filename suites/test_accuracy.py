"""The accuracy gate: the drops mean something (the float model is not near chance); Top-1 of the quantized file
(model_quantized.tflite or .onnx) and of MCT's quantized model (model_quantized.keras, or the quantized PyTorch
model) against the float model, the float TFLite conversion's agreement (Keras); each model against its accepted
baseline (vsq.pipeline.checks, the frameworks' checks, vsq.sections.baseline); the default recipe's gate on every
calibration draw (calibration_repeats, vsq.sections.calibrations)."""

from vsq.pytest_plugin.suite import checks_as_tests

checks_as_tests(globals(), "drops_are_meaningful", "quantized_top1_drop_within_threshold",
                "quantized_keras_top1_drop_within_threshold", "quantized_pytorch_top1_drop_within_threshold",
                "quantized_top1_above_minimum", "float_tflite_agrees_with_keras",
                "no_drop_against_baseline[baseline_model]", "baseline_matches_configuration_and_stack",
                "verdict_is_stable_across_calibrations")
