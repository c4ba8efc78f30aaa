"""Content-addressed artifact cache: converted models and evaluation results, keyed by what made them.

An entry is a folder `<root>/<kind>/<key>/` holding its files and a `manifest.json` with the
SHA-256 of each file. It is built in a temporary folder and renamed into place, so a reader never
sees a partial entry; on read every file is checked against the manifest, and an entry that does
not match (truncated, edited, half-deleted) is removed and reported as a miss.

Several processes (parallel jobs, pytest-xdist workers, two machines on a shared disk) can fill one
cache at once: an intact entry in place is never modified, replaced or deleted, since another process
may be reading it. When two build the same entry, the first one renamed into place is kept (keys are
content-addressed, so either is right) and the other is dropped; --no-cache builds again and uses its
own build, which goes into the cache only where no intact entry is (a damaged entry is first renamed
out of sight, then deleted).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

MANIFEST = "manifest.json"
CHUNK = 1 << 20


def default_root() -> Path:
    """$VSQ_CACHE_DIR, else $XDG_CACHE_HOME/vsq, else ~/.cache/vsq."""
    if os.environ.get("VSQ_CACHE_DIR"):
        return Path(os.environ["VSQ_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vsq"


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, or of a folder's files (relative names and bytes, sorted)."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(child.relative_to(path).as_posix().encode() + b"\0")
            digest.update(file_digest(child).encode())
        return digest.hexdigest()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def files_digest(paths, root: Path) -> str:
    """SHA-256 over a list of files: their names relative to root and their contents, in order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).relative_to(root).as_posix().encode() + b"\0")
        digest.update(file_digest(path).encode())
    return digest.hexdigest()


def key_of(**parts) -> str:
    """A cache key from named parts (strings, numbers, lists, dicts), independent of their order."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Cache:
    """Entries by kind and key. `enabled=False` (--no-cache) makes every lookup a miss but still stores."""

    def __init__(self, root: Path, enabled: bool = True):
        self.root = Path(root)
        self.enabled = enabled
        self._own: dict[tuple[str, str], Path] = {}  # --no-cache builds kept beside an intact entry

    def placed(self, kind: str, key: str) -> Path:
        """The entry this process last put for (kind, key): the shared one, or with --no-cache and an intact
        entry already in place, this process's own build (a hidden folder beside it, removed at exit)."""
        return self._own.get((kind, key), self.entry(kind, key))

    def entry(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def get(self, kind: str, key: str) -> Path | None:
        """The entry folder when present and intact; a damaged entry is removed and None returned."""
        if not self.enabled:
            return None
        folder = self.entry(kind, key)
        if not folder.is_dir():
            return None
        if self._intact(folder):
            return folder
        self._discard(folder)
        return None

    @staticmethod
    def _discard(folder: Path) -> None:
        """Remove an entry with one rename out of sight first: no reader sees it half-deleted."""
        trash = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
        try:
            os.rename(folder, trash / folder.name)
        except OSError:  # already removed or replaced by another process
            pass
        shutil.rmtree(trash, ignore_errors=True)

    @staticmethod
    def _intact(folder: Path) -> bool:
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
            return all(file_digest(folder / name) == digest for name, digest in manifest["files"].items())
        except (OSError, ValueError, KeyError, TypeError):
            return False

    @contextmanager
    def put(self, kind: str, key: str):
        """Yield a temporary folder to fill; on success it becomes the entry, with its manifest."""
        final = self.entry(kind, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=final.parent))
        try:
            yield building
            files = {p.name: file_digest(p) for p in sorted(building.iterdir()) if p.is_file()}
            (building / MANIFEST).write_text(json.dumps({"kind": kind, "key": key, "files": files}))
            if final.exists():
                if self._intact(final):  # another process put it first: its readers may be reading it
                    if not self.enabled:  # --no-cache: this run uses its own build, the entry stays
                        self._keep_own(kind, key, building)
                    return
                self._discard(final)  # a damaged entry is replaced
            try:
                os.rename(building, final)
            except OSError:  # another process renamed its entry in first
                pass
        finally:
            shutil.rmtree(building, ignore_errors=True)


    def _keep_own(self, kind: str, key: str, building: Path) -> None:
        own = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".own", dir=building.parent))
        os.rename(building, own / "entry")
        self._own[(kind, key)] = own / "entry"
        atexit.register(shutil.rmtree, own, ignore_errors=True)


class Cached:
    """One configuration's artifacts: looked up, built on a miss, logged as "hit" or "built" per artifact."""

    def __init__(self, cache: Cache, log: dict):
        self.cache = cache
        self.log = log  # artifact -> "hit" / "built" / "failed" (results.json `cache`, the summary)

    def get(self, kind: str, key: str, what: str) -> Path | None:
        entry = self.cache.get(kind, key)
        self.log[what] = "hit" if entry else "built"
        return entry

    def get_or_build(self, kind: str, key: str, what: str, build) -> Path:
        """The entry folder; on a miss `build(folder)` fills a temporary folder that becomes the entry.

        An exception from build leaves no entry and is logged as "failed".
        """
        entry = self.get(kind, key, what)
        if entry is not None:
            return entry
        try:
            with self.cache.put(kind, key) as folder:
                build(folder)
        except BaseException:
            self.log[what] = "failed"
            raise
        return self.cache.placed(kind, key)


def deliver(entry: Path, name: str, dest: Path) -> Path:
    """Copy a cached file to its place (output_dir), atomically."""
    from vsq.util import atomic

    with atomic.atomic_path(dest) as tmp:
        shutil.copyfile(entry / name, tmp)
    return dest
