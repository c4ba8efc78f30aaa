"""Configuration checks, one testcase each, so reviewers see what was verified per configuration.

Each test asserts the pipeline's check of its name (fixtures/suite.py; the checks: vsq.pipeline.checks).
"""

from vsq.pytest_plugin.suite import checks_as_tests

checks_as_tests(globals(), "schema_valid", "path_is_not_a_symlink[key]", "batch_size_within_calibration_images",
          "input_tensor_size_matches_model")
