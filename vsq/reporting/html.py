"""The summary section of the HTML report: tables and charts a reviewer reads without other files."""

from __future__ import annotations

from html import escape

from vsq.pipeline.reference import column_roles, heading, model_entry, reference_model
from vsq.reporting import charts
from vsq.reporting.gallery import gallery_html
from vsq.reporting.html_parts import STYLE, img, imx500_cell, kib, top1_cell, verdict_cell


def summary_table(documents: dict[str, dict], gates: dict[str, str]) -> str:
    """One row per configuration: the columns of the terminal table (vsq.reporting.summary) plus Top-5 and file
    sizes; the drop is model_quantized.tflite's against Keras with its paired interval; lines under the
    table where the interval is wider than the threshold (vsq.reporting.summary.notes)."""
    from vsq.pipeline.verdicts import interval_text
    from vsq.reporting.summary import has_imx500, interval_confidence, notes

    confidence, with_imx500, shown = interval_confidence(documents), has_imx500(documents), column_roles(documents)
    sizes = [f"{heading(documents, 'float', 'short')} size" if role == "float" else heading(documents, role, "described")
             for role in shown]
    head = ("configuration", *(f"Top-1 {heading(documents, role, 'label')}" for role in shown),
            f"drop (pp) [{confidence * 100:g}% CI]", "verdict", "Top-5 quantized", *sizes,
            *(("IMX500 memory",) if with_imx500 else ()), "images", "gate")
    rows = []
    for name, doc in documents.items():
        quantized, float_key = model_entry(doc, "quantized"), reference_model(doc, "float").key
        gate = gates.get(name, "FAIL")
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in (
            escape(name),
            *(top1_cell(model_entry(doc, role)) for role in shown),
            interval_text(quantized["paired"][float_key]),
            verdict_cell(quantized.get("decision")),
            f"{quantized['top_5_accuracy']:.4f}",
            *(kib((model_entry(doc, role) or {}).get("file_size_bytes")) for role in shown),
            *((imx500_cell(doc.get("imx500")),) if with_imx500 else ()),
            str(doc["num_images"]),
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


def summary_section(documents: dict[str, dict], gates: dict[str, str], missing: list[str], details: bool = True) -> str:
    """Everything vsq adds to the report's summary: the table and drop chart, the IMX500 chart; with details,
    per configuration its sections' parts, per-class and confusion charts and the flipped images."""
    from vsq.sections import all_sections

    parts = [STYLE, "<h2>vsq: Top-1 accuracy</h2>"]
    if documents:
        parts.append(summary_table(documents, gates))
        parts.append(img(charts.drop_against_threshold(documents), "Top-1 drop against threshold per configuration"))
        parts.append(imx500_part(documents))
    for name in missing:
        parts.append(f'<p class="vsq-fail">{escape(name)}: no results (its evaluation did not finish; see the '
                     "failed tests)</p>")
    for name, doc in documents.items() if details else ():
        parts.append(f"<h3>{escape(name)}</h3>")
        parts += [section.html(name, doc) for section in all_sections() if section.key != "explanation"]
        parts.append(img(charts.per_class_losses(doc), f"{name}: per-class Top-1, float vs quantized"))
        parts.append(img(charts.confusion_heatmap(doc), f"{name}: confusion matrix of the quantized model"))
        parts.append(gallery_html(name, doc))  # the images model_quantized.tflite flipped against Keras
        parts += [section.html(name, doc) for section in all_sections() if section.key == "explanation"]
    return "\n".join(part for part in parts if part)
