"""Content-addressed artifact cache: converted models and evaluation results, keyed by what made them.

An entry is a folder `<root>/<kind>/<key>/` holding its files and a `manifest.json` with the size and
SHA-256 of each file. It is built in a temporary folder and renamed into place, so a reader never sees a
partial entry.

Entries are verified, not trusted: a cache folder may be shared with other jobs, restored from a CI cache or
written by hand. An entry is used only when its manifest (at most 1 MiB) is for that kind and key and lists
exactly the entry's files, each a plain name (no path separator, no `..`), a regular file (not a symbolic link,
a FIFO or a device) of the size the manifest gives and with its SHA-256; with $VSQ_CACHE_KEY set, only when
the manifest is also signed with that key (HMAC-SHA256). Anything else is a miss: the entry is removed and
built again, and the reason is kept for the run's report (Cached.refused). Without a key, whoever can write
the cache can forge an entry with its manifest: keep one cache per trust level (see README, "Security").

Several processes (parallel jobs, pytest-xdist workers, two machines on a shared disk) can fill one
cache at once: an intact entry in place is never modified, replaced or deleted, since another process
may be reading it. When two build the same entry, the first one renamed into place is kept (keys are
content-addressed, so either is right) and the other is dropped; --no-cache builds again and uses its
own build, which goes into the cache only where no intact entry is (a damaged entry is first renamed
out of sight, then deleted).
"""

from __future__ import annotations

import atexit
import errno
import hashlib
import hmac
import json
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

from vsq.util.atomic import open_no_follow

MANIFEST = "manifest.json"
CHUNK = 1 << 20
MAX_MANIFEST_BYTES = 1 << 20
KEY_VARIABLE = "VSQ_CACHE_KEY"


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


