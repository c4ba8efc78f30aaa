"""Quantization variants (the configuration's `variants`): each recipe's file, its storage, its Top-1
(vsq.sections.variants).

The root conftest parametrises these tests over the (configuration, variant) pairs whose check the
configuration's run makes: ids read `[configuration-tf_float16]`, and a configuration without variants
has none. A variant that MCT or the TFLite converter could not build fails each of its tests with the
tool's message. A configuration's `search` finds the smallest recipe that passes (vsq.sections.search).
"""

from vsq.pytest_plugin.suite import checks_as_tests

checks_as_tests(globals(), "variant_file_written[variant_name]", "variant_weights_stored_as_its_kind[variant_name]",
          "full_integer_input_and_output_types[variant_name]", "variant_top1_drop_within_threshold[variant_name]",
          "variant_top1_above_minimum[variant_name]", "given_model_top1_drop_within_threshold[variant_name]",
          "given_model_top1_above_minimum[variant_name]", "variants_recommend_a_quantized_model",
          "search_found_a_passing_recipe", "search_recommended_top1_drop_within_threshold",
          "search_recommended_top1_above_minimum")
