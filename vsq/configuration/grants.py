"""What the command line, the environment or a library's caller grants a run; a configuration only asks.

Configurations, like the models and images they point at, come from pull requests and other people: a
reviewer reads them as data. So what would let one run code of its choosing or spend the machine is, in the
file, a request, and only the trusted side grants it:

| a configuration asks                   | granted by                                                              |
|----------------------------------------|-------------------------------------------------------------------------|
| "allow_unsafe_model_code": true        | --allow-unsafe-model-code NAME; vsq.run(..., allow_unsafe_model_code=True) |
| "imx500": {"converter": PATH}          | --imx500-converter PATH; $VSQ_IMX500_CONVERTER; vsq.run(..., imx500_converter=PATH) |
| preprocessing.max_image_pixels above   | --max-image-pixels N; vsq.run(..., max_image_pixels=N)                  |
| the default                            |                                                                         |

A request without its grant stops the run before any work (exit code 4, one line naming the option). A grant
holds without the request (the command line decides): --allow-unsafe-model-code NAME lets that configuration's
model run its code, --max-image-pixels is the limit of every configuration that does not set a lower one, and
--imx500-converter grants one converter per framework, told by its file name (imxconv-tf reads Keras files,
imxconv-pt ONNX files): repeat it, or list both in $VSQ_IMX500_CONVERTER separated by ":", for a run that mixes
Keras and PyTorch configurations. A configuration whose framework's converter is not among the granted ones is
refused at prepare: running the other kind fails every IMX500 check with the converter's own error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from vsq.errors import ConfigError

CONVERTER_VARIABLE = "VSQ_IMX500_CONVERTER"
UNSAFE_OPTION = "--allow-unsafe-model-code"
CONVERTER_OPTION = "--imx500-converter"
PIXELS_OPTION = "--max-image-pixels"
# Sony's converters by file name, and the models each reads (vsq.frameworks' `converter`).
CONVERTER_KINDS = {"imxconv-tf": "Keras", "imxconv-pt": "PyTorch"}


class OptionError(ConfigError):
    """A command-line grant that cannot be used (it names no configuration, ...): "OPTION: message"."""

    def __init__(self, option: str, message: str):
        super().__init__(option, None, message)


@dataclass(frozen=True)
class Grants:
    """What this run may do beyond the defaults; build it with `given` (reads the environment too)."""

    unsafe_model_code: frozenset[str] = frozenset()  # configuration names whose model may run its stored code
    unsafe_model_code_for_any: bool = False  # vsq.run(allow_unsafe_model_code=True): the one configuration it runs
    imx500_converters: tuple[Path, ...] = ()  # one per converter kind (imxconv-tf, imxconv-pt), told by the name
    imx500_converter_origin: str = CONVERTER_OPTION  # where they came from, for messages
    max_image_pixels: int | None = None  # the limit's ceiling (None: the schema's default)

    @classmethod
    def given(cls, unsafe_model_code=(), imx500_converter=None, max_image_pixels: int | None = None,
              unsafe_model_code_for_any: bool = False, environ=None) -> "Grants":
        """The grants of a command line or a call; imx500_converter (a path or several) falls back to
        $VSQ_IMX500_CONVERTER (paths separated by ":")."""
        origin = CONVERTER_OPTION
        if isinstance(imx500_converter, (str, os.PathLike)):
            imx500_converter = [imx500_converter]
        converters = [path for path in imx500_converter or () if path]
        if not converters:
            variable = (os.environ if environ is None else environ).get(CONVERTER_VARIABLE) or ""
            converters, origin = [path for path in variable.split(os.pathsep) if path], CONVERTER_VARIABLE
        converters = [Path(os.path.abspath(os.path.expanduser(path))) for path in converters]
        for number, converter in enumerate(converters):
            if converter.name not in CONVERTER_KINDS:
                raise OptionError(f"{origin} {converter}", f"is named {converter.name!r}: vsq tells a converter by its "
                                  f"name, {' or '.join(f'{n} ({k})' for n, k in CONVERTER_KINDS.items())}; give the "
                                  "path of one of them (a wrapper script may take that name)")
            if any(other.name == converter.name for other in converters[:number]):
                raise OptionError(f"{origin} {converter}", f"is one of two {converter.name} granted; give one "
                                  "converter of each kind")
        if max_image_pixels is not None and max_image_pixels < 1:
            raise OptionError(PIXELS_OPTION, f"{max_image_pixels} is not a number of pixels; give a positive integer")
        return cls(frozenset(unsafe_model_code), unsafe_model_code_for_any, tuple(converters), origin, max_image_pixels)

    def allows_unsafe_model_code(self, name: str) -> bool:
        return self.unsafe_model_code_for_any or name in self.unsafe_model_code

    def check_names(self, names: list[str]) -> None:
        """Every configuration a grant names is one of this run's (a typo must not leave a model refused)."""
        unknown = sorted(self.unsafe_model_code - set(names))
        if unknown:
            raise OptionError(f"{UNSAFE_OPTION} {unknown[0]}", f"no configuration of this run is named "
                              f"{unknown[0]!r} (they are: {', '.join(names)}); give a configuration's name")

    def apply(self, config):
        """The configuration with what this run grants it (allow_unsafe_model_code, max_image_pixels), or
        ConfigError naming the option for a request without its grant."""
        granted = self.allows_unsafe_model_code(config.name)
        if config.allow_unsafe_model_code and not granted:
            raise config.error("allow_unsafe_model_code", "true asks vsq to run the Python code stored in the model, "
                               "and a configuration cannot grant that itself; if you trust the model, grant it on the "
                               f"command line: {UNSAFE_OPTION} {config.name} (or vsq.run(..., "
                               "allow_unsafe_model_code=True))")
        return replace(config, allow_unsafe_model_code=granted, preprocessing=replace(
            config.preprocessing, max_image_pixels=self._pixel_limit(config)))

    def _pixel_limit(self, config) -> int:
        from vsq.configuration.file import properties

        default = properties("preprocessing")["max_image_pixels"]["default"]
        ceiling = self.max_image_pixels or default
        asked = config.raw.get("preprocessing", {}).get("max_image_pixels")
        if asked is not None and asked > ceiling:
            raise config.error("preprocessing.max_image_pixels", f"{asked:,} is more than the {ceiling:,} pixels this "
                               f"run allows; lower it, or grant it on the command line: {PIXELS_OPTION} {asked} (or "
                               "vsq.run(..., max_image_pixels=...))")
        return ceiling if asked is None else asked

    def imx500_converter_for(self, config, executable: str) -> Path | None:
        """The converter to run for a configuration with an imx500 section, whose framework needs `executable`:
        the granted one of that name, else None (vsq's default: the checkout's .venv-imx500, else PATH) when none
        is granted; ConfigError for a converter path from the configuration alone, or when only converters of
        other kinds are granted."""
        if self.imx500_converters:
            granted = next((path for path in self.imx500_converters if path.name == executable), None)
            if granted is None:
                names = ", ".join(str(path) for path in self.imx500_converters)
                raise config.error("imx500", f"{self.imx500_converter_origin} grants {names}, and a "
                                   f"{CONVERTER_KINDS[executable]} model needs {executable}; grant it too "
                                   f"({CONVERTER_OPTION} once per converter, or both in {CONVERTER_VARIABLE} "
                                   "separated by \":\")")
            return granted
        asked = config.imx500.converter
        if asked is not None:
            raise config.error("imx500.converter", f"{asked} is a program this configuration asks vsq to run, and a "
                               f"configuration cannot grant that itself; if you trust it, grant it on the command line: "
                               f"{CONVERTER_OPTION} {asked} (or {CONVERTER_VARIABLE}, or vsq.run(..., "
                               f"imx500_converter=...)), or remove imx500.converter to use the checkout's "
                               f".venv-imx500/bin/{executable}")
        return None
