"""ONNX Runtime, OpenVINO's converter and NNCF report usage by default and keep ids under the home folder
(ONNX Runtime ~/.cache/Microsoft/DeveloperTools/.onnxruntime when it is imported; OpenVINO ~/intel when it is
imported and at each conversion; NNCF when it is imported). vsq imports and calls them with each one's own
off switch set: ORT_DISABLE_TELEMETRY=1; CI=true, which OpenVINO's telemetry and NNCF read as "do not send";
NNCF_CI=1. None of them then sends or writes anything. The switches are set only around those imports and
calls (tests/test_runtimes.py checks that HOME stays empty).
"""

from __future__ import annotations

import contextlib
import importlib
import os

SWITCHES = {"ORT_DISABLE_TELEMETRY": "1", "CI": "true", "NNCF_CI": "1"}


@contextlib.contextmanager
def telemetry_off():
    """The off switches set in the environment; the environment as it was after."""
    saved = {name: os.environ.get(name) for name in SWITCHES}
    os.environ.update(SWITCHES)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def import_quietly(name: str):
    """A package imported with its telemetry off (its reporting starts when it is imported)."""
    with telemetry_off():
        return importlib.import_module(name)
