"""The configuration file against its JSON Schema: reading it, checking its keys and values, and the defaults.

The schema in vsq/schema is the one place where keys, types, ranges and defaults are written: editors show
its `default`s, and the dataclasses of vsq.configuration.config and vsq.configuration.preprocessing take theirs from it (schema_default).

read_checked() runs the first two steps of vsq.configuration.config's validation, each raising ConfigError(file, key, message):
1. syntax (JSON or YAML), what JSON Schema cannot see (non-finite numbers, YAML anchors, aliases and types,
   deep nesting) and keys: retired and unknown keys at any depth, with a "did you mean";
2. the JSON Schema (types, ranges, enums).

Nothing here imports TensorFlow or numpy: a bad configuration is reported within the spec's 1.2 s.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from dataclasses import field
from functools import lru_cache
from pathlib import Path
from typing import Any

from vsq.errors import ConfigError

SCHEMA_PATH = Path(__file__).parent / "schema" / "configuration.schema.json"

# Dotted key -> why it is gone and what to write instead.
RETIRED_KEYS = {
    "evaluate_ground_truth_file": (
        "was replaced by evaluate_label_file (a labels.json mapping class name to id, with the "
        "evaluation images in one folder per class); remove it and set evaluate_label_file"
    ),
}
# Levels of lists and objects; a configuration needs 6 (the file, variants, a variant, its options, an option
# object such as NNCF's ignored_scope, its lists).
# The bound keeps the parsers and the checks far from Python's recursion limit.
MAX_DEPTH = 10
JSON_TYPES = (dict, list, str, int, float, type(None))  # bool is an int
TYPE_NAMES = ((type(None), "null"), (bool, "a boolean"), (int, "an integer"), (float, "a number"),
              (str, "a string"), (list, "a list"), (dict, "an object"))
NO_ANCHORS = "anchors and aliases are not supported in a configuration: write the values out"


@lru_cache(maxsize=1)
def schema() -> dict:
    """The JSON Schema of the configuration file (also usable by editors)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _object_form(spec: dict) -> dict:
    """The object a value of spec is when it is an object: spec itself, or its object choice (oneOf)."""
    return next((option for option in spec.get("oneOf", ()) if "properties" in option), spec)


def properties(*names: str) -> dict:
    """The properties of the schema object at names: () the file, ("thresholds",), ("variants",) one variant."""
    spec = schema()
    for name in names:
        spec = spec["properties"][name]
        spec = _object_form(spec.get("items", spec))
    return spec["properties"]


def defaults(*names: str) -> dict:
    """Key -> the schema's default, for the keys of the object at names (see properties) that have one."""
    return {key: spec["default"] for key, spec in properties(*names).items() if "default" in spec}


def schema_default(*path: str, **options):
    """A dataclass field whose default is the schema's (None where it has none): path is the object, then the
    key, e.g. schema_default("thresholds", "min_top1"). options go to dataclasses.field."""
    *names, key = path
    value = properties(*names)[key].get("default")
    if isinstance(value, (dict, list)):
        return field(default_factory=lambda: copy.deepcopy(value), **options)
    return field(default=value, **options)


def read_checked(file: Path, data: dict | None = None) -> dict:
    """The file's content, as written, after steps 1 and 2 (see the module's docstring); `data`: a configuration
    given as a dict (vsq.run), checked in the same steps as if `file` held it."""
    data = _read(file) if data is None else data
    _check_values(file, data)
    _check_keys(file, data)
    _check_schema(file, data)
    return data


def _read(file: Path) -> dict:
    if file.is_symlink():
        raise ConfigError(file, None, "is a symbolic link; the spec refuses them: use the file itself")
    if file.is_dir():
        raise ConfigError(file, None, "is a directory; a configuration file is expected: give the file itself, "
                          f"e.g. {file / 'configuration.json'}")
    if file.exists() and not file.is_file():
        raise ConfigError(file, None, "is not a regular file; give the configuration file (.json, .yaml or .yml)")
    if not file.is_file():
        hint = "" if file.suffix else " (give the file, e.g. configuration.json)"
        raise ConfigError(file, None, f"no such file{hint}")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(file, None, f"cannot be read ({error}); save it as UTF-8 text") from None
    parse = _parse_yaml if file.suffix.lower() in (".yaml", ".yml") else _parse_json
    try:
        data = parse(file, text)
    except ValueError as error:
        raise ConfigError(file, None, f"holds a value that cannot be read ({value_error_reason(error)}); write a "
                          "plain number or string there") from None
    if not isinstance(data, dict):
        raise ConfigError(file, None, f"must hold an object of keys and values, not {type_name(data)}")
    return data


