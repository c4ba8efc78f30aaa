"""vsq.tools.imx500 and vsq.frameworks.keras.quantize.export_keras, with Sony's real IMX500 converter (no mocks).

The converter lives in .venv-imx500 (bash scripts/setup_imx500.sh). Without it the conversion
tests fail, naming that command: CI installs it, so a missing converter is a broken machine.
The samples below are copied from what imxconv-tf 3.19.2 wrote here. A model too large for the
sensor is converted for real in a run of the suites: tests/test_imx500_suite.py.
"""

from __future__ import annotations

import json
import os
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from vsq.tools import imx500
from vsq.frameworks.keras import quantize
from vsq.tools.imx500 import Imx500Error, Imx500Result

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SIZE = 32

# A model that does not fit, default (human) units.
REPORT_TOO_LARGE = {"Memory Report": {
    "Name": "big", "Runtime Memory Physical Size": "82.00KB", "Model Memory Physical Size": "9.19MB",
    "Reserved Memory": "1.00KB", "Memory Usage": "9.27MB", "Total Memory Available On Chip": "8.00MB",
    "Memory Utilization": "116%", "Fit In Chip": False, "Input Persistent": True,
    "Networks": [{"Hash": "big", "Name": "big", "Runtime Memory Physical Size": "82.00KB",
                  "Model Memory Physical Size": "9.19MB", "Input Persistence Cost": "7.00KB"}]}}
# A small model with --report-size-unit B (what vsq asks for).
REPORT_SMALL_BYTES = {"Memory Report": {
    "Name": "small", "Runtime Memory Physical Size": "87424B", "Model Memory Physical Size": "8544B",
    "Reserved Memory": "1024B", "Memory Usage": "96992B", "Total Memory Available On Chip": "8388480B",
    "Memory Utilization": "2%", "Fit In Chip": True, "Input Persistent": True, "Networks": []}}

DNN_PARAMS_48x32 = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<dnnParams>
    <networks>
        <network name="rect" ordinal="0" type="">
            <inputTensors>
                <inputTensor persistency="1" ordinal="0" name="input_1:0" l2Offset="8368768" numOfDimensions="3" bitsPerElement="8" shift="0" scale="0.00390625" format="unsigned">
                    <dimensions>
                        <dimension size="48" serializationOrder="1" ordinal="0" padding="0"/>
                        <dimension size="32" serializationOrder="0" ordinal="1" padding="0"/>
                        <dimension size="3" serializationOrder="2" ordinal="2" padding="0"/>
                    </dimensions>
                </inputTensor>
            </inputTensors>
            <outputTensors>
                <outputTensor ordinal="0" name="transform-0-dense_post_activation:0" l2Offset="8292384" numOfDimensions="1" bitsPerElement="8" shift="0" scale="0.00390625" format="unsigned">
                    <dimensions>
                        <dimension size="10" serializationOrder="0" ordinal="0" padding="0"/>
                    </dimensions>
                </outputTensor>
            </outputTensors>
        </network>
    </networks>
    <l2memory totalSize="8388480" coefficientsSize="8672" reservedMemorySize="1024" networksRuntimeSize="87424"/>
