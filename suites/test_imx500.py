"""Deployable on the sensor: Sony's IMX500 converter on model_quantized.keras, for configurations with an
`imx500` section: it converts, fits the memory, keeps the input size (vsq.sections.imx500)."""

from vsq.pytest_plugin.suite import checks_as_tests

checks_as_tests(globals(), "imx500_converts", "imx500_fits_in_memory", "imx500_input_has_the_configured_size")
