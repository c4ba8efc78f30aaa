"""Model files the configuration gives (vsq.configuration.given): checked before any heavy work, evaluated on
their runtimes, and the quantized one put in the quantized role in place of vsq's own build (docs/given-files.md).

At prepare (`check_given`), for every given file: what it would load besides itself (TFLite custom operators,
ONNX domains other than the standard ones and mct-quantizers', OpenVINO extensions, layers of a .keras that run
code) is refused unless the command line grants the configuration's model code (--allow-unsafe-model-code NAME);
ONNX external data must lie inside the file's folder; and its input contract (one input and one output, shape,
layout, type) must agree with the configuration. Each is one line naming the key, exit 4.

In the run, a configuration with `quantized_model` runs a framework `WithGiven`: its reference models are the
float model, its float export and the given file (key given_quantized, role quantized); MCT's model
(fake_quant) is not built, so no MCT run happens, and the checks of vsq's own quantized exports do not apply.
"""

from __future__ import annotations

import os
from pathlib import Path

from vsq.configuration.config import Config
from vsq.configuration.given import GIVEN_QUANTIZED, GivenFile, given_files
from vsq.configuration.grants import UNSAFE_OPTION
from vsq.core.reference import GIVEN_QUANTIZED_MODEL
from vsq.errors import ConfigError, VsqError
from vsq.runtimes.given_files import Contract, read_contract


def check_given(config: Config) -> tuple[GivenFile, ...]:
    """The configuration's given files, each checked (module docstring); ConfigError on the first problem."""
    given = given_files(config)
    for item in given:
        contract = _contract(config, item)
        _check_trust(config, item, contract)
        _check_contract(config, item, contract)
    return given


def contract_of(item: GivenFile) -> Contract:
    return read_contract(item.path, item.format)


def _contract(config: Config, item: GivenFile) -> Contract:
    try:
        return contract_of(item)
    except VsqError as error:
        raise ConfigError(config.file, item.key, f"{item.written}: {error}; give the model file itself") from None


def _check_trust(config: Config, item: GivenFile, contract: Contract) -> None:
    foreign = list(contract.foreign)
    if item.format == "keras":
        from vsq.frameworks.keras.safety import ModelFormatError, unsafe_layers

        try:
            foreign += [f"layer {name}" for name in unsafe_layers(item.path) if "mct_quantizers" not in name]
        except ModelFormatError as error:
            raise ConfigError(config.file, item.key, f"{item.written}: {error}") from None
    if foreign and not config.allow_unsafe_model_code:
        raise ConfigError(config.file, item.key, f"{item.written} names code that is not part of its format's standard "
                          f"operators: {', '.join(foreign[:3])}; refused by default. If you trust this file and "
                          f"installed what it needs, grant it on the command line: {UNSAFE_OPTION} {config.name}")
    folder = item.path.parent
    for location in contract.external:
        target = Path(os.path.normpath(folder / location))
        if Path(location).is_absolute() or target.parent != folder or target.is_symlink() or not target.is_file():
            raise ConfigError(config.file, item.key, f"{item.written} keeps weights in an external file outside its "
                              "own folder, behind a link, or missing; vsq reads external data only from regular files "
                              "beside the model: save them there")


def _check_contract(config: Config, item: GivenFile, contract: Contract) -> None:
    size, key, written = config.input_tensor_size, item.key, item.written
    if contract.inputs != 1 or contract.outputs != 1:
        raise ConfigError(config.file, key, f"{written} has {contract.inputs} inputs and {contract.outputs} outputs; "
                          "vsq evaluates image classifiers with one input and one output")
    layout = contract.layout
    if layout is None:
        raise ConfigError(config.file, key, f"{written} takes input of shape {list(contract.shape)}, neither NHWC nor "
                          "NCHW with 3 channels; give a file that takes RGB images")
    if item.layout and item.layout != layout:
        raise ConfigError(config.file, key, f"{written} takes {layout} input of shape {list(contract.shape)}, and the "
                          f"configuration says {item.layout}; set \"layout\": \"{layout}\" or export the file in "
                          f"{item.layout}")
    sides = contract.shape[1:3] if layout == "NHWC" else contract.shape[2:4]
    if any(side not in (-1, size) for side in sides):
        raise ConfigError(config.file, key, f"{written} takes {layout} input of shape {list(contract.shape)}, and "
                          f"input_tensor_size is {size}; export the file for {size}x{size} images or change "
                          "input_tensor_size")
    if contract.dtype not in ("float32", "int8", "uint8"):
        raise ConfigError(config.file, key, f"{written} takes {contract.dtype[:20]} input; vsq feeds float32, int8 or "
                          "uint8 (quantized with the file's scale and zero point)")
    if contract.dtype != "float32" and item.format not in ("tflite", "onnx"):
        raise ConfigError(config.file, key, f"{written} takes {contract.dtype} input; vsq quantizes the input of .tflite "
                          "and .onnx files only: export the file with float32 input")
    if item.input_type and item.input_type != contract.dtype:
        raise ConfigError(config.file, key, f"{written} takes {contract.dtype} input, and the configuration says "
                          f"{item.input_type}; set \"input_type\": \"{contract.dtype}\" or export the file with "
                          f"{item.input_type} input")


