"""`python -m vsq report`: one table, HTML report, JUnit file, history and verdict over the results.json
of several runs (the jobs of a CI matrix, other machines).

Each results.json carries its run's verdict in `gate` (written when its pytest run finished); one
without it (an interrupted run) counts as FAIL. The table and the HTML section are the ones the
pytest run makes (vsq.reporting.summary, vsq.reporting.html). No pytest, no TensorFlow.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html import escape
from pathlib import Path

from vsq.util import atomic
from vsq.provenance import flat
from vsq.reporting import history, trend
from vsq.reporting.junit import properties
from vsq.errors import VsqError
from vsq.pipeline import results
from vsq.pipeline.results import RESULTS_FILE
from vsq.reporting.summary import notes, reasons, table, variant_lines
from vsq.util.text import terminal, utf8, xml


class ReportError(VsqError):
    """A path or file `vsq report` cannot use; the message names it and the fix."""


@dataclass
class Run:
    name: str  # the configuration's name, qualified by folder when two runs share it
    path: Path  # its results.json
    document: dict
    merged_history: Path | None = None  # --history's file, once this run's earlier nights are merged into it

    @property
    def gate(self) -> dict | None:
        gate = self.document.get("gate")
        return gate if isinstance(gate, dict) and gate.get("verdict") in ("PASS", "FAIL") else None

    @property
    def verdict(self) -> str:
        return self.gate["verdict"] if self.gate else "FAIL"

    @property
    def failures(self) -> list[str]:
        """Why it did not pass: a line per check that did not pass or was INCONCLUSIVE, in the terminal's words
        (vsq.reporting.summary.reasons), or why there is no verdict."""
        return [reason.line for reason in reasons(self.name, self.document)]

    @property
    def history_file(self) -> Path:
        """The history the trend reads: --history's file once merged (append_history), else the history.jsonl
        beside this results.json (if there; never a path the file names)."""
        return self.merged_history or self.beside

    @property
    def beside(self) -> Path:
        return self.path.parent / history.HISTORY_FILE


def find_results(paths: list[Path]) -> list[Path]:
    """Each path as given (a file), or the results.json files under it (a folder), sorted; no file twice."""
    found, seen = [], set()
    for path in map(Path, paths):
        if path.is_dir():
            files = sorted(path.rglob(RESULTS_FILE))
            if not files:
                raise ReportError(f"{path}: no {RESULTS_FILE} under this folder; give a run's evaluate_result_dir "
                                  "or the folder its CI artifacts were downloaded to")
        elif path.exists() or path.is_symlink():  # a FIFO or a link too: reading it refuses it, naming it
            files = [path]
        else:
            raise ReportError(f"{path}: no such file or folder; give {RESULTS_FILE} files or folders holding them")
        for file in files:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                found.append(file)
    return found


def load(paths: list[Path]) -> list[Run]:
    """The runs of every results.json found under paths, with distinct names; each file checked first
    (vsq.pipeline.results_check): a file that is not a vsq results.json is a ReportError naming it and the key."""
    runs = [_read(file) for file in find_results(paths)]
    _qualify_duplicates(runs)
    return runs


def _read(file: Path) -> Run:
    from vsq.pipeline.results_check import ResultsError

    try:
        document = results.read(file)
    except ResultsError as error:
        raise ReportError(str(error)) from None
    name = document["configuration"]["name"]
    try:
        table({name: document}, {})  # what the summary and the history need is there (the schema says so too)
        history.entry(document)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise ReportError(f"{file}: not a vsq results.json (missing or bad {type(error).__name__}); give the "
                          "results.json a vsq run wrote") from None
    return Run(str(name), file, document)


def _qualify_duplicates(runs: list[Run]) -> None:
    """Runs of configurations with the same name become "name (folder)": the part of their paths that differs."""
    by_name: dict[str, list[Run]] = {}
    for run in runs:
        by_name.setdefault(run.name, []).append(run)
    for name, same in by_name.items():
        if len(same) < 2:
            continue
        parts = [run.path.resolve().parts for run in same]
        start = len(os.path.commonprefix(parts))
        rests = [p[start:] for p in parts]
        end = len(os.path.commonprefix([r[::-1] for r in rests]))
        for run, rest in zip(same, rests):
            run.name = f"{name} ({'/'.join(rest[:len(rest) - end]) or '.'})"


def exit_code(runs: list[Run]) -> int:
    """0 when every configuration passed, 1 when any failed (or recorded no verdict)."""
    return 0 if all(run.verdict == "PASS" for run in runs) else 1


def text(runs: list[Run]) -> str:
    """The summary table, where each figure came from, why each configuration failed and what moved since its
    previous run (the history.jsonl beside its results.json, when there is one)."""
    from vsq.reporting.summary import moved_lines

    documents = {run.name: run.document for run in runs}
    lines = [table(documents, {run.name: run.verdict for run in runs}), *notes(documents), *variant_lines(documents),
             ""]
    for run in runs:
        tests = ", ".join(f"{count} {outcome}" for outcome, count in (run.gate or {}).get("tests", {}).items())
        lines.append(f"{run.name}: {run.verdict} ({tests or 'no tests recorded'}); {run.path} "
                     f"(run {run.document.get('run_id')}, {run.document.get('created')})")
        lines += run.failures + moved_lines({run.name: run.document}, {run.name: run.history_file})
    failed = sum(run.verdict == "FAIL" for run in runs)
    lines.append(f"vsq report: {len(runs)} configuration(s), {failed} failed")
    return "\n".join(terminal(line) for text in lines for line in text.split("\n"))


# The page runs no script and loads nothing: its charts and thumbnails are data: URIs, its style inline.
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def html_page(runs: list[Run], image_folders: dict | None = None) -> str:
    """A standalone page: the pytest-html report's vsq section, then each run's source and failures.
    image_folders: configuration name -> the folders whose images its gallery may embed (none: no thumbnails).
    Every value from a results.json is escaped; the Content-Security-Policy forbids scripts all the same."""
    from vsq.tasks.classification.predictions import per_class_html
    from vsq.provenance import html_section
    from vsq.reporting.html import summary_section

    documents = {run.name: run.document for run in runs}
    histories = {run.name: run.history_file for run in runs}
    rows = "".join(
        f'<tr><td>{escape(run.name)}</td><td><span class="vsq-{run.verdict.lower()}">{run.verdict}</span></td>'
        f"<td>{escape(str(run.path))}</td><td>{escape(str(run.document.get('run_id')))}</td>"
        f"<td>{'<br>'.join(escape(_short(reason)) for reason in reasons(run.name, run.document))}</td></tr>"
        for run in runs)
    summary = summary_section(documents, {run.name: run.verdict for run in runs}, [], history_files=histories,
                              image_folders=image_folders)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}"><title>vsq report</title>'
        "<style>body { font-family: sans-serif; margin: 16px; }</style></head><body>\n"
        f"{summary}\n"
        '<h2>Runs</h2><table class="vsq-summary"><thead><tr><th>configuration</th><th>gate</th>'
        f"<th>results.json</th><th>run id</th><th>checks that did not pass (why: above)</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>\n"
        f"{per_class_html(documents)}{html_section(documents)}"
        "</body></html>\n")


def _short(reason) -> str:
    """A reason in the runs table: its check and verdict (the sentence is in the summary above)."""
    return f"{reason.check} {reason.verdict}" if reason.check else reason.text


def junit_xml(runs: list[Run]) -> bytes:
    """One testcase per configuration (its gate), failed with its failures: for CI test-report viewers."""
    suite = ET.Element("testsuite", name="vsq report", tests=str(len(runs)),
                       failures=str(sum(run.verdict == "FAIL" for run in runs)), errors="0")
    for run in runs:
        case = ET.SubElement(suite, "testcase", classname="vsq.core.verdicts", name=xml(run.name),
                             file=xml(str(run.path)))
        properties(case, flat(run.document.get("provenance")))
        if run.verdict == "FAIL":  # the reason lines: the first as the message, all of them as the text
            failure = ET.SubElement(case, "failure", message=xml(run.failures[0] if run.failures else "FAIL"))
            failure.text = xml("\n".join(run.failures))
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def append_history(runs: list[Run], path: Path, keep: int | None = None) -> int:
    """Merge into the file each run's line and the earlier nights of the history.jsonl beside its results.json
    (named as in the table), skipping runs and configurations already in it; then keep each configuration's last
    `keep` lines (None: all). The runs' trends are drawn from the merged file from then on. Returns how many
    lines were appended."""
    try:
        lines = []
        for run in runs:
            beside = trend.configuration_lines(run.beside, run.document)  # untrusted: each line checked
            lines += [{**line, "configuration": run.name} for line in beside]
            lines.append({**history.entry(run.document), "configuration": run.name})
        appended = history.merge(path, lines)
        if keep is not None:
            history.trim(path, keep)
    except OSError as error:
        raise ReportError(f"{path}: cannot be appended to ({error.strerror}); give a writable history.jsonl") from None
    for run in runs:
        if run.name == run.document["configuration"]["name"]:  # its lines keep the name the trend looks for
            run.merged_history = path
    return appended


def baseline_candidate(runs: list[Run]) -> dict:
    """A baseline file (vsq.sections.baseline) accepting every run's figures, by configuration name: what a
    reviewer commits when tonight's figures should become the baseline. Runs sharing a name, and results of a vsq
    that kept no per-image results (a task whose baselines compare points, a detector's, keeps none), are left out."""
    from vsq.sections import baseline
    from vsq.tasks import figure_of

    named = [run for run in runs if run.name == run.document["configuration"]["name"] and
             ("per_image" in run.document or figure_of(run.document).baseline_unpaired)]
    return {"format": baseline.FORMAT, "configurations": {run.name: baseline.entry(run.document) for run in named}}


def write(dest: Path, data: str | bytes) -> Path:
    try:
        atomic.write_bytes(dest, utf8(data).encode("utf-8") if isinstance(data, str) else data)
    except OSError as error:
        raise ReportError(f"{dest}: cannot be written ({error.strerror}); give a writable path") from None
    return dest
