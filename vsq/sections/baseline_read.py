"""Reading an accepted baseline entry as untrusted input: the file may have been edited by hand, merged badly or
written by a stranger. Every figure is a finite number in [0, 1] (not a boolean: JSON's true would read as 1.0, a
false drop of tens of points) or null (no figure), the entry and its figures are objects, and the per-image record
is one vsq wrote; anything else is one line naming the file, the configuration entry, the key and the fix.
"""

from __future__ import annotations

import base64
import binascii
import math
from pathlib import Path

from vsq.errors import VsqError

FIX = "accept again with --accept-baseline (or restore the file's .previous copy)"


def checked(path: Path, name: str, found, key: str) -> dict | None:
    """`found`, the entry accepted for configuration `name` in the baseline file at `path`, checked: its figures
    under `key` ("top_1", a detector's "map_50_95"), its per-image record and when it was accepted; None stays None."""
    if found is None:
        return None
    where = f"{path}: configurations.{_shown(name)}"
    if not isinstance(found, dict):
        raise VsqError(f"{where} is a {_kind(found)}, not an object; {FIX}")
    kept = found.get(key)
    if kept is not None and not isinstance(kept, dict):
        raise VsqError(f"{where}.{key} is a {_kind(kept)}, not an object of figures per model; {FIX}")
    for model, value in (kept or {}).items():
        if value is not None and not _fraction(value):
            raise VsqError(f"{where}.{key}.{_shown(model)} is {_shown(value)}, not a number from 0 to 1; {FIX}")
    when = found.get("accepted")
    if when is not None and not (isinstance(when, str) and len(when) <= 64 and when.isprintable()):
        raise VsqError(f"{where}.accepted is {_shown(when)}, not the time it was accepted; {FIX}")
    if "per_image" in found and not _record(found["per_image"]):
        raise VsqError(f"{where}.per_image is not a per-image record vsq wrote; {FIX}")
    return found


def _fraction(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= 1


def _record(section) -> bool:
    """A per-image record as vsq.statistics.per_image.record writes it: ids and bits that decode, of its count."""
    if not (isinstance(section, dict) and isinstance(section.get("ids"), str) and isinstance(section.get("correct"), dict)
            and all(isinstance(section.get(k), int) and not isinstance(section.get(k), bool) for k in ("count", "id_bytes"))
            and all(isinstance(bits, str) for bits in section["correct"].values())):
        return False
    size, count = section["id_bytes"], section["count"]
    try:
        ids = base64.b64decode(section["ids"], validate=True)
        bits = [base64.b64decode(packed, validate=True) for packed in section["correct"].values()]
    except (ValueError, binascii.Error):
        return False
    return size >= 1 and count >= 0 and len(ids) == count * size and all(len(b) == (count + 7) // 8 for b in bits)


def _kind(value) -> str:
    return {list: "list", str: "string", bool: "boolean", int: "number", float: "number"}.get(type(value), "value")


def _shown(value) -> str:
    """A key or value as the message shows it: one bounded line, whatever the file holds."""
    import json

    text = value if isinstance(value, str) else json.dumps(value)
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= 40 else text[:37] + "..."