def file_predictor(item: GivenFile, config: Config, instances: int):
    """The given file on its runtime (vsq.runtimes.kinds), fed as its contract says: NCHW transposed, integer
    inputs quantized with the file's own scale and zero point."""
    from vsq.runtimes.given_files import Fed, onnx_predictor

    contract = contract_of(item)
    if item.format == "onnx":
        return Fed(onnx_predictor(item.path, contract, instances), contract,
                   quantize_here=contract.dtype in ("int8", "uint8"))
    if item.format == "keras":
        from vsq.frameworks.keras.models import load_fake_quant_keras
        from vsq.runtimes.pool import in_fixed_batches

        return Fed(in_fixed_batches(load_fake_quant_keras(item.path, config.allow_unsafe_model_code).predict_on_batch),
                   contract)
    from vsq.runtimes.kinds import predictor

    return Fed(predictor(item.path, config.tflite_runtime, instances), contract)  # TFLite quantizes int8 itself


def runtime_record(item: GivenFile, config: Config) -> dict:
    """What ran the file: its runtime's name, version and settings (results.json), or Keras's for a .keras."""
    from vsq.runtimes.kinds import runtime_record as record
    from vsq.util import versions

    if item.format == "keras":
        return {"name": "keras", "version": versions.version_of("tensorflow")}
    return record(item.path, config.tflite_runtime)


class WithGiven:
    """The configuration's framework, running the given files as their contracts say; with a given quantized file
    in the quantized role: no MCT model, none of the checks of vsq's own quantized exports (the given file has its
    own, vsq.sections.given)."""

    def __init__(self, framework, given: tuple[GivenFile, ...]):
        self._framework, self.files = framework, {item.path: item for item in given}
        self.given = next((item for item in given if item.name == GIVEN_QUANTIZED), None)
        self.models = framework.models
        self.checks = framework.checks
        if self.given:
            self.models = (*(model for model in framework.models if model.role in ("float", "float_export")),
                           GIVEN_QUANTIZED_MODEL)
            keep = {model.check for model in self.models if model.role == "float_export"}
            self.checks = tuple(spec for spec in framework.checks if spec.name in keep)

    def __getattr__(self, name):
        return getattr(self._framework, name)

    def runtime_settings(self, path: Path, config: Config, runtime: str | None = None):
        settings = self._framework.runtime_settings(path, config, runtime)
        item = self.files.get(Path(path))
        return {**(settings or {"name": "keras"}), "contract": contract_of(item).as_dict()} if item else settings

    def file_predictor(self, path: Path, config: Config, instances: int | None = None, runtime: str | None = None):
        item = self.files.get(Path(path))
        if item:  # a given file runs as its contract says (a variant's "runtime" names a built file's)
            return file_predictor(item, config, instances or config.tflite_runtime.pool_size)
        return self._framework.file_predictor(path, config, instances, runtime)


def with_given(framework, given: tuple[GivenFile, ...]):
    """The framework a run uses: WithGiven when the configuration gives model files."""
    return WithGiven(framework, given) if given else framework


def compared(given: tuple[GivenFile, ...]) -> list[GivenFile]:
    """The given files compared as rows of the variants table (models)."""
    return [item for item in given if item.role == "compared"]