def _digest_of(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with open_no_follow(path, size) as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _same(signature, expected: str) -> bool:
    """Whether a manifest's signature is the expected one, compared in constant time as bytes (compare_digest
    raises TypeError on a string that is not ASCII); anything but a string is no signature."""
    if not isinstance(signature, str):
        return False
    return hmac.compare_digest(signature.encode("utf-8", "surrogatepass"), expected.encode())


def _plain_name(name) -> bool:
    return isinstance(name, str) and 0 < len(name) <= 255 and name not in (".", "..", MANIFEST) and \
        not any(character in name for character in "/\\\0")


class Cache:
    """Entries by kind and key. `enabled=False` (--no-cache) makes every lookup a miss but still stores.
    `secret` (default: $VSQ_CACHE_KEY) signs the manifests this process writes and is required of those it reads."""

    def __init__(self, root: Path, enabled: bool = True, secret: bytes | None = None):
        self.root = Path(root)
        self.enabled = enabled
        self.secret = (secret if secret is not None else os.environ.get(KEY_VARIABLE, "").encode()) or None
        self._own: dict[tuple[str, str], Path] = {}  # --no-cache builds kept beside an intact entry
        self.refused: dict[tuple[str, str], str] = {}  # (kind, key) -> why the entry found there was not used

    def placed(self, kind: str, key: str) -> Path:
        """The entry this process last put for (kind, key): the shared one, or with --no-cache and an intact
        entry already in place, this process's own build (a hidden folder beside it, removed at exit)."""
        return self._own.get((kind, key), self.entry(kind, key))

    def entry(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def get(self, kind: str, key: str, needs=(), check=None) -> Path | None:
        """The entry folder when present and verified; otherwise None, and an entry found there is removed with
        the reason kept in `refused`. needs: file names the entry must hold; check(entry) -> a reason or None:
        the caller's own test of the content."""
        if not self.enabled:
            return None
        folder = self.entry(kind, key)
        if not os.path.lexists(folder):
            return None
        problem = self.problem(folder, kind, key, needs)
        if problem is None and check is not None:
            problem = check(folder)
        if problem is None:
            return folder
        self.refused[(kind, key)] = problem
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

    def signature(self, manifest: dict) -> str | None:
        """HMAC-SHA256 of a manifest's kind, key and files with the cache's secret (None without one)."""
        if self.secret is None:
            return None
        signed = json.dumps({name: manifest.get(name) for name in ("kind", "key", "files")}, sort_keys=True)
        return hmac.new(self.secret, signed.encode(), hashlib.sha256).hexdigest()

    def problem(self, folder: Path, kind: str, key: str, needs=()) -> str | None:
        """Why the entry at folder may not be used for (kind, key), or None when it is intact."""
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                return "it is not a folder (a symbolic link or a file)"
            with open_no_follow(folder / MANIFEST) as handle:
                text = handle.read(MAX_MANIFEST_BYTES + 1)
            if len(text) > MAX_MANIFEST_BYTES:
                return f"its manifest is larger than {MAX_MANIFEST_BYTES:,} bytes"
            try:
                manifest = json.loads(text)
            except (ValueError, RecursionError):
                return "its manifest is not JSON"
            return self._manifest_problem(folder, manifest, kind, key, needs)
        except FileNotFoundError as error:
            return f"{Path(error.filename).name if error.filename else 'a file'} is missing"
        except OSError as error:
            name = Path(error.filename).name if error.filename else "a file"
            return f"{name} is a symbolic link" if error.errno == errno.ELOOP else f"{name}: {error.strerror}"
        except ValueError as error:
            return str(error)

    def _manifest_problem(self, folder: Path, manifest, kind: str, key: str, needs) -> str | None:
        files = manifest.get("files") if isinstance(manifest, dict) else None
        if not isinstance(files, dict) or (manifest.get("kind"), manifest.get("key")) != (kind, key):
            return "its manifest is not one of this kind and key"
        if self.secret is not None and not _same(manifest.get("signature"), self.signature(manifest)):
            return f"its manifest is not signed with ${KEY_VARIABLE}"
        for name, listed in files.items():
            if not _plain_name(name):
                return f"its manifest lists {str(name)[:80]!r}, which is not a plain file name"
            if not (isinstance(listed, dict) and isinstance(listed.get("bytes"), int) and listed["bytes"] >= 0
                    and isinstance(listed.get("sha256"), str)):
                return f"its manifest gives no size and digest of {name}"
        present = set(os.listdir(folder)) - {MANIFEST}
        unlisted, missing = sorted(present - set(files)), sorted((set(files) | set(needs)) - present)
        if unlisted:
            return f"it holds {unlisted[0][:80]!r}, which its manifest does not list"
        if missing:
            return f"it lacks {missing[0]}"
        for name, listed in files.items():
            if _digest_of(folder / name, listed["bytes"]) != listed["sha256"]:
                return f"{name} does not match its manifest"
        return None

    @contextmanager
    def put(self, kind: str, key: str):
        """Yield a temporary folder to fill; on success it becomes the entry, with its manifest."""
        final = self.entry(kind, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=final.parent))
        try:
            yield building
            files = {p.name: {"bytes": p.stat().st_size, "sha256": file_digest(p)}
                     for p in sorted(building.iterdir()) if p.is_file()}
            manifest = {"kind": kind, "key": key, "files": files}
            if self.secret is not None:
                manifest["signature"] = self.signature(manifest)
            (building / MANIFEST).write_text(json.dumps(manifest))
            if os.path.lexists(final):
                if self.problem(final, kind, key) is None:  # another process put it first: its readers may read it
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
    """One configuration's artifacts: looked up, built on a miss, logged as "hit" or "built" per artifact, with
    the reason an entry found in the cache was not used."""

    def __init__(self, cache: Cache, log: dict):
        self.cache = cache
        self.log = log  # artifact -> "hit" / "built" / "failed" (results.json `cache`, the summary)
        self.refused: dict[str, str] = {}  # artifact -> why its cache entry was not used (results.json `cache_refused`)

    def get(self, kind: str, key: str, what: str, needs=(), check=None) -> Path | None:
        entry = self.cache.get(kind, key, needs, check)
        self.log[what] = "hit" if entry else "built"
        reason = self.cache.refused.pop((kind, key), None)
        if reason:
            self.refused[what] = reason
        return entry

    def get_or_build(self, kind: str, key: str, what: str, build, needs=(), check=None) -> Path:
        """The entry folder; on a miss `build(folder)` fills a temporary folder that becomes the entry.

        An exception from build leaves no entry and is logged as "failed".
        """
        entry = self.get(kind, key, what, needs, check)
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
    """Copy a cached file to its place (output_dir), atomically; never read through a link."""
    from vsq.util import atomic

    with open_no_follow(entry / name) as source, atomic.atomic_path(dest) as tmp:
        with open(tmp, "wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
    return dest
