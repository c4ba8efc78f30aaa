"""The calibration folder and the ImageNet-style evaluation folder with labels.json; every image accounted for."""

from vsq.pytest_plugin.suite import checks_as_tests

checks_as_tests(globals(), "labels_are_ids_zero_to_n_minus_one", "every_class_folder_has_a_label_and_images",
          "labels_match_model_outputs", "calibration_images_decode", "every_evaluation_image_was_evaluated")
