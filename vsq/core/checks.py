"""What every check is a function of, and the checks' shared pieces that frameworks reuse.

A check is a function of a run (`Run`: vsq.pipeline.pipeline.Pipeline implements it) that returns a
vsq.core.verdicts.Check. Frameworks declare their export checks with these pieces (vsq.frameworks.*.checks);
they sit here, below the frameworks, so that no framework imports the pipeline.
"""

from __future__ import annotations

from typing import Protocol

from vsq.core.layers import failure_hint
from vsq.core.verdicts import Check, quantized_checks


class Run(Protocol):
    """What a check reads of one configuration's run."""

    name: str  # the configuration's
    config: object  # vsq.configuration.config.Config
    job: object  # vsq.pipeline.job.Job: the configuration, the calibration images, the evaluation set
    framework: object  # vsq.frameworks.Framework: its reference models (roles), its checks
    task: object  # vsq.tasks.base.Task: what the outputs mean and how they are judged
    model_info: object  # vsq.core.model_info.ModelInfo: the float model's interface
    calibration: object  # vsq.data.calibration: the decoded calibration batches
    evaluations: dict  # model name -> its evaluation (the task's: vsq.tasks.base.Evaluation)
    core: dict  # the results document's core: models, figures, paired statistics
    reference_files: dict  # reference model key -> its file in output_dir
    model: object  # the float model, as the framework holds it (loaded when first read)

    def part(self, key: str) -> dict | None:
        """A section's part of the document (built once)."""

    def has_section(self, key: str) -> bool:
        """Whether the run has that section."""

    def section_hint(self, key: str) -> str:
        """What the run's section of that key adds to a failing check's message."""


class Steps(Run, Protocol):
    """What the pipeline's step modules (vsq.pipeline.builds, document, results) read of the run that calls them:
    typed by this protocol rather than by vsq.pipeline.pipeline.Pipeline, so that no module cycle forms."""

    options: object  # vsq.pipeline.options.RunOptions
    cached: object  # vsq.cache.store.Cached
    cache_log: dict  # artifact -> "hit" / "built" / "failed"
    fingerprints: object  # vsq.pipeline.artifacts.Fingerprints
    sections: list  # the run's sections (vsq.sections.base.Section)

    def calibration_draw(self, seed: int):
        """The calibration batches of another seed."""

    def check(self, name: str):
        """The named check's vsq.core.verdicts.Check, computed once."""

    def planned_checks(self) -> list[str]:
        """Every check this run makes, by name."""


def spec_figures(p: Run, document: dict) -> dict:
    figures = {model.spec_key: document[model.spec_key] for model in p.framework.models}
    return {**figures, "num_images": document["num_images"]}


def _explanation_figures(section: dict | None) -> dict:
    """The per-layer explanation's figures, recorded on the quantized models' checks."""
    section = section or {}
    figures = {"explanation_status": section.get("status", "absent")}
    if section.get("status") == "ok":
        figures.update({f"worst_layer_{rank}": name for rank, name in enumerate(section["worst"], 1)})
        figures.update(output_sqnr_db=section["output"]["validation"]["sqnr_db"],
                       explanation_seconds=section["seconds"], explanation_report_dir=section["report_dir"])
    elif section.get("status") == "failed":
        figures["explanation_error"] = section["error"]
    return figures


def quantized(which: int):
    """One of the default model's accuracy checks (vsq.core.verdicts.quantized_checks), with the
    explanation's figures and, when it fails, its worst layers."""
    def run(p: Run, _=None) -> Check:
        document = p.core
        check = quantized_checks(p.name, document, p.config.thresholds)[which]
        explanation = p.part("explanation") if p.has_section("explanation") else None
        figures = {**spec_figures(p, document), **{name: value for name, value in check.figures.items()
                                                   if name != "top_1_accuracy"}}  # recorded under its spec key
        figures.update(_explanation_figures(explanation))
        return Check(check.ok, check.message, figures, check.verdict).with_hint(failure_hint(explanation))

    return run
