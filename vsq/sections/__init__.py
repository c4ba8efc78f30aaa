"""Optional capabilities of a run (preprocessing screen, variants, given files, IMX500, per-layer explanation,
baseline): each says whether it applies, builds its part of the results, and keeps its failures to its own checks.

A section is an object with
- key: its part's key in results.json;
- applies(pipeline): whether this configuration's run has it (no heavy work: collection time);
- targets(pipeline): extra models for the run's one evaluation pass (vsq.pipeline.pipeline.Target);
- build(pipeline): its part of the document (None: nothing to add), built once, after the core;
- checks: its CheckSpecs (vsq.core.verdicts), asserted by the suites like the core checks;
- html(name, document) and terminal_lines(name, document): how the reports show its part, from a
  results document alone (so `python -m vsq report` shows it too).
Sections are built in all_sections()' order: a later one may read an earlier one's part.
"""

from __future__ import annotations

from vsq.sections.base import Section


def all_sections() -> tuple[Section, ...]:
    """Every section, in the order they are built and shown."""
    from vsq.sections.baseline import BASELINE
    from vsq.sections.calibrations import CALIBRATIONS
    from vsq.sections.explanation import EXPLANATION
    from vsq.sections.given import GIVEN
    from vsq.sections.imx500 import IMX500
    from vsq.sections.screen import SCREEN
    from vsq.sections.search import SEARCH
    from vsq.sections.variants import VARIANTS

    return SCREEN, VARIANTS, GIVEN, CALIBRATIONS, SEARCH, IMX500, EXPLANATION, BASELINE

