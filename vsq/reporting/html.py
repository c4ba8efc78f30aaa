"""The summary section of the HTML report: tables and charts a reviewer reads without other files."""

from __future__ import annotations

from html import escape

from vsq.core.reference import column_roles, heading, model_entry, reference_model
from vsq.rendering import charts, per_class_ap
from vsq.reporting.detection_gallery import changes_html
from vsq.reporting.gallery import gallery_html
from vsq.core.check_names import IMX500_FITS_CHECK
from vsq.core.drop_figure import MAP, TOP_1
from vsq.rendering.drops import check_entry, figure_words, shared_figure
from vsq.tasks import figure_of
from vsq.rendering.html_parts import STYLE, fraction_or_na, img, imx500_cell, kib, top1_cell, verdict_cell


def summary_table(documents: dict[str, dict], gates: dict[str, str]) -> str:
    """One row per configuration: the columns of the terminal table (vsq.reporting.summary) plus Top-5 and file
    sizes; the drop is model_quantized.tflite's against Keras with its paired interval; lines under the
    table where the interval is wider than the threshold (vsq.reporting.summary.notes)."""
    from vsq.core.verdicts import interval_text
    from vsq.reporting.summary import drop_check, drop_verdict, figure_word, has_imx500, interval_confidence, notes

    confidence, with_imx500, shown = interval_confidence(documents), has_imx500(documents), column_roles(documents)
    sizes = [f"{heading(documents, 'float', 'short')} size" if role == "float" else heading(documents, role, "described")
             for role in shown]
    word = figure_word(documents)
    head = ("configuration", *(f"{word} {heading(documents, role, 'label')}" for role in shown),
            f"drop (pp) [{confidence * 100:g}% CI]", "verdict", "Top-5 quantized", *sizes,
            *(("IMX500 memory",) if with_imx500 else ()), "images", "gate")
    rows = []
    for name, doc in documents.items():
        quantized, float_key, figure = model_entry(doc, "quantized"), reference_model(doc, "float").key, figure_of(doc)
        gate = gates.get(name, "FAIL")
        drop = (interval_text(figure.paired(quantized["paired"][float_key])) if "paired" in quantized else
                f"{doc['top_1_drop_points'][reference_model(doc, 'quantized').key]:+.2f}")
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in (
            escape(name),
            *(top1_cell(model_entry(doc, role), figure) for role in shown),
            drop,
            verdict_cell(check_entry(doc, drop_check(doc)), drop_verdict(doc)),
            fraction_or_na(quantized.get("top_5_accuracy")),
            *(kib((model_entry(doc, role) or {}).get("file_size_bytes")) for role in shown),
            *((imx500_cell(doc.get("imx500"), check_entry(doc, IMX500_FITS_CHECK)),) if with_imx500 else ()),
            escape(str(doc["num_images"])),
            f'<span class="vsq-{gate.lower()}">{gate}</span>',
        )) + "</tr>")
    # Long file names may break after "_" and before "." (a table that fits a laptop screen).
    header = "".join(f"<th>{escape(cell).replace('_', '_<wbr>').replace('.', '<wbr>.')}</th>" for cell in head)
    below = "".join(f'<p class="vsq-note">{escape(line)}</p>' for line in notes(documents))
    return (f'<table class="vsq-summary"><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f"{below}")


def imx500_part(documents: dict[str, dict]) -> str:
    """The IMX500 memory chart of the configurations with an `imx500` section, and a line with the error
    for each whose conversion failed without figures; "" when none has the section."""
    sections = {name: doc["imx500"] for name, doc in documents.items() if doc.get("imx500") is not None}
    if not sections:
        return ""
    parts = ["<h3>IMX500 memory</h3>"]
    png = charts.imx500_memory(documents)
    if png is not None:
        parts.append(img(png, "IMX500 memory used against on-chip memory per configuration"))
    for name, section in sections.items():
        if section.get("memory_usage_bytes") is None:
            parts.append(f'<p class="vsq-fail vsq-imx500-error">{escape(name)}: the IMX500 conversion failed without '
                         f"memory figures: {escape(str(section.get('error')))}</p>")
    return "\n".join(parts)


def reasons_part(documents: dict[str, dict]) -> str:
    """Why each configuration did not pass: a line per check that did not pass or was INCONCLUSIVE, its text
    the terminal's (vsq.reporting.summary.reasons), the verdict in its colour; "" when every check passed."""
    from vsq.reporting.summary import reasons

    lines = []
    for name, doc in documents.items():
        for reason in reasons(name, doc):
            if not reason.check:
                lines.append(f'<p class="vsq-reason">{escape(reason.line)}</p>')
                continue
            counted = f", {escape(reason.counted)}" if reason.counted else ""
            lines.append(f'<p class="vsq-reason">{escape(reason.configuration)}: <code>{escape(reason.check)}</code> '
                         f'<span class="vsq-verdict vsq-{escape(reason.verdict.lower())}">{escape(reason.verdict)}</span>'
                         f"{counted}: {escape(reason.text)}</p>")
    return f'<div class="vsq-reasons"><h3>Checks that did not pass</h3>{"".join(lines)}</div>' if lines else ""


def trend_parts(documents: dict[str, dict], history_files: dict | None,
                with_charts: bool = True) -> tuple[str, dict[str, str]]:
    """What moved since the previous run (lines under the summary) and, per configuration with history, its
    trend chart (vsq.reporting.trend); history_files as vsq.reporting.summary.moved_lines takes them."""
    from vsq.reporting import trend

    lines, charts_by_name = [], {}
    for name, doc in documents.items():
        runs = trend.runs(trend.history_for(name, doc, history_files), doc)
        line = trend.moved(name, doc, runs)
        if line:
            lines.append(f'<p class="vsq-moved">{escape(line)}</p>')
        png = trend.chart(name, doc, runs) if with_charts else None
        if png is not None:
            charts_by_name[name] = img(png, f"{name}: trend of the last {len(runs)} runs")
    return "".join(lines), charts_by_name


def _label_details(name: str, doc: dict, folders) -> list[str]:
    """A classifier's details: per-class Top-1, the confusion matrix, the images flipped against the float model."""
    return [img(charts.per_class_losses(doc), f"{name}: per-class Top-1, float vs quantized"),
            img(charts.confusion_heatmap(doc), f"{name}: confusion matrix of the quantized model"),
            gallery_html(name, doc, folders)]


def _box_details(name: str, doc: dict, folders) -> list[str]:
    """A detector's details: per-class AP, its drops charted, and where the boxes changed, drawn."""
    png = charts.per_class_ap_drops(doc)
    return [per_class_ap.html_table(name, doc), img(png, f"{name}: per-class AP drop, float vs quantized") if png else "",
            changes_html(name, doc, folders)]


DETAILS = {TOP_1: _label_details, MAP: _box_details}  # per figure a task shows (vsq.tasks.figure_of): its details


FOREST_ALT = "Top-1 drop with its interval against the threshold, per configuration and model"


def summary_section(documents: dict[str, dict], gates: dict[str, str], missing: list[str], details: bool = True,
                    history_files: dict | None = None, image_folders: dict | None = None) -> str:
    """Everything vsq adds to the report's summary: the table, why each configuration that did not pass
    failed, what moved since the previous run, the forest plot of drops, the IMX500 chart; with details, per
    configuration its trend chart, its sections' parts, per-class and confusion charts and the flipped images.
    history_files: each configuration's history.jsonl (None: the one beside its document's results_file);
    thumbnails only of the images under image_folders[name] (a results.json names any path it likes)."""
    from vsq.sections import all_sections

    several = len({figure_of(document) for document in documents.values()}) > 1  # "Top-1 / mAP@[.5:.95]"
    parts = [STYLE, f"<h2>vsq: {escape(figure_words(documents) if several else shared_figure(documents).heading)}</h2>"]
    moved, trends = trend_parts(documents, history_files, details) if documents else ("", {})
    if documents:
        parts.append(summary_table(documents, gates))
        parts.append(reasons_part(documents))
        parts.append(moved)
        parts.append(img(charts.drop_forest(documents), FOREST_ALT.replace("Top-1", figure_words(documents))))
        parts.append(imx500_part(documents))
    for name in missing:
        parts.append(f'<p class="vsq-fail">{escape(name)}: no results (its evaluation did not finish; see the '
                     "failed tests)</p>")
    for name, doc in documents.items() if details else ():
        parts.append(f"<h3>{escape(name)}</h3>")
        parts.append(trends.get(name, ""))
        parts += [section.html(name, doc) for section in all_sections() if section.key != "explanation"]
        folders = (image_folders or {}).get(name, ())
        parts += DETAILS[figure_of(doc)](name, doc, folders)
        parts += [section.html(name, doc) for section in all_sections() if section.key == "explanation"]
    return "\n".join(part for part in parts if part)
