"""The exported model.tflite and model_quantized.tflite: where the spec puts them, their shapes, and what
MCT's INT8 export promises (integer weights and computation; smaller, from a 64 KiB model.tflite).
The checks: vsq.frameworks.keras.checks."""

from vsq.pytest_plugin.suite import checks_as_tests

checks_as_tests(globals(), "file_written_to_output_dir[export]", "shapes_match_the_model[export]",
          "quantized_file_is_integer_quantized", "quantized_file_is_smaller", "given_quantized_weights_are_integer")
