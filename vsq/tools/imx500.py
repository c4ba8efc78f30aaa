"""Sony's IMX500 converter (imxconv-tf): found by path, run as a subprocess, its log kept in a file.

The converter lives in its own venv (`.venv-imx500`, made by scripts/setup_imx500.sh): its
uni-tensorflow pins mct-quantizers~=1.6.0 while MCT 2.6.1 needs ~=1.7.0. It reads MCT's Keras
export (vsq.frameworks.keras.quantize.export_keras) and writes into its output folder:

- `<name>_MemoryReport.json`: {"Memory Report": {"Memory Usage", "Total Memory Available On Chip",
  "Memory Utilization", "Fit In Chip", "Runtime Memory Physical Size", ...}}, also written when
  the model does not fit;
- `dnnParams.xml` (input/output tensors with their dimensions) and `<name>.pbtxt` (per layer)
  when the model fits;
- `packerOut.zip`, the file for the sensor, unless `--memory-report` was asked.

Sizes in the report are binary units ("8.00MB" is 8,388,480 bytes). No TensorFlow here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass
from pathlib import Path

from vsq.errors import ExternalToolError, VsqError

TOOL = "IMX500 converter"
EXECUTABLE = "imxconv-tf"
VENV = ".venv-imx500"
SETUP_COMMAND = "bash scripts/setup_imx500.sh"
PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the vsq checkout, where the setup script makes VENV
JAVA_NEEDED = 17
MEMORY_REPORT_SUFFIX = "_MemoryReport.json"
UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}
# What to try for a model over the memory (the variants section's mixed precision, where it runs for the task).
MIXED_PRECISION_REMEDY = "the mct_mixed_precision variant with a lower weights_memory_fraction, or a smaller model"


class Imx500Error(ExternalToolError):
    """The converter failed without writing a memory report (crashed, rejected the file, ...)."""

    def __init__(self, action: str, message: str, log_file: Path | None = None):
        self.tool = TOOL
        self.log_file = log_file
        where = f"; converter log: {log_file}" if log_file else ""
        VsqError.__init__(self, f"{TOOL} failed while {action}: {message}{where}")


@dataclass(frozen=True)
class Imx500Result:
    """One converter run. Sizes in bytes, utilization in percent of the on-chip memory, time in seconds.

    Memory figures are None when the converter wrote no report; input_shape (height, width,
    channels) is None when it wrote no dnnParams.xml (a model that does not fit).
    """

    converter_version: str | None
    memory_report_only: bool
    exit_code: int
    seconds: float
    fits: bool | None
    memory_usage_bytes: int | None
    memory_available_bytes: int | None
    utilization_percent: float | None
    runtime_memory_bytes: int | None
    model_memory_bytes: int | None
    input_shape: tuple[int, ...] | None
    out_dir: str
    files: tuple[str, ...]
    log: str
    error: str | None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def as_dict(self) -> dict:
        """The `imx500` section of results.json (JSON types only)."""
        data = asdict(self)
        data["files"] = list(self.files)
        data["input_shape"] = list(self.input_shape) if self.input_shape else None
        data["seconds"] = round(self.seconds, 2)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Imx500Result":
        """The result as_dict() wrote (a cache entry)."""
        shape = data["input_shape"]
        return cls(**{**data, "files": tuple(data["files"]), "input_shape": tuple(shape) if shape else None})

    def does_not_fit_message(self, name: str, remedy: str = MIXED_PRECISION_REMEDY) -> str:
        """One line for a failed fit check: the figures, what to try (remedy), where the log is."""
        return (f"{name} does not fit on the IMX500: needs {_megabytes(self.memory_usage_bytes)} of "
                f"{_megabytes(self.memory_available_bytes)} ({_number(self.utilization_percent)} %); try {remedy}; "
                f"converter log: {self.log}")


def find_converter(configured: Path | None, project_root: Path, executable: str = EXECUTABLE) -> Path | None:
    """The granted path (as given, even when missing, so errors can name it), else the project's
    .venv-imx500/bin/<executable>, else <executable> on PATH, else None. executable: imxconv-tf for Keras
    files, imxconv-pt for ONNX files (the same package, imx500-converter[tf,pt])."""
    if configured is not None:
        return Path(configured)
    in_venv = Path(project_root) / VENV / "bin" / executable
    if in_venv.is_file():
        return in_venv
    on_path = shutil.which(executable)
    return Path(on_path) if on_path else None


def java_major_version() -> int | None:
    """Major version of `java` on PATH (the converter's scripts call `java`), or None without one."""
    try:
        done = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def not_runnable(converter: Path, executable: str = EXECUTABLE) -> str | None:
    """Why vsq will not run this file, or None: it runs regular executable files only, never through a symbolic
    link (which would run whatever the link points at when it is followed)."""
    try:
        mode = os.lstat(converter).st_mode
    except OSError as error:
        return f"cannot be found ({error.strerror}); give the path of {executable}"
    if stat.S_ISLNK(mode):
        return "is a symbolic link; vsq runs regular files only: give the file it points at"
    if not stat.S_ISREG(mode) or not os.access(converter, os.X_OK):
        return f"is not an executable file; give the path of {executable}"
    return None


def missing_requirements(converter: Path | None, executable: str = EXECUTABLE) -> str | None:
    """One line naming what the converter lacks and the command that installs it, or None.

    Runs `java -version` only, never the converter (fast enough for collection time).
    """
    missing = []
    if converter is None:
        missing.append(f"{TOOL} not found ({VENV}/bin/{executable} or {executable} on PATH)")
    elif not_runnable(converter, executable):
        missing.append(f"{TOOL} at {converter} {not_runnable(converter, executable)}")
    java = java_major_version()
    if java is None or java < JAVA_NEEDED:
        found = f"found Java {java}" if java else "no java on PATH"
        missing.append(f"Java {JAVA_NEEDED}+ for the {TOOL} missing ({found})")
    if not missing:
        return None
    return f"{' and '.join(missing)}; install with: {SETUP_COMMAND}"


def converter_version(converter: Path) -> str | None:
    """The converter package's version ("3.19.2"), read from the metadata of the venv the converter lives in
    (<venv>/bin/imxconv-tf), else from `imxconv-tf --version` (half a second of the converter's start-up).

    Its log says "Running version 3.19.0": that is uni-tensorflow's version, not the converter's.
    """
    return _installed_version(Path(converter)) or _version_option(Path(converter))


PACKAGE = "imx500-converter"


def _installed_version(converter: Path) -> str | None:
    from importlib import metadata

    venv = converter.parent.parent
    found = [dist.version for dist in metadata.distributions(name=PACKAGE, path=sorted(
        str(p) for p in venv.glob("lib/python3*/site-packages")))]
    return found[0] if len(found) == 1 else None


def _version_option(converter: Path) -> str | None:
    try:
        done = subprocess.run([str(converter), "--version"], capture_output=True, text=True, timeout=60,
                              env=_converter_env())
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = done.stdout.split()
    return words[-1] if done.returncode == 0 and words else None


def parse_size(text: str) -> int:
    """Bytes from the report's sizes: "3.89MB", "512KB", "96992B" (binary units, as the converter's)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?B)\s*", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"not a size: {text!r}")
    return round(float(match.group(1)) * UNITS[match.group(2).upper()])


def parse_percent(text: str) -> float:
    """49.0 from "49%"."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", text)
    if not match:
        raise ValueError(f"not a percentage: {text!r}")
    return float(match.group(1))


