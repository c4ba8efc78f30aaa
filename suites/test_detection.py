"""Detection ("task": "detection"): the annotations against the images, the box format against the model's outputs,
the float model's mAP against chance, the quantized model's mAP drop and floor (vsq.tasks.detection.checks)."""

from vsq.pytest_plugin.suite import checks_as_tests

checks_as_tests(globals(), "annotations_match_the_data", "box_format_matches_the_model", "float_map_beats_chance",
                "map_drop_within_threshold", "quantized_map_above_minimum")
