"""Paths in messages: relative to the working directory when under it, so a message stays one short line."""

from __future__ import annotations

import os
from pathlib import Path


def shown(path: str | os.PathLike) -> str:
    """'output/model.tflite' for a path under the working directory, else the path as it is."""
    path = Path(path)
    try:
        return str(path.relative_to(Path.cwd())) if path.is_absolute() else str(path)
    except ValueError:
        return str(path)