def read_memory_report(path: Path) -> dict:
    """The figures of a `<name>_MemoryReport.json`: bytes, percent and whether the model fits."""
    report = json.loads(Path(path).read_text())["Memory Report"]
    return {
        "fits": bool(report["Fit In Chip"]),
        "memory_usage_bytes": parse_size(report["Memory Usage"]),
        "memory_available_bytes": parse_size(report["Total Memory Available On Chip"]),
        "utilization_percent": parse_percent(report["Memory Utilization"]),
        "runtime_memory_bytes": parse_size(report["Runtime Memory Physical Size"]),
        "model_memory_bytes": parse_size(report["Model Memory Physical Size"]),
    }


def read_input_shape(dnn_params: Path) -> tuple[int, ...] | None:
    """(height, width, channels) of the first network's first input tensor in dnnParams.xml.

    The converter lists the dimensions in the model's order by their `ordinal` (a 48x32 input
    gives sizes 48, 32, 3 at ordinals 0, 1, 2); `serializationOrder` is the sensor's memory layout.
    """
    tensor = ElementTree.parse(dnn_params).find(".//inputTensors/inputTensor")
    if tensor is None:
        return None
    dimensions = sorted(tensor.iter("dimension"), key=lambda d: int(d.get("ordinal")))
    return tuple(int(d.get("size")) for d in dimensions)


_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d[ T][\d:]+[.,]\d+Z? (?P<level>[A-Z]+) ?: (?P<message>.*)$")
_PYTHON_SOURCE = re.compile(r"\s*\[[^\]]+\.py:\d+\]\s*$")  # the converter's Python logger appends [file:line]
_WRAPPER_EXIT = "sdspconv exited with error code"  # the Python driver's summary of the Java back end's failure
_STACK = re.compile(r"^(\s|Traceback |Exception in thread |Caused by: |The above exception )")  # frames are indented
MAX_ERROR_LINES = 6


