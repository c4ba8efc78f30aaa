"""results.json: one document per configuration and run, with the verdict of every check, written once.

`finish` assembles it (the core, then each section's part, then the verdicts map and the gate), writes
it atomically and appends its history line; the run keeps it in memory for its table and reports and
never reads it back. `read` is the one reader of files written by any vsq version: it migrates older
formats to the current one, so that renderers need no branches for them.

Formats: 1 (no "format" key) is what vsq wrote before the verdicts map, for Keras models; 2 adds "format",
"framework" and "reference_models" (role -> model key: vsq.core.reference), "checks" (one entry per
check: verdict, passes, figures, and the message of one that did not pass), the gate from those checks
(its failures name the check), and each decision's "undecided".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vsq.pipeline.document import RESULTS_FILE  # noqa: F401 (re-exported: the file's name)
from vsq.core.verdicts import Check, gate
from vsq.util import atomic
from vsq.core.checks import Steps


FORMAT = 2


@dataclass(frozen=True)
class RunResult:
    """What one configuration's run gives a caller: its results document and its checks, by name."""

    name: str
    document: dict
    checks: dict[str, Check]

    @property
    def verdict(self) -> str:
        """The gate: PASS when every check passes."""
        return self.document["gate"]["verdict"]

    @property
    def top1(self) -> dict[str, float]:
        """Top-1 per model: the reference models, then the variants that were built."""
        rows = self.document.get("variants", {}).get("models", {})
        variants = {name: row["top_1_accuracy"] for name, row in rows.items()
                    if not row.get("reference") and row.get("top_1_accuracy") is not None}
        return {**{key: model["top_1_accuracy"] for key, model in self.document["models"].items()}, **variants}

    def flipped(self, model: str | None = None) -> list[dict]:
        """The images `model` (default: the quantized file's model) classified differently from the float model,
        losses first."""
        return self.document["models"][model or self.document["reference_models"]["quantized"]]["flipped"]

    def predictions(self) -> list[dict]:
        """predictions.csv's rows (vsq.tasks.classification.predictions): path, true_class, and each model's class and score per image;
        a list of dicts, for pandas.DataFrame when pandas is installed."""
        from vsq.tasks.classification.predictions import PREDICTIONS_FILE, read

        return read(Path(self.document["results_file"]).parent / PREDICTIONS_FILE)

    def per_class(self) -> list[dict]:
        """One row per class: its name, its images, each reference model's Top-1 on it."""
        from vsq.tasks.classification.predictions import per_class

        return per_class(self.document)

    def failures(self) -> dict[str, str]:
        return {name: check.message for name, check in self.checks.items() if not check.ok}

    def __repr__(self) -> str:
        """One line: the document itself runs to thousands of characters."""
        top1 = ", ".join(f"{model} {value:.4f}" for model, value in self.top1.items())
        return (f"<RunResult {self.name!r} {self.verdict}: Top-1 {top1}; {len(self.failures())} of {len(self.checks)} "
                f"checks failed; {self.document.get('results_file')}>")


def finish(pipeline: Steps) -> RunResult:
    """The whole document of the pipeline's run, its verdicts map and gate; written once, then handed to the run's
    recorders (its history line: vsq.api.run_options)."""
    document = dict(pipeline.core)
    for section in pipeline.sections:
        part = pipeline.part(section.key)
        if part is not None:
            document[section.key] = part
    checks = {name: pipeline.check(name) for name in pipeline.planned_checks()}
    document.update(format=FORMAT, checks={name: check.as_dict() for name, check in checks.items()},
                    gate=gate(checks), cache=dict(pipeline.cache_log))
    if pipeline.cached.refused:  # cache entries found and not used, with why (vsq.cache.store)
        document["cache_refused"] = dict(pipeline.cached.refused)
    write(document)
    pipeline.task.write_records(pipeline, document)  # the per-image file beside it (classification: predictions.csv)
    for record in pipeline.options.recorders:
        record(document)
    return RunResult(pipeline.name, document, checks)


def write(document: dict) -> Path:
    """Write the document to its results_file, atomically (a reader never sees half of it)."""
    dest = Path(document["results_file"])
    atomic.write_json(dest, document)
    return dest


def read(path: Path) -> dict:
    """A results.json of any vsq version, checked (vsq.pipeline.results_check: ResultsError, one line naming the
    file and the key) and in the current format."""
    from vsq.pipeline.results_check import ResultsError, check, load

    document = load(path)
    try:
        migrated = migrate(document)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise ResultsError(path, None, f"cannot be brought to format {FORMAT} ({type(error).__name__})") from None
    check(migrated, path)
    return migrated


