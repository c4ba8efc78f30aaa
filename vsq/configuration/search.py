"""The `search` section: candidates written as variants, tried smallest expected file first (vsq.sections.search)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vsq.configuration.recipes import Variant, variants
from vsq.configuration.file import schema_default
from vsq.errors import ConfigError


@dataclass(frozen=True)
class Search:
    candidates: tuple[Variant, ...]
    written: tuple = field(default=(), hash=False, compare=False)  # each candidate as written (the fragment to paste)
    max_candidates: int = schema_default("search", "max_candidates")
    max_minutes: float | None = None  # None: no time budget


def search(file: Path, data: dict, thresholds) -> Search | None:
    """The section as written, its candidates checked as variants are (one line naming search.candidates.<i>)."""
    if "search" not in data:
        return None
    written, pytorch = data["search"], "source_pytorch_model" in data
    variant_names = {variant.name for variant in variants(file, data.get("variants", []), thresholds, pytorch)}
    try:
        candidates = variants(file, written["candidates"], thresholds, pytorch)
    except ConfigError as error:
        key = (error.key or "variants").replace("variants", "search.candidates", 1)
        raise ConfigError(file, key, error.message.replace('"variants"', '"search.candidates"')) from None
    clash = next((candidate.name for candidate in candidates if candidate.name in variant_names), None)
    if clash:
        raise ConfigError(file, "search.candidates", f"{clash!r} is also the name of a variant; give the candidate "
                          "another \"name\"")
    minutes = written.get("max_minutes")
    return Search(candidates, tuple(written["candidates"]), int(written.get("max_candidates", Search.max_candidates)),
                  None if minutes is None else float(minutes))
