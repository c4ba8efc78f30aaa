"""docs/configuration-reference.md, generated from the configuration's JSON Schema (the one place keys, types,
limits, defaults and descriptions are written), so that the page cannot drift from what vsq accepts:
tests/test_docs.py compares the file with `markdown()`. Regenerate with

    python -m vsq.configuration.reference > docs/configuration-reference.md

A required key shows no default (it has none: the file must give it), only the spec's example value.
"""

from __future__ import annotations

import json

from vsq.configuration.file import SOURCE_KEYS, schema

HEADER = """# Configuration reference

<!-- Generated from vsq/configuration/schema/configuration.schema.json by `python -m vsq.configuration.reference`;
tests/test_docs.py fails when this file and the schema differ. Edit the schema, then regenerate. -->

Every key vsq reads, from its JSON Schema. **required**: the file must give it (the spec's keys; and exactly one
of `source_keras_model` and `source_pytorch_model`). The prose, with examples, is [configuration.md](configuration.md).

| key | required | type and limits | default | what it is |
|---|---|---|---|---|
"""


def rows(properties: dict, required=(), prefix: str = "") -> list[tuple]:
    """(key, required, type, default, description) of each key, nested objects and array items included."""
    out = []
    for name, spec in properties.items():
        key = f"{prefix}{name}"
        needed = name in required
        default = "" if needed or "default" not in spec else _code(spec["default"])
        example = f" Example: {_code(spec['examples'][0])}." if needed and spec.get("examples") else ""
        if needed and "default" in spec:
            example = f" Example: {_code(spec['default'])}."
        if key in SOURCE_KEYS:
            needed, default = "one of the two", ""
        out.append((key, "required" if needed is True else needed or "", _type(spec), default,
                    spec.get("description", "") + example))
        if isinstance(spec.get("properties"), dict):
            out += rows(spec["properties"], spec.get("required", ()), f"{key}.")
        items = spec.get("items")
        if isinstance(items, dict) and isinstance(items.get("properties"), dict):
            out += rows(items["properties"], items.get("required", ()), f"{key}[].")
    return out


def _type(spec: dict) -> str:
    if "enum" in spec:
        return "one of " + ", ".join(_code(value) for value in spec["enum"])
    if "oneOf" in spec or "anyOf" in spec:
        return " or ".join(_type(option) for option in spec.get("oneOf", spec.get("anyOf")))
    kind = spec.get("type", "any")
    text = " or ".join(kind) if isinstance(kind, list) else kind
    limits = [f"{word} {spec[name]}" for name, word in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                                        ("maximum", "<="), ("exclusiveMaximum", "<"),
                                                        ("minLength", "length >="), ("maxLength", "length <="),
                                                        ("minItems", "items >="), ("maxItems", "items <="))
              if name in spec]
    return text + (f" ({', '.join(limits)})" if limits else "")


def _code(value) -> str:
    return f"`{json.dumps(value)}`"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown() -> str:
    spec = schema()
    lines = [f"| `{key}` | {needed} | {_cell(kind)} | {_cell(default)} | {_cell(text)} |"
             for key, needed, kind, default, text in rows(spec["properties"], spec.get("required", ()))]
    return HEADER + "\n".join(lines) + "\n" + options_table(spec["$defs"]["recipe_options"])


OPTIONS_HEADER = """
## Recipe options, per kind

A variant's `options` (and the default recipe's, `quantization.options`, which are mct_ptq's) in the tool's own
names, from the schema's `$defs.recipe_options`; any other option is refused before anything is built. The shared
options of the three MCT kinds are listed once, under `mct_ptq`. [variants.md](variants.md) says which defaults
vsq changes and why.

| kind | option | accepts | what it is |
|---|---|---|---|
"""


def options_table(by_kind: dict) -> str:
    """The options each kind takes; an MCT kind lists only what it adds to mct_ptq's."""
    shared = set(by_kind["mct_ptq"])
    lines = []
    for kind, options in by_kind.items():
        own = {name: spec for name, spec in options.items() if kind == "mct_ptq" or name not in shared}
        lines += [f"| `{kind}` | `{name}` | {_cell(_type(spec))} | {_cell(spec.get('description', ''))} |"
                  for name, spec in own.items()]
        if not options:
            lines.append(f"| `{kind}` | none | | |")
    return OPTIONS_HEADER + "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
