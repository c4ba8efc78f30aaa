"""Atomic writes: a reader (or an interrupted run) never sees a half-written file.

And nothing is written through a symbolic link someone planted in an output folder: files are written to a
temporary name and renamed over their place (a rename replaces a link itself, never what it points at),
appended and locked with O_NOFOLLOW, and a folder vsq replaces or removes that is a link loses the link only.
"""

from __future__ import annotations

import errno
import json
import os
import stat
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


def open_own(path: Path, flags: int, mode: int = 0o644) -> int:
    """os.open(path, flags | O_CREAT | O_NOFOLLOW): a symbolic link at path is removed (the link, not its target)
    and the file created in its place, so that nothing is written through a link planted there."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):  # another process may plant the link again between the two calls
        try:
            return os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW, mode)
        except OSError as error:
            if error.errno != errno.ELOOP:
                raise
            path.unlink()
    raise OSError(errno.ELOOP, "a symbolic link keeps reappearing", str(path))


def open_no_follow(path: Path, size: int | None = None):
    """A regular file opened for reading, never through a symbolic link (os.O_NOFOLLOW); ValueError when it is
    not a regular file or not of `size` bytes."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{Path(path).name} is not a regular file")
        if size is not None and info.st_size != size:
            raise ValueError(f"{Path(path).name} has {info.st_size:,} bytes, its manifest says {size:,}")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def append_bytes(path: Path, data: bytes) -> None:
    """Append with a single O_APPEND write (concurrent writers never interleave bytes), never through a link."""
    fd = open_own(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def remove_tree(path: Path) -> None:
    """Remove a folder vsq owns, or the symbolic link or file found in its place (never a link's target)."""
    import shutil

    path = Path(path)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def copy_file(source: Path, dest: Path) -> None:
    """Copy a regular file's bytes to a new file dest, reading it without following a link."""
    import shutil

    with open_no_follow(source) as reader, open(dest, "xb") as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)


def replace_folder(dest: Path, files) -> Path:
    """Make `dest` a folder holding copies of `files` (flat), replacing what was there (replace_folder_with)."""
    def copy(folder: Path) -> None:
        for file in files:
            copy_file(file, folder / Path(file).name)

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
        remove_tree(dest)
        os.rename(scratch / "new", dest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return dest