</dnnParams>
"""

JAVA_FRAMES = "\n".join(f"\tat {frame}" for frame in (
    "ta.TilingKt.tile(tiling.kt:48)", "com.github.ajalt.clikt.parsers.Parser.parse(Parser.kt:218)",
    "MainKt.main(Main.kt:31)"))
LOG_DOES_NOT_FIT = f"""\
2026-11-23 09:26:37,894 INFO : Converted successfully [/x/.venv-imx500/lib/python3.11/site-packages/uni/common/logger.py:179]
2026-11-23 09:26:38.548 INFO : CODE: [START] Starting SDSPconv
2026-11-23 09:27:29.363 ERROR: CODE: [ISM] ConvFe error (ISM) on 'big': Not enough memory, available: 8.00MB , required: 9.27MB 
2026-11-23 09:27:29.838 INFO : CODE: [IMCF] ConvFe failed with insufficient memory, trying to run Tiling Advisor
Exception in thread "main" java.lang.IllegalArgumentException: Available memory needs to be greater than 0
{JAVA_FRAMES}
2026-11-23 09:27:30.401 ERROR: CODE: [ISM] ConvFe error (ISM) on 'big': Not enough memory, available: 8.00MB , required: 9.27MB 
Exception in thread "main" sdsp.app.logging.FailureInSubRunningHideErrorException: ERROR: CODE: [ISM] ConvFe error (ISM) on 'big': Not enough memory, available: 8.00MB , required: 9.27MB 
{JAVA_FRAMES}
2026-11-23 09:27:30,494 ERROR : sdspconv exited with error code: 1, uni files can be found in /tmp/tmpwlkza2op [/x/.venv-imx500/lib/python3.11/site-packages/imx500_converter/converter/converter.py:88]
"""
LOG_NOT_QUANTIZED = f"""\
2026-11-23 09:31:09.108 INFO : CODE: [START] Starting SDSPconv
2026-11-23 09:31:14.383 ERROR: CODE: [GE] Caught exception while converting'float': ERROR: CODE: [VE] Verification Error: Quantization verification failed: 
2026-11-23 09:31:14.389 ERROR: CODE: [GE] Layer MatMulBias: dense is not quantized
2026-11-23 09:31:14.389 ERROR: CODE: [GE] Layer Conv2D: conv2d is not quantized
2026-11-23 09:31:14.443 ERROR: CODE: [FEFSUC] Failure in conversion process: 
Exception in thread "main" sdsp.app.logging.FailureInSubRunningException: ERROR: CODE: [FEFSUC] Failure in conversion process: 
{JAVA_FRAMES}
2026-11-23 09:31:14,463 ERROR : sdspconv exited with error code: 1, uni files can be found in /tmp/tmpagvhgfad [/x/converter.py:88]
"""
LOG_UNSUPPORTED = """\
2026-11-23 12:00:20,140 INFO : Converting model_quantized.keras [/x/uni/common/logger.py:179]
2026-11-23 12:00:20,141 ERROR : CODE: [INVOP] The network is not aligned with SDSP converter's restrictions. Errors are:
Node [Framework.nnir] op: FullyConnected, id: keras_quantization_wrapper_1, [Framework.tensorflow] op: keras.src.layers.core.dense.Dense, id: keras_quantization_wrapper_1, errors:
	Param error - param: output features, value: 17000, reason: Output size exceeds the supported limit of 8192 [/x/uni/common/logger.py:185]
Traceback (most recent call last):
  File "/x/imx500_converter/converter/converter.py", line 70, in convert
"""
LOG_PYTHON_FAILURE = """\
2026-11-23 09:30:51,326 INFO : Converting junk.keras [/x/uni/common/logger.py:179]
2026-11-23 09:30:53,521 ERROR : CODE: [EXEC] Failed to load the model. [/x/uni/common/logger.py:191]
Traceback (most recent call last):
  File "/x/h5py/h5f.pyx", line 106, in h5py.h5f.open
