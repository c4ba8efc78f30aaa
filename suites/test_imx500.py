"""Deployable on the sensor: Sony's IMX500 converter on model_quantized.keras (configurations with `imx500`)."""

import pytest

from vsq.pipeline.reference import KERAS_QUANTIZED

pytestmark = pytest.mark.vsq_section("imx500")


def _record(record_property, conversion, limit):
    record_property("imx500_max_memory_utilization", limit)
    result = conversion.result
    if result is None:
        record_property("imx500_error", conversion.error)
        return
    for name in ("converter_version", "fits", "memory_usage_bytes", "memory_available_bytes", "utilization_percent",
                 "runtime_memory_bytes", "model_memory_bytes", "seconds", "log"):
        record_property(f"imx500_{name}", getattr(result, name))


def test_imx500_converts(vsq_job, imx500_conversion, record_property):
    """The converter read the model and wrote its memory report (a model too large for the memory is the
    next test's failure, not this one's)."""
    _record(record_property, imx500_conversion, vsq_job.config.imx500.max_memory_utilization)
    result = imx500_conversion.result
    converted = result is not None and (result.ok or result.fits is False)
    reason = imx500_conversion.error if result is None else f"{result.error}; converter log: {result.log}"
    assert converted, f"{vsq_job.name}: {reason}"


def test_imx500_fits_in_memory(vsq_job, imx500_conversion, record_property):
    limit = vsq_job.config.imx500.max_memory_utilization
    _record(record_property, imx500_conversion, limit)
    result = imx500_conversion.result
    assert result is not None, f"{vsq_job.name}: {imx500_conversion.error}"
    fits = bool(result.fits)
    assert fits, f"{vsq_job.name}: {result.does_not_fit_message(KERAS_QUANTIZED.file)}"
    within = result.utilization_percent <= limit
    assert within, (
        f"{vsq_job.name}: {KERAS_QUANTIZED.file} uses {result.utilization_percent:g} % of the IMX500's memory "
        f"({result.memory_usage_bytes / 2**20:.2f} MB of {result.memory_available_bytes / 2**20:.2f} MB); "
        f"imx500.max_memory_utilization is {limit:g} %; try the mct_mixed_precision variant with a lower "
        "weights_memory_fraction, or a smaller model")


def test_imx500_input_has_the_configured_size(vsq_job, imx500_conversion, record_property):
    size = vsq_job.config.input_tensor_size
    result = imx500_conversion.result
    shape = result.input_shape if result else None
    record_property("imx500_input_shape", list(shape) if shape else None)
    record_property("input_tensor_size", size)
    assert result is not None, f"{vsq_job.name}: {imx500_conversion.error}"
    known = shape is not None
    assert known, (f"{vsq_job.name}: the converter wrote no input tensor (dnnParams.xml), because "
                   f"{result.error or 'of an unknown problem'}; converter log: {result.log}")
    expected = (size, size, 3)
    matches = tuple(shape) == expected
    assert matches, (f"{vsq_job.name}: the converted model's input is {'x'.join(map(str, shape))}, the configuration's "
                     f"input_tensor_size gives {'x'.join(map(str, expected))}; check the model's input layer")
