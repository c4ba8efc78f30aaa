"""Detection ("task": "detection"): the annotations against the images, the float model's mAP against chance, the
quantized model's mAP drop and floor (vsq.tasks.detection.checks)."""

from vsq.pytest_plugin.suite import checks_as_tests

checks_as_tests(globals(), "annotations_match_the_data", "float_map_beats_chance", "map_drop_within_threshold",
                "quantized_map_above_minimum")
