"""The `search` section: candidates written as variants, tried smallest expected file first (vsq.sections.search)."""

from __future__ import annotations

import re
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
    objective: str = schema_default("search", "objective")  # smallest_file, least_imx500_memory


def expanded(items: list) -> tuple[list, list]:
    """The candidates as written, a space replaced by its recipes (each as a variants entry, the fragment to paste):
    {"space": "mixed_precision", "weights_memory": [0.75, 0.5]} -> mct_mixed_precision at 0.5, then at 0.75; and
    per candidate the index it was written at (error messages name that one)."""
    out, where = [], []
    for i, item in enumerate(items):
        if not (isinstance(item, dict) and "space" in item):
            out.append(item)
            where.append(i)
            continue
        for fraction in sorted(item["weights_memory"]):  # the smallest budget is the smallest file
            percent = f"{fraction * 100:g}".replace(".", "_")  # no dot in a name: draws' files use one
            out.append({"name": f"mixed_precision_{percent}", "kind": "mct_mixed_precision",
                        "weights_memory_fraction": fraction})
            where.append(i)
    return out, where


def search(file: Path, data: dict, thresholds) -> Search | None:
    """The section as written, its candidates checked as variants are (one line naming search.candidates.<i>)."""
    if "search" not in data:
        return None
    written, pytorch = dict(data["search"]), "source_pytorch_model" in data
    written["candidates"], where = expanded(written["candidates"])
    variant_names = {variant.name for variant in variants(file, data.get("variants", []), thresholds, pytorch)}
    try:
        candidates = variants(file, written["candidates"], thresholds, pytorch)
    except ConfigError as error:
        key = re.sub(r"^variants\.(\d+)", lambda found: f"variants.{where[int(found[1])]}", error.key or "variants")
        key = key.replace("variants", "search.candidates", 1)
        raise ConfigError(file, key, error.message.replace('"variants"', '"search.candidates"')) from None
    clash = next((candidate.name for candidate in candidates if candidate.name in variant_names), None)
    if clash:
        raise ConfigError(file, "search.candidates", f"{clash!r} is also the name of a variant; give the candidate "
                          "another \"name\"")
    minutes, objective = written.get("max_minutes"), written.get("objective", Search.objective)
    if objective == "least_imx500_memory" and "imx500" not in data:
        raise ConfigError(file, "search.objective", "least_imx500_memory needs the IMX500 converter's figures; add an "
                          "\"imx500\" section, or use \"smallest_file\"")
    return Search(candidates, tuple(written["candidates"]), int(written.get("max_candidates", Search.max_candidates)),
                  None if minutes is None else float(minutes), objective)