def value_error_reason(error: ValueError) -> str:
    """Why a parser could not build a value (an integer beyond Python's 4300 digits, a YAML date like
    2024-13-01), without Python's advice to raise the digit limit."""
    return str(error).split(";")[0]


def _parse_json(file: Path, text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=lambda pairs: _no_duplicates(file, pairs))
    except json.JSONDecodeError as error:
        raise ConfigError(
            file, None, f"is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}; fix the syntax there"
        ) from None
    except RecursionError:  # hundreds of nested brackets
        raise ConfigError(file, None, _too_deep("")) from None


def _no_duplicates(file: Path, pairs: list) -> dict:
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise ConfigError(file, key, "appears twice; keep one")
        seen[key] = value
    return seen


def _parse_yaml(file: Path, text: str) -> Any:
    import yaml  # only YAML users pay for the import

    try:
        _refuse_expansion(file, yaml.parse(text, Loader=yaml.SafeLoader))
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(file, None, f"is not valid YAML: {problem}{where}; fix the syntax there") from None


def _refuse_expansion(file: Path, events) -> None:
    """Refuse, before anything is built, what lets a small YAML file become a huge or deep document.

    Nine anchors of nine aliases each ("billion laughs") expand 1 KB into 10^9 values, and merge keys
    (<<: *base) need aliases too; a configuration needs neither. Parsing events is flat (no recursion).
    """
    import yaml

    depth = 0
    for event in events:
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise ConfigError(file, None, f"uses a YAML alias (*{event.anchor}) at line {line}; {NO_ANCHORS}")
        if getattr(event, "anchor", None):
            raise ConfigError(file, None, f"sets a YAML anchor (&{event.anchor}) at line {line}; {NO_ANCHORS}")
        if isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigError(file, None, _too_deep(f" at line {line}"))


def _too_deep(where: str) -> str:
    return (f"nests lists and objects more than {MAX_DEPTH} levels deep{where}; a configuration needs 6 at most: "
            "remove the extra brackets")


def _check_values(file: Path, value: Any, path: tuple = ()) -> None:
    """Refuse what the JSON Schema lets through: NaN and infinities (its "number" accepts them), YAML-only
    types (dates, binary, sets), keys that are not strings, and deep nesting."""
    key = ".".join(map(str, path)) or None
    if not isinstance(value, JSON_TYPES):
        raise ConfigError(file, key, f"is {type_name(value)}, which a configuration cannot hold; "
                          "write it in quotes as a string, or as a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(file, key, f"{json.dumps(value)} is not a finite number (NaN, Infinity and numbers beyond "
                          "1.8e308 are refused); write a finite number")
    if not isinstance(value, (dict, list)):
        return
    if len(path) >= MAX_DEPTH:
        raise ConfigError(file, str(path[0]), _too_deep(""))
    for name, child in value.items() if isinstance(value, dict) else enumerate(value):
        if isinstance(value, dict) and not isinstance(name, str):
            raise ConfigError(file, key, f"has the key {name!r}, which is {type_name(name)}, not a string; "
                              "put it in quotes")
        _check_values(file, child, (*path, name))


# The model to quantize: the spec's Keras key, or vsq's PyTorch one; exactly one of them.
SOURCE_KEYS = ("source_keras_model", "source_pytorch_model")


def _check_keys(file: Path, data: dict) -> None:
    _check_known(file, data, schema())
    sources = [key for key in SOURCE_KEYS if key in data]
    if len(sources) > 1:
        raise ConfigError(file, "source_pytorch_model", "and source_keras_model are both given; a configuration "
                          "quantizes one model: keep the key of your model's framework")
    if "source_pytorch_model" in data and "pytorch_architecture" not in data:
        raise ConfigError(file, "pytorch_architecture", "is missing: source_pytorch_model holds weights only; add the "
                          "module they go into, e.g. \"pytorch_architecture\": {\"entry_point\": "
                          "\"torchvision.models:mobilenet_v2\", \"arguments\": {\"num_classes\": 4}}")
    missing = [key for key in ([] if sources else ["source_keras_model"]) + schema()["required"] if key not in data]
    if missing:  # every missing key in one message: one run finds them all
        examples = ", ".join(f"\"{key}\": {json.dumps(_example(key))}" for key in missing)
        others = f", and so are {', '.join(missing[1:])}" if len(missing) > 1 else ""
        raise ConfigError(
            file, missing[0], f"is missing{others} (all spec keys are required); add {'them' if others else 'it'}, "
            f"e.g. {examples}" + ("; or source_pytorch_model for a PyTorch model" if "source_keras_model" in missing
                                  else ""))


def _example(key: str):
    default = schema()["properties"][key].get("default")
    return default if default is not None else schema()["properties"][key]["examples"][0]


def _check_known(file: Path, value: Any, spec: dict, path: tuple = ()) -> None:
    """Refuse retired keys and, in every object the schema closes (additionalProperties false), unknown keys:
    the file, its sections, a variant and its thresholds alike. The key named is the unknown key's path."""
    if isinstance(value, list) and "items" in spec:
        for i, item in enumerate(value):
            _check_known(file, item, spec["items"], (*path, i))
        return
    if not isinstance(value, dict):
        return
    spec = _object_form(spec)
    known = spec.get("properties", {})
    for key, child in value.items():
        where = ".".join(map(str, (*path, key)))
        if where in RETIRED_KEYS:
            raise ConfigError(file, where, RETIRED_KEYS[where])
        if key in known:
            _check_known(file, child, known[key], (*path, key))
        elif spec.get("additionalProperties") is False:
            raise ConfigError(file, where, f"unknown key; {_did_you_mean(key, list(known))}")


def _did_you_mean(key, allowed: list) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else f"known keys: {', '.join(allowed)}"


def configuration_name(file: Path, data: dict) -> str:
    """The configuration's name: its "name" (checked by the schema), else its file name under the same rule: a
    name reaches test ids, terminals, JUnit and HTML, and `cfg\\x1b[2J.json` would clear a reviewer's screen."""
    if "name" in data:
        return data["name"]
    spec = properties()["name"]
    if len(file.stem) > spec["maxLength"] or not re.fullmatch(spec["pattern"], file.stem):
        raise ConfigError(file, "name", f"is not given, and the file name {file.stem[:60]!r} cannot be the "
                          f"configuration's name ({spec['errorMessage']}); add \"name\": \"...\" or rename the file")
    return file.stem


def _check_schema(file: Path, data: dict) -> None:
    import jsonschema  # imported here so that `import vsq.configuration.config` stays light

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(e.absolute_path), e.validator))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    key = ".".join(str(part) for part in error.absolute_path) or None
    raise ConfigError(file, key, _explain(error))


