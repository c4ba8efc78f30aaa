"""results.json from elsewhere, checked before anything reads it: the file `python -m vsq report` combines comes
from other CI jobs' artifacts, and whoever can write an artifact can write any bytes into it.

A file is read when it is at most MAX_BYTES, UTF-8 JSON without Infinity or NaN, every value within the
limits below (depth, finite numbers, sizes of strings, lists and objects: a walk in Python, five times faster
than the same limits as a recursive JSON Schema) and valid against schema/results.schema.json (formats 1 and 2:
the type and range of every key the reports render). Anything else is ResultsError: one line naming the file,
the key and what is wrong with it, never a traceback. Strings are not cleaned here: each renderer makes them
safe for its medium (HTML escaping, vsq.util.text for terminals, XML and chart labels).
"""

from __future__ import annotations

import errno
import json
import math
from functools import lru_cache
from pathlib import Path

from vsq.errors import VsqError
from vsq.util.atomic import open_no_follow

SCHEMA_PATH = Path(__file__).parent / "schema" / "results.schema.json"
MAX_BYTES = 64 << 20  # a run on 50,000 images writes a few MB; the cap bounds the memory a forged file takes
MAX_DEPTH = 32  # levels of objects and lists; vsq writes at most 15 (a configuration may nest 10)
MAX_STRING, MAX_ITEMS, MAX_KEYS, MAX_KEY_LENGTH = 1 << 16, 1_000_000, 100_000, 1024
MAX_INTEGER = 1 << 63  # Python reads any integer; one that no float holds fails every format
FIX = "give the results.json a vsq run wrote"


class ResultsError(VsqError):
    """A results.json that cannot be used: "<file>: <key>: <what is wrong>; give the results.json a vsq run wrote"."""

    def __init__(self, file, key: str | None, problem: str):
        super().__init__(f"{file}: {key + ': ' if key else ''}{problem}; {FIX}")


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def load(path: Path) -> dict:
    """The document of a results.json file, checked (raises ResultsError)."""
    path = Path(path)
    try:
        with open_no_follow(path) as handle:  # a link could show another file's start in the error; a FIFO hangs
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        why = "is a symbolic link; give the file itself" if error.errno == errno.ELOOP else \
            f"cannot be read ({error.strerror})"
        raise ResultsError(path, None, why) from None
    except ValueError:
        raise ResultsError(path, None, "is not a regular file (a FIFO or a device); give a results.json file") from None
    if len(data) > MAX_BYTES:
        raise ResultsError(path, None, f"is larger than {MAX_BYTES >> 20} MiB")
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ResultsError(path, None, "is not UTF-8 text") from None
    except RecursionError:
        raise ResultsError(path, None, f"is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as error:
        raise ResultsError(path, None, f"is not JSON ({str(error)[:200]})") from None
    check(document, path)
    return document


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def check(document, file) -> None:
    """Raise ResultsError when the document is nested too deeply or does not match the schema."""
    from jsonschema.exceptions import best_match

    _check_limits(document, file)
    error = best_match(_validator().iter_errors(document))
    if error is not None:
        raise ResultsError(file, key_of(error.absolute_path), _problem(error))


def _check_limits(document, file) -> None:
    """Every value within the limits: depth, finite numbers, sizes of strings, lists, objects and keys."""
    stack = [(document, 1, ())]
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            raise ResultsError(file, key_of(where), f"is nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            if len(value) > MAX_KEYS:
                raise ResultsError(file, key_of(where), f"has more than {MAX_KEYS:,} keys")
            for key, item in value.items():
                if len(key) > MAX_KEY_LENGTH:
                    raise ResultsError(file, key_of(where), f"has a key longer than {MAX_KEY_LENGTH:,} characters")
                stack.append((item, depth + 1, (*where, key)))
        elif isinstance(value, list):
            if len(value) > MAX_ITEMS:
                raise ResultsError(file, key_of(where), f"has more than {MAX_ITEMS:,} items")
            stack += [(item, depth + 1, (*where, index)) for index, item in enumerate(value)]
        elif isinstance(value, str) and len(value) > MAX_STRING:
            raise ResultsError(file, key_of(where), f"is a string longer than {MAX_STRING:,} characters")
        elif isinstance(value, float) and not math.isfinite(value) or \
                isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
            raise ResultsError(file, key_of(where), "is not a finite number")


def key_of(path) -> str | None:
    """'models.tflite_quantized.flipped[0].path' for the path of a value in the document; None for the whole."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f"{'.' if text else ''}{_printable(str(part))}"
    return text or None


def _problem(error) -> str:
    """What is wrong with the value, in words (jsonschema's message repeats the value, which may be anything)."""
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = next((key for key in expected if key not in value), expected[0]) if isinstance(value, dict) else "?"
        return f"lacks the key {_printable(str(missing))}"
    if kind == "type":
        return f"is {_json_type(value)}, not {' or '.join(expected) if isinstance(expected, list) else expected}"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            return "is not a finite number"
        return f"is {value:g}, out of its range ({kind} {expected:g})"
    if kind in ("enum", "const"):
        allowed = expected if isinstance(expected, list) else [expected]
        return f"is not one of {', '.join(json.dumps(item) for item in allowed)}"
    if kind in ("maxLength", "minLength", "maxItems", "minItems", "maxProperties"):
        return f"breaks its {kind} of {expected:,}"
    if kind == "propertyNames":
        return "has a key longer than 1024 characters"
    return _printable(error.message)[:200]


def _json_type(value) -> str:
    for kind, name in ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
                       (list, "a list"), (dict, "an object"), (type(None), "null")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _printable(text: str) -> str:
    from vsq.util.text import terminal

    return terminal(text)