def migrate(document: dict) -> dict:
    """A document in the current format. Format 1 gains "format", each decision's "undecided" (from its
    paired counts and threshold) and "checks": the checks its gate says failed, and the verdicts the reports
    read (vsq.core.check_names) from what it recorded. A format-2 document written before the model roles gains
    Keras's, and one written before drops_are_meaningful gains that check from its drop checks' float_near_chance."""
    if document.get("format", 1) < FORMAT:
        document = _from_format_1(document)
    if "reference_models" not in document and document.get("framework", "keras") == "keras":
        from vsq.core.reference import REFERENCE_MODELS, roles  # written before the roles: Keras's

        document = dict(document, reference_models=roles(REFERENCE_MODELS))
    return _with_drops_meaningful(document)


def _from_format_1(document: dict) -> dict:
    from vsq.configuration.config import Thresholds
    from vsq.core.verdicts import decision

    from vsq.core.reference import REFERENCE_MODELS, roles

    out = dict(document, format=FORMAT, framework="keras", reference_models=roles(REFERENCE_MODELS))
    thresholds = Thresholds(**{key: value for key, value in document["configuration"]["thresholds"].items()
                               if key in Thresholds.__dataclass_fields__})
    for model in out["models"].values():
        if "decision" in model and "undecided" not in model["decision"]:
            judged = model["decision"]
            model["decision"] = decision(model["paired"]["keras"], judged["max_top1_drop"], thresholds)
    failures = (document.get("gate") or {}).get("failures") or []
    out["checks"] = {_check_name(failure.get("test", ""), document["configuration"]["name"]): {
        "verdict": "FAIL", "passes": False, "figures": {}, "message": failure.get("message")} for failure in failures}
    if (document.get("gate") or {}).get("verdict") in ("PASS", "FAIL"):  # it names every check that did not pass
        out["checks"] = {**_recorded_verdicts(out), **out["checks"]}
    return out


def _recorded_verdicts(document: dict) -> dict:
    """The verdicts the reports read that a format-1 document recorded outside a verdicts map: each judged drop's
    decision (the reference models' and the variants'), PASS for the float export and the IMX500 fit (its gate
    names every check that did not pass)."""
    from vsq.core.check_names import IMX500_FITS_CHECK, VARIANT_DROP_CHECK, variant_check
    from vsq.core.reference import BY_FILE, BY_KEY

    def entry(judged: dict | None) -> dict:
        if not judged:
            return {"verdict": "PASS", "passes": True, "figures": {}}
        return {"verdict": judged["verdict"], "passes": judged["passes"],
                "figures": {"decision_rule": judged.get("rule"), "confidence": judged.get("confidence")}}

    out = {BY_KEY[key].check: entry(model.get("decision")) for key, model in document["models"].items()
           if key in BY_KEY and BY_KEY[key].check}
    for name, row in ((document.get("variants") or {}).get("models") or {}).items():
        if not row.get("reference") and name not in BY_FILE and not row.get("error"):
            out[variant_check(VARIANT_DROP_CHECK, name)] = entry(row.get("decision"))
    if document.get("imx500"):
        out[IMX500_FITS_CHECK] = entry(None)
    return out


def _with_drops_meaningful(document: dict) -> dict:
    from vsq.core.check_names import DROPS_MEANINGFUL_CHECK

    checks = document.get("checks")
    if not isinstance(checks, dict) or DROPS_MEANINGFUL_CHECK in checks:
        return document
    near = next((entry for entry in checks.values() if isinstance(entry, dict) and isinstance(
        entry.get("figures"), dict) and entry["figures"].get("float_near_chance") is True), None)
    if near is None:
        return document
    return dict(document, checks={**checks, DROPS_MEANINGFUL_CHECK: {
        "verdict": "FAIL", "passes": False, "figures": {"float_near_chance": True}, "message": near.get("message")}})


def _check_name(test: str, configuration: str) -> str:
    """A format-1 gate's failed test as its check's name: 'suites/test_variants.py::test_variant_file_written[c-v]'
    of configuration c -> 'variant_file_written[v]'; '...::test_quantized_top1_above_minimum[c]' -> its base."""
    from vsq.core.verdicts import split_name

    base, item = split_name(test.rsplit("::", 1)[-1].removeprefix("test_"))
    item = None if item in (None, configuration) else item.removeprefix(f"{configuration}-")
    return base if item is None else f"{base}[{item}]"
