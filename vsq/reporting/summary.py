"""The summary of a run, from its results documents: one place for the terminal and `vsq report`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vsq.core.verdicts import images_needed, interval_text
from vsq.reporting.history import format_rows
from vsq.sections import imx500
from vsq.core.check_names import QUANTIZED_DROP_CHECK
from vsq.core.drop_figure import DropFigure
from vsq.core.reference import column_roles, heading, model_entry, reference_model
from vsq.rendering.drops import shared_figure, verdict_of
from vsq.tasks import figure_of
from vsq.util.text import terminal


NO_VERDICT = "no verdict recorded (its pytest run did not finish, or an older vsq wrote the file)"
PER_CLASS_ROWS = 10  # classes of a detector's per-class table in the terminal (all of them: the HTML report)
MAX_MESSAGE = 1000  # characters of a check's message in a reason line (results.json files come from elsewhere)


@dataclass(frozen=True)
class Reason:
    """Why a configuration did not pass, or passed on an INCONCLUSIVE drop: one check that did not pass."""

    configuration: str  # as the tables name it
    check: str  # its name in results.json `checks` (its test is test_<name>); "" when the run recorded no verdict
    verdict: str  # FAIL or INCONCLUSIVE, the verdicts map's word
    passes: bool  # what the gate made of it (an INCONCLUSIVE drop: as thresholds.inconclusive says)
    text: str  # the check's one-sentence message, without the configuration's name it starts with

    @property
    def counted(self) -> str:
        """What the gate made of an INCONCLUSIVE verdict, and the key that says so; "" for FAIL."""
        if self.verdict != "INCONCLUSIVE":
            return ""
        return f"counts as {'pass' if self.passes else 'fail'} (thresholds.inconclusive)"

    @property
    def line(self) -> str:
        """'failing: quantized_top1_above_minimum FAIL: model_quantized.tflite Top-1 0.9400 is below ...'."""
        if not self.check:
            return f"{self.configuration}: {self.text}"
        counted = f", {self.counted}" if self.counted else ""
        return f"{self.configuration}: {self.check} {self.verdict}{counted}: {self.text}"


def reasons(name: str, document: dict) -> list[Reason]:
    """Every check of the document's verdicts map that did not pass or was INCONCLUSIVE, in the map's order,
    with its message; nothing for a configuration whose checks all passed. A document without a gate (an
    interrupted run): one reason saying so. Format 1 documents keep only their failed checks: those."""
    gate = document.get("gate")
    if not isinstance(gate, dict) or gate.get("verdict") not in ("PASS", "FAIL"):
        return [Reason(name, "", "FAIL", False, NO_VERDICT)]
    own = str((document.get("configuration") or {}).get("name", name))
    checks = document.get("checks")
    out = []
    for check, entry in (checks.items() if isinstance(checks, dict) else ()):
        if not isinstance(entry, dict) or (entry.get("verdict") == "PASS" and entry.get("passes") is not False):
            continue
        verdict = "INCONCLUSIVE" if entry.get("verdict") == "INCONCLUSIVE" else "FAIL"
        out.append(Reason(name, str(check), verdict, entry.get("passes") is True,
                          _own_words(entry.get("message"), own, verdict)))
    if not out and gate["verdict"] == "FAIL":  # a gate without the checks it names
        out = [Reason(name, str(failure.get("test", "")), "FAIL", False, _own_words(failure.get("message"), own, "FAIL"))
               for failure in gate.get("failures") or [] if isinstance(failure, dict)]
    return out


def _own_words(message, configuration: str, verdict: str) -> str:
    """The message on one line, without the "<configuration>: " and "INCONCLUSIVE: " the reason line has."""
    text = " ".join(str(message or "no message recorded").split())
    text = text.removeprefix(f"{configuration}: ").removeprefix(f"{verdict}: ")
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"


def interval_confidence(documents: dict[str, dict]) -> float:
    """The confidence level the tables' interval column is headed with: the first configuration's
    (results.json of an older vsq: the schema's default)."""
    from vsq.configuration.file import properties

    default = properties("thresholds")["confidence"]["default"]
    return next((doc["configuration"]["thresholds"].get("confidence", default) for doc in documents.values()), default)


def has_imx500(documents: dict[str, dict]) -> bool:
    """Whether the tables get an IMX500 column."""
    return any("imx500" in doc for doc in documents.values())


def drop_check(doc: dict) -> str:
    """The check that judges the tables' drop: the quantized file's Top-1 drop, or a detector's mAP drop."""
    return figure_of(doc).check


def figure_word(documents: dict[str, dict]) -> str:
    """What the tables' model columns hold: the figure the documents' tasks share (Top-1, mAP@[.5:.95]); Top-1
    when they differ."""
    return shared_figure(documents).word


def drop_verdict(doc: dict) -> str:
    """The tables' verdict on model_quantized.tflite's drop, from the verdicts map alone: its check's word, or
    MEANINGLESS when the task's meaningful-drop check failed (the float model is near chance: drops_are_meaningful,
    a detector's float_map_beats_chance); "" without its check."""
    figure = figure_of(doc)
    if verdict_of(doc, figure.meaningful_check)[0] == "FAIL":
        return "MEANINGLESS"
    return verdict_of(doc, figure.check)[0]


def table_rows(documents: dict[str, dict], verdicts: dict[str, str], missing: list[str] = ()) -> list[tuple]:
    """Header and one row per configuration; `missing`: configurations without results (dashes).

    A column per model role (Keras, TFLite, quantized, q. Keras; PyTorch, quantized (ONNX), q. PyTorch); the drop
    is the quantized file's against the float model with its interval; "verdict" is the decision rule's word
    on it (INCONCLUSIVE shows as such); IMX500 (memory used, percent) when any has it.
    """
    confidence, with_imx500, shown = interval_confidence(documents), has_imx500(documents), column_roles(documents)
    header = ("configuration", *(heading(documents, role) for role in shown), f"drop (pp) [{confidence * 100:g}% CI]",
              "verdict", *(("IMX500",) if with_imx500 else ()), "images", "gate")
    rows = [header]
    for name, doc in documents.items():
        quantized, float_key, figure = model_entry(doc, "quantized"), reference_model(doc, "float").key, figure_of(doc)
        paired = figure.paired(quantized["paired"][float_key])
        rows.append((name, *(_figure(model_entry(doc, role), figure) for role in shown),
                     interval_text(paired), drop_verdict(doc),
                     *((imx500.cell(doc.get("imx500")),) if with_imx500 else ()), str(doc["num_images"]),
                     verdicts.get(name, "FAIL")))
    for name in missing:
        rows.append((name, *("—",) * (len(header) - 2), verdicts.get(name, "FAIL")))
    return rows


def _figure(model: dict | None, figure: DropFigure) -> str:
    """A model's figure: Top-1, or a detector's mAP@[.5:.95] (its run's table is titled so)."""
    value = figure.value(model)
    return "—" if value is None else f"{value:.4f}"


def table(documents: dict[str, dict], verdicts: dict[str, str], missing: list[str] = ()) -> str:
    """The table as aligned text lines."""
    return format_rows(table_rows(documents, verdicts, missing))


def notes(documents: dict[str, dict]) -> list[str]:
    """Lines under the table where the data cannot tell on which side of thresholds.max_top1_drop the
    table's drop (model_quantized.tflite's) is: its interval straddles the threshold."""
    lines = []
    for name, doc in documents.items():
        model = model_entry(doc, "quantized")
        if "decision" not in model:
            continue  # a detector's drops: their check's message says when an interval straddles the threshold
        judged, paired = model["decision"], model["paired"][reference_model(doc, "float").key]
        if not judged.get("undecided") or verdict_of(doc, QUANTIZED_DROP_CHECK)[0] == "INCONCLUSIVE":
            continue  # decided, or its check's INCONCLUSIVE message (a reason line) says the same
        low, high = paired["interval_points"]
        lines.append(
            f"{name}: the {judged['confidence'] * 100:g} % interval of the drop ({low:+.1f} to {high:+.1f} points) "
            f"straddles thresholds.max_top1_drop ({float(judged['max_top1_drop'])} points): {doc['num_images']} "
            f"images cannot tell on which side the drop is; {images_needed(judged, paired)}")
    return lines


def per_class_lines(documents: dict[str, dict], top: int = PER_CLASS_ROWS) -> list[str]:
    """Per detector: its per-class AP@[.5:.95] table (vsq.rendering.per_class_ap), the largest drops first, the
    first `top` classes and a line saying where the others are."""
    from vsq.rendering.per_class_ap import cells, models, rows

    lines = []
    for name, doc in documents.items():
        labels, found = models(doc), rows(doc)
        if labels is None or not found:
            continue
        lines.append(f"{name}: per-class AP@[.5:.95], largest drop first (not gated: {figure_of(doc).check} judges the "
                     "mean)")
        shown = format_rows([("class", f"AP {labels[0]}", f"AP {labels[1]}", "drop (pp)"), *map(cells, found[:top])])
        lines += [f"  {line}" for line in shown.splitlines()]
        if len(found) > top:
            lines.append(f"  {len(found) - top} more classes: the HTML report (vsq report --html) and results.json")
    return lines


def reason_lines(documents: dict[str, dict]) -> list[str]:
    """Why each configuration did not pass (or passed on an INCONCLUSIVE drop): a line per check (reasons)."""
    return [reason.line for name, doc in documents.items() for reason in reasons(name, doc)]


def moved_lines(documents: dict[str, dict], history_files: dict[str, Path | None] | None = None) -> list[str]:
    """What moved since each configuration's previous run (vsq.reporting.trend), from the history.jsonl beside
    its results.json: history_files by configuration, else the file beside the document's own results_file."""
    from vsq.reporting import trend

    lines = []
    for name, doc in documents.items():
        line = trend.moved(name, doc, trend.runs(trend.history_for(name, doc, history_files), doc))
        lines += [line] if line else []
    return lines


def blocks(documents: dict[str, dict], verdicts: dict[str, str], failures: dict[str, str],
           history_files: dict[str, Path | None] | None = None) -> list[tuple[str, list[str]]]:
    """What a run prints at its end, as (title, lines) blocks: the Top-1 table, why each configuration that did
    not pass failed, its notes, what moved since the previous run and where each configuration's results are,
    then the variants table and the sections' lines. failures: configurations whose run gave no results, with
    why. The pytest plugin and `python -m vsq run` print the same (history_files: see moved_lines)."""
    from vsq.sections import all_sections

    missing = [name for name in failures if name not in documents]
    lines = [*table(documents, verdicts, missing).splitlines(), *reason_lines(documents), *notes(documents),
             *per_class_lines(documents), *moved_lines(documents, history_files)]
    for name, doc in documents.items():
        lines.append(f"{name}: results in {doc['results_file']}")
        reused = [what for what, how in doc.get("cache", {}).items() if how == "hit"]
        if reused:
            lines.append(f"{name}: reused from the cache: {', '.join(reused)}; --no-cache builds everything again")
        lines += [f"{name}: the cache entry of {what} was not used ({reason}); built again"
                  for what, reason in doc.get("cache_refused", {}).items()]
    lines += [f"{name}: no results from this run: {' '.join(failures[name].split())}" for name in missing]
    out = [(f"vsq: {shared_figure(documents).title}", lines)]
    section_lines = [line for section in all_sections() for name, doc in documents.items()
                     for line in section.terminal_lines(name, doc)]
    variants = variant_lines(documents)
    if variants:
        title = f"vsq: variants (same images, Top-1 against {heading(documents, 'float', 'label')})"
        out.append((title, variants + section_lines))
    elif section_lines:
        out[0][1].extend(section_lines)
    # Class and file names come from labels.json and the image folders: no escape sequence reaches the terminal.
    return [(title, [terminal(line) for line in lines]) for title, lines in out]


def variant_lines(documents: dict[str, dict]) -> list[str]:
    """The variants table of the documents that compare variants (each drop with its paired interval and verdict);
    none when no document does."""
    from vsq.sections.comparison import table_header, table_rows

    compared = {name: doc for name, doc in documents.items() if doc.get("variants")}
    if not compared:
        return []
    rows = [table_header(interval_confidence(documents))]
    rows += [row for name, doc in compared.items() for row in table_rows(name, doc)]
    return format_rows(rows).splitlines()
