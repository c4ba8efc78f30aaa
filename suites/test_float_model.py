"""Before a drop is blamed on quantization: does this evaluation give the float model the Top-1 it can have?
It beats chance, meets the configuration's expected_top1, and no likely other preprocessing or reading of
labels.json scores clearly better (the preprocessing screen; vsq.pipeline.checks, vsq.sections.screen)."""

from vsq.pytest_plugin.suite import checks_as_tests

checks_as_tests(globals(), "float_model_beats_chance", "float_top1_meets_expected", "preprocessing_matches_the_model",
                "label_order_matches_the_model")