OSError: Unable to synchronously open file (file signature not found)
"""


# Parsing, on samples of the converter's own output.

def test_sizes_are_binary_units_as_the_converter_writes_them():
    assert imx500.parse_size("8388480B") == 8388480
    assert imx500.parse_size("512KB") == 512 * 1024
    assert imx500.parse_size("8.00MB") == 8 * 1024 * 1024
    assert imx500.parse_size("3.89MB") == round(3.89 * 1024 * 1024)
    assert imx500.parse_percent("49%") == 49.0
    with pytest.raises(ValueError):
        imx500.parse_size("3.89 parsecs")


def test_memory_report_figures(tmp_path):
    too_large, small = tmp_path / "big_MemoryReport.json", tmp_path / "small_MemoryReport.json"
    too_large.write_text(json.dumps(REPORT_TOO_LARGE))
    small.write_text(json.dumps(REPORT_SMALL_BYTES))
    assert imx500.read_memory_report(too_large) == {
        "fits": False, "memory_usage_bytes": round(9.27 * 2**20), "memory_available_bytes": 8 * 2**20,
        "utilization_percent": 116.0, "runtime_memory_bytes": 82 * 1024, "model_memory_bytes": round(9.19 * 2**20)}
    figures = imx500.read_memory_report(small)
    assert figures["fits"] is True
    assert figures["memory_usage_bytes"] == 87424 + 8544 + 1024 == 96992
    assert figures["memory_available_bytes"] == 8388480


def test_input_shape_is_in_the_models_order(tmp_path):
    (tmp_path / "dnnParams.xml").write_text(DNN_PARAMS_48x32)
    assert imx500.read_input_shape(tmp_path / "dnnParams.xml") == (48, 32, 3)  # a 48 high, 32 wide input


def test_error_is_the_cause_without_stack_trace():
    line = imx500.error_line(LOG_DOES_NOT_FIT)
    assert line == "CODE: [ISM] ConvFe error (ISM) on 'big': Not enough memory, available: 8.00MB , required: 9.27MB"


def test_error_ending_in_a_colon_carries_the_lines_after_it():
    assert imx500.error_line(LOG_NOT_QUANTIZED) == (
        "CODE: [GE] Caught exception while converting'float': ERROR: CODE: [VE] Verification Error: "
        "Quantization verification failed: CODE: [GE] Layer MatMulBias: dense is not quantized; "
        "CODE: [GE] Layer Conv2D: conv2d is not quantized")


def test_error_ending_in_a_colon_carries_its_continuation_lines():
    assert imx500.error_line(LOG_UNSUPPORTED) == (
        "CODE: [INVOP] The network is not aligned with SDSP converter's restrictions. Errors are: Node "
        "[Framework.nnir] op: FullyConnected, id: keras_quantization_wrapper_1, [Framework.tensorflow] op: "
        "keras.src.layers.core.dense.Dense, id: keras_quantization_wrapper_1, errors:; Param error - param: output "
        "features, value: 17000, reason: Output size exceeds the supported limit of 8192")


def test_error_of_the_python_front_end_without_its_traceback():
    assert imx500.error_line(LOG_PYTHON_FAILURE) == "CODE: [EXEC] Failed to load the model."


def test_without_an_error_line_the_last_line_outside_stack_traces():
    log = 'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space\n' + JAVA_FRAMES + "\n"
    assert imx500.error_line("starting\njava: killed\n" + log) == "java: killed"


def test_converter_is_the_configured_one_then_the_projects_venv(tmp_path):
    configured = tmp_path / "elsewhere" / "imxconv-tf"
    assert imx500.find_converter(configured, tmp_path) == configured
    in_venv = tmp_path / ".venv-imx500" / "bin" / "imxconv-tf"
    in_venv.parent.mkdir(parents=True)
    in_venv.write_text("#!/bin/sh\n")
    assert imx500.find_converter(None, tmp_path) == in_venv


def test_converter_version_is_read_from_its_venvs_metadata_without_running_it(tmp_path):
    venv = tmp_path / "venv"
    ran = tmp_path / "ran"
    converter = venv / "bin" / "imxconv-tf"
    converter.parent.mkdir(parents=True)
    converter.write_text(f"#!/bin/sh\ntouch {ran}\necho 'imxconv-tf 0.0.1'\n")
    converter.chmod(0o755)
    info = venv / "lib" / "python3.11" / "site-packages" / "imx500_converter-9.8.7.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: imx500-converter\nVersion: 9.8.7\n")
    assert imx500.converter_version(converter) == "9.8.7" and not ran.exists()
    (info / "METADATA").unlink()  # a converter installed some other way: asked, as before
    assert imx500.converter_version(converter) == "0.0.1" and ran.exists()


def test_a_missing_converter_names_the_setup_command(tmp_path):
    message = imx500.missing_requirements(tmp_path / "imxconv-tf")
    assert f"IMX500 converter at {tmp_path / 'imxconv-tf'} cannot be found" in message
    assert message.endswith("install with: bash scripts/setup_imx500.sh")
    assert "\n" not in message


def _result(**figures) -> Imx500Result:
    defaults = dict(converter_version="3.19.2", memory_report_only=True, exit_code=1, seconds=1.234, fits=False,
                    memory_usage_bytes=round(14.20 * 2**20), memory_available_bytes=8 * 2**20,
                    utilization_percent=178.0, runtime_memory_bytes=None, model_memory_bytes=None, input_shape=None,
                    out_dir="output/imx500", files=("model_quantized_MemoryReport.json",),
                    log="output/imx500.log", error="Not enough memory")
    return Imx500Result(**{**defaults, **figures})


def test_does_not_fit_message():
    assert _result().does_not_fit_message("model_quantized.keras") == (
        "model_quantized.keras does not fit on the IMX500: needs 14.20 MB of 8.00 MB (178 %); try the "
        "mct_mixed_precision variant with a lower weights_memory_fraction, or a smaller model; "
        "converter log: output/imx500.log")


def test_results_section_is_plain_json():
    section = _result(input_shape=(32, 32, 3)).as_dict()
    assert json.loads(json.dumps(section)) == section
    assert section["input_shape"] == [32, 32, 3] and section["seconds"] == 1.23
    assert set(section) >= {"converter_version", "memory_usage_bytes", "memory_available_bytes",
                            "utilization_percent", "fits", "seconds", "files", "log", "exit_code", "error"}


# The real converter on MCT exports.

@lru_cache(maxsize=None)
def _converter_or_problem() -> tuple[Path | None, str | None]:
    converter = imx500.find_converter(None, REPO)
    return converter, imx500.missing_requirements(converter)


def converter() -> Path:
    """The project's converter; fails the calling test (never skips) with the setup command."""
    found, problem = _converter_or_problem()
    if problem:
        pytest.fail(problem, pytrace=False)
    return found


def _random_batches(shape, count=2, batch=4):
    rng = np.random.default_rng(0)
    return lambda: ([rng.random((batch, *shape), dtype=np.float32)] for _ in range(count))


