"""Atomic writes: a reader (or an interrupted run) never sees a half-written file."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(dest: Path):
    """Yield a temporary path beside dest; on success rename it over dest, on failure remove it.

    The temporary name is unique, so two runs writing the same file do not mix their bytes.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=f".tmp{dest.suffix}", dir=dest.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
    try:
        yield Path(tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(dest: Path, data: bytes) -> None:
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())


def write_json(dest: Path, data) -> None:
    write_bytes(dest, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def replace_folder(dest: Path, files) -> Path:
    """Make `dest` a folder holding copies of `files` (flat), replacing what was there (replace_folder_with)."""
    import shutil

    def copy(folder: Path) -> None:
        for file in files:
            shutil.copyfile(file, folder / Path(file).name)

    return replace_folder_with(dest, copy)


def replace_folder_with(dest: Path, fill) -> Path:
    """Replace the folder `dest` as a whole: `fill(folder)` writes the new content (subfolders too) into a
    folder beside dest, which is then renamed into place, so dest is never a mix of two runs' files;
    when fill raises, dest is left as it was."""
    import shutil

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        (scratch / "new").mkdir()
        fill(scratch / "new")
        shutil.rmtree(dest, ignore_errors=True)
        os.rename(scratch / "new", dest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return dest