def _explain(error) -> str:
    """Turn a jsonschema error into 'bad value; what to write instead'."""
    value = json.dumps(error.instance, ensure_ascii=False)
    spec = error.schema
    kind = error.validator
    if kind == "type":
        wanted = spec["type"] if isinstance(spec["type"], str) else " or ".join(spec["type"])
        return f"{value} is {type_name(error.instance)}; write {'an' if wanted[0] in 'aeiou' else 'a'} {wanted}"
    if kind in ("minimum", "exclusiveMinimum"):
        bound = ">=" if kind == "minimum" else ">"
        return f"{value} is too small; use a value {bound} {error.validator_value}"
    if kind in ("maximum", "exclusiveMaximum"):
        bound = "<=" if kind == "maximum" else "<"
        return f"{value} is too large; use a value {bound} {error.validator_value}"
    if kind == "minLength":
        return "is empty; give a path or value"
    if kind == "enum":
        choices = ", ".join(json.dumps(choice) for choice in error.validator_value)
        return f"{value} is not supported; use one of {choices}"
    if kind == "oneOf" and len(error.absolute_path) == 2 and error.absolute_path[0] == "variants":
        kinds = properties("variants")["kind"]["enum"]
        return f"{value} is not a variant; use one of {', '.join(kinds)}, or an object with \"kind\""
    if kind == "oneOf" and "normalization" in list(error.absolute_path):
        return (f"{value} is not a normalization; use \"[0,1]\", \"[-1,1]\", \"[0,255]\" or "
                "{\"mean\": [r, g, b], \"std\": [r, g, b]} in 0..255 units")
    if kind == "pattern" and "errorMessage" in spec:  # ajv-errors' keyword: the pattern in words
        return f"{value} {spec['errorMessage']}"
    if kind == "pattern":
        return f"{value} is not allowed here; {spec.get('description', 'see the schema')}"
    if kind in ("minItems", "maxItems"):
        return f"{value} must have exactly 3 numbers (R, G, B)"
    if kind == "required":
        return f"{error.message}; add it"
    return f"{value}: {error.message}"


def type_name(value: Any) -> str:
    """'an integer', 'a string', ...; 'a YAML date' for what only YAML can hold (dates, !!binary, sets)."""
    return next((name for kind, name in TYPE_NAMES if isinstance(value, kind)), f"a YAML {type(value).__name__}")