@pytest.fixture(scope="module")
def small_keras(tmp_path_factory) -> Path:
    """A MobileNet-like classifier at 32x32, random weights, quantized with vsq's PTQ for imx500."""
    import tensorflow as tf

    layers = tf.keras.layers
    inputs = tf.keras.Input((SIZE, SIZE, 3))
    x = layers.ReLU()(layers.Conv2D(16, 3, strides=2, padding="same")(inputs))
    x = layers.ReLU()(layers.DepthwiseConv2D(3, padding="same")(x))
    x = layers.ReLU()(layers.Conv2D(32, 1)(x))
    x = layers.GlobalAveragePooling2D()(x)
    model = tf.keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    quantized = quantize.ptq(model, _random_batches((SIZE, SIZE, 3)), "imx500")
    return quantize.export_keras(quantized, tmp_path_factory.mktemp("small") / "model_quantized.keras")


def test_export_keras_leaves_only_the_file(small_keras):
    """Only the file, and it is MCT's quantized model in the .keras format: every weighted layer wrapped by MCT's
    quantization wrapper, activations behind its quantization holders (not the float model saved again)."""
    assert [p.name for p in small_keras.parent.iterdir()] == ["model_quantized.keras"]
    with zipfile.ZipFile(small_keras) as archive:
        assert archive.testzip() is None and set(archive.namelist()) == {"metadata.json", "config.json",
                                                                          "model.weights.h5"}
        classes = {layer["class_name"] for layer in json.loads(archive.read("config.json"))["config"]["layers"]}
    assert {"KerasQuantizationWrapper", "KerasActivationQuantizationHolder"} <= classes, classes
    assert not classes & {"Conv2D", "DepthwiseConv2D", "Dense"}, classes


def test_small_model_fits_with_the_configured_input_size(small_keras, tmp_path):
    result = imx500.convert(converter(), small_keras, tmp_path / "imx500", True, tmp_path / "imx500.log")
    assert result.ok, result.error
    assert result.fits is True
    assert result.input_shape == (SIZE, SIZE, 3)
    assert 0 < result.memory_usage_bytes < result.memory_available_bytes == 8388480
    assert 0 < result.utilization_percent < 10
    assert result.converter_version == "3.19.2"
    assert set(result.files) == {"dnnParams.xml", "model_quantized.pbtxt", "model_quantized_MemoryReport.json"}
    assert "Starting SDSPconv" in (tmp_path / "imx500.log").read_text()


def test_full_conversion_writes_the_package_and_replaces_an_old_output(small_keras, tmp_path):
    out_dir = tmp_path / "imx500"
    out_dir.mkdir()
    (out_dir / "stale.txt").write_text("from an earlier run")
    result = imx500.convert(converter(), small_keras, out_dir, False, tmp_path / "imx500.log")
    assert result.ok, result.error
    assert "packerOut.zip" in result.files and "stale.txt" not in result.files
    with zipfile.ZipFile(out_dir / "packerOut.zip") as package:  # the sensor's package: whole, with its parts
        assert package.testzip() is None
        sizes = {member.filename: member.file_size for member in package.infolist()}
        json.loads(package.read("manifest.json"))
    assert {"manifest.json", "dnnParams.xml", "sdpsA.bin", "cfgA.bin"} <= set(sizes) and all(sizes.values()), sizes
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # scratch folder removed


def test_unreadable_model_raises_with_the_converters_words(tmp_path):
    not_a_model = tmp_path / "model_quantized.keras"
    not_a_model.write_text("not a model")
    with pytest.raises(Imx500Error) as raised:
        imx500.convert(converter(), not_a_model, tmp_path / "imx500", True, tmp_path / "imx500.log")
    message = str(raised.value)
    assert message.startswith("IMX500 converter failed while converting model_quantized.keras: exit code 1")
    assert "Failed to load the model" in message and message.endswith(f"converter log: {tmp_path / 'imx500.log'}")
    assert "Traceback" not in message


def test_the_converter_gets_only_the_environment_it_needs(tmp_path, monkeypatch):
    """A converter vsq runs got the whole environment, $VSQ_CACHE_KEY included (issue 31.8)."""
    import hostile

    fake = hostile.fake_converter(tmp_path / "bin" / "imxconv-tf", SIZE)
    fake.write_text(fake.read_text().replace("#!/bin/sh\n", f"#!/bin/sh\nenv > {tmp_path / 'env.txt'}\n", 1))
    monkeypatch.setenv("VSQ_CACHE_KEY", "the nightly's key")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_token")
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    result = imx500.convert(fake, tmp_path / "model_quantized.keras", tmp_path / "imx500", True, tmp_path / "imx.log")
    assert result.fits
    seen = dict(line.split("=", 1) for line in (tmp_path / "env.txt").read_text().splitlines() if "=" in line)
    assert not {"VSQ_CACHE_KEY", "GITHUB_TOKEN", "PYTHONPATH"} & set(seen), sorted(seen)
    assert seen["PATH"] == os.environ["PATH"] and seen["TMPDIR"].startswith(str(tmp_path))