def error_line(log_text: str) -> str | None:
    """The converter's own error, on one line, without stack traces, timestamps or source positions.

    The first ERROR the converter logs is the cause ("Not enough memory, available: 8.00MB ,
    required: 14.20MB"); what follows repeats it, or is the driver's "sdspconv exited with error
    code: 1". An error ending in ":" continues on the lines right after it: ERROR lines with the same
    code (the layers that are not quantized, from the Java back end) or lines without a timestamp (the
    layers that break a restriction, from the Python front end); up to MAX_ERROR_LINES in all are
    joined. Without an ERROR line, the last line that is not part of a Java or Python stack trace.
    """
    lines = log_text.splitlines()
    errors = []  # (line index, message)
    for index, line in enumerate(lines):
        match = _LOG_LINE.match(line)
        if match and match.group("level") == "ERROR":
            errors.append((index, _PYTHON_SOURCE.sub("", match.group("message")).strip()))
    causes = [(index, message) for index, message in errors if not message.startswith(_WRAPPER_EXIT)] or errors
    if causes:
        (first_index, first), details = causes[0], []
        if first.endswith(":"):
            details = _continuation(lines[first_index + 1:], _code(first))
        return " ".join([first, "; ".join(details)]) if details else first
    plain = [line.strip() for line in lines if line.strip() and not _STACK.match(line)]
    return plain[-1] if plain else None


def _continuation(lines: list[str], code: str | None) -> list[str]:
    """The lines that continue an error ending in ":", up to MAX_ERROR_LINES - 1 of them."""
    details = []
    for line in lines[:MAX_ERROR_LINES - 1]:
        match = _LOG_LINE.match(line)
        if match:
            message = match.group("message").strip()
            if match.group("level") != "ERROR" or _code(message) != code:
                break
        elif not line.strip() or _STACK.match(line.lstrip()) or line.lstrip().startswith("at "):
            break
        else:
            message = line
        details.append(_PYTHON_SOURCE.sub("", message).strip())
    return details


def _code(message: str) -> str | None:
    """"GE" for "CODE: [GE] Layer Conv2D: conv2d is not quantized"."""
    match = re.match(r"CODE: \[(\w+)\]", message)
    return match.group(1) if match else None


def convert(converter: Path, keras_file: Path, out_dir: Path, memory_report_only: bool,
            log_file: Path) -> Imx500Result:
    """Run `imxconv-tf -i keras_file -o out_dir`; the converter's output goes to log_file only.

    out_dir is replaced as a whole once the converter has finished (files of an earlier run never
    mix with this one's). A model that does not fit returns a result with fits False and the
    converter's error; a failure without a memory report raises Imx500Error.
    """
    from vsq.util.atomic import atomic_path, remove_tree

    converter, keras_file, out_dir, log_file = (Path(p) for p in (converter, keras_file, out_dir, log_file))
    if log_file.resolve().is_relative_to(out_dir.resolve()):
        raise ValueError(f"log_file {log_file} must be outside out_dir {out_dir}, which is replaced")
    action = f"converting {keras_file.name}"
    version = converter_version(converter)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out_dir.name}.", dir=out_dir.parent) as scratch:
        building = Path(scratch) / "out"  # must not exist: the converter refuses an existing folder
        # Its intermediate files go to $TMPDIR and are left there when it fails (~40 MB each).
        (Path(scratch) / "tmp").mkdir()
        command = [str(converter), "-i", str(keras_file), "-o", str(building), "--report-size-unit", "B"]
        if memory_report_only:
            command.append("--memory-report")
        start = time.perf_counter()
        with atomic_path(log_file) as written, open(written, "w") as log:  # renamed into place: never through a link
            try:
                done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                      env=_converter_env(TMPDIR=str(Path(scratch) / "tmp")))
            except OSError as error:
                done = error
        if isinstance(done, OSError):
            raise Imx500Error(action, f"cannot run {converter}: {done}; install with: {SETUP_COMMAND}", log_file)
        seconds = time.perf_counter() - start
        remove_tree(out_dir)
        if building.is_dir():
            os.rename(building, out_dir)
    error = None if done.returncode == 0 else error_line(log_file.read_text(errors="replace"))
    reports = sorted(out_dir.glob(f"*{MEMORY_REPORT_SUFFIX}"))
    if not reports:
        raise Imx500Error(action, f"exit code {done.returncode}, no memory report: {error or 'no error logged'}",
                          log_file)
    dnn_params = out_dir / "dnnParams.xml"
    return Imx500Result(
        converter_version=version,
        memory_report_only=memory_report_only,
        exit_code=done.returncode,
        seconds=seconds,
        **read_memory_report(reports[0]),
        input_shape=read_input_shape(dnn_params) if dnn_params.is_file() else None,
        out_dir=str(out_dir),
        files=tuple(sorted(p.name for p in out_dir.iterdir())),
        log=str(log_file),
        error=error,
    )


# What the converter needs of vsq's environment: where programs are (its venv's Python, `java`), Java's home and
# the user's, the locale. Nothing else: the environment holds the run's secrets ($VSQ_CACHE_KEY, CI tokens), and
# Python path settings would make the converter's own Python import vsq's packages.
CONVERTER_ENVIRONMENT = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "JAVA_HOME")


def _converter_env(**extra) -> dict:
    """The environment the converter runs with: CONVERTER_ENVIRONMENT's variables that are set, and `extra`."""
    env = {key: os.environ[key] for key in CONVERTER_ENVIRONMENT if key in os.environ}
    env.update(extra)
    return env


def _megabytes(size: int | None) -> str:
    return "?" if size is None else f"{size / UNITS['MB']:.2f} MB"


def _number(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"
