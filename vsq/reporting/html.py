"""The summary section of the HTML report: tables and charts a reviewer reads without other files."""

from __future__ import annotations

import base64
from html import escape

from vsq.reporting import charts, explain_chart
from vsq.reporting.gallery import gallery_html
from vsq.pipeline.reference import KEYS as MODELS


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="vsq-chart" alt="{escape(alt)}" src="data:image/png;base64,{data}"/>'


def _kib(size: int | None) -> str:
    return "—" if size is None else f"{size / 1024:,.1f} KiB"


def _top1_cell(model: dict | None) -> str:
    """'0.9400' over its interval '[0.898, 0.965]' (Wilson, fractions)."""
    if not model:
        return "—"
    interval = model.get("top_1_interval")
    low_high = f'<br><span class="vsq-ci">[{interval[0]:.3f}, {interval[1]:.3f}]</span>' if interval else ""
    return f"{model['top_1_accuracy']:.4f}{low_high}"


def _verdict_cell(decision: dict | None) -> str:
    """The decision rule's word on the drop: PASS, FAIL or INCONCLUSIVE, each styled on its own."""
    if not decision:
        return "—"
    verdict = decision["verdict"]
    note = f"rule {decision['rule']} at {decision['confidence'] * 100:g} %"
    if verdict == "INCONCLUSIVE":
        note += f"; counts as {'pass' if decision['passes'] else 'fail'}"
    return f'<span class="vsq-verdict vsq-{escape(verdict.lower())}" title="{escape(note)}">{escape(verdict)}</span>'


def _imx500_cell(section: dict | None) -> str:
    """Memory utilization on the IMX500, as the terminal table shows it; the error when it has no figure."""
    if section is None:
        return "—"
    if section.get("utilization_percent") is None:
        return f'<span class="vsq-fail" title="{escape(str(section.get("error")))}">error</span>'
    over = not section.get("fits") or section["utilization_percent"] > section.get("max_memory_utilization", 100)
    text = f"{section['utilization_percent']:g} %" + ("" if section.get("fits") else " (no fit)")
    return f'<span class="vsq-fail">{text}</span>' if over else text


def summary_table(documents: dict[str, dict], gates: dict[str, str]) -> str:
    """One row per configuration: the columns of the terminal table (vsq.reporting.summary) plus Top-5 and file
    sizes; the drop is model_quantized.tflite's against Keras with its paired interval; lines under the
    table where the interval is wider than the threshold (vsq.reporting.summary.notes)."""
    from vsq.pipeline.verdicts import interval_text
    from vsq.reporting.summary import has_imx500, interval_confidence, notes

    confidence, with_imx500 = interval_confidence(documents), has_imx500(documents)
    head = ("configuration", "Top-1 Keras", "Top-1 float TFLite", "Top-1 quantized TFLite", "Top-1 quantized Keras",
            f"drop (pp) [{confidence * 100:g}% CI]", "verdict", "Top-5 quantized", "Keras size", "model.tflite",
            "model_quantized.tflite", "model_quantized.keras", *(("IMX500 memory",) if with_imx500 else ()),
            "images", "gate")
    rows = []
    for name, doc in documents.items():
        models = doc["models"]
        quantized = models["tflite_quantized"]
        gate = gates.get(name, "FAIL")
        drop = (interval_text(quantized["paired"]["keras"]) if "paired" in quantized else
                f"{doc['top_1_drop_points']['tflite_quantized']:+.2f}")
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in (
            escape(name),
            *(_top1_cell(models.get(m)) for m in MODELS),
            drop,
            _verdict_cell(quantized.get("decision")),
            f"{quantized['top_5_accuracy']:.4f}",
            *(_kib(models[m].get("file_size_bytes")) if m in models else "—" for m in MODELS),
            *((_imx500_cell(doc.get("imx500")),) if with_imx500 else ()),
            str(doc["num_images"]),
            f'<span class="vsq-{gate.lower()}">{gate}</span>',
        )) + "</tr>")
    # Long file names may break after "_" and before "." (a table that fits a laptop screen).
    header = "".join(f"<th>{escape(cell).replace('_', '_<wbr>').replace('.', '<wbr>.')}</th>" for cell in head)
    try:
        lines = notes(documents)
    except KeyError:  # documents of an older vsq, without the paired statistics
        lines = []
    below = "".join(f'<p class="vsq-note">{escape(line)}</p>' for line in lines)
    return (f'<table class="vsq-summary"><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f"{below}")


def variants_table(doc: dict) -> str:
    table = doc.get("variants", {}).get("models")
    if not table:
        return ""
    recommended = doc["variants"].get("recommended")
    rows = []
    for name, row in sorted(table.items(), key=lambda item: -(item[1].get("top_1_accuracy") or -1)):
        mark = " ★ recommended" if name == recommended else ""
        if row.get("error"):
            cells = (escape(name), "failed", "", "", "", "", escape(row["error"][:200]))
        else:
            status = ("reference" if "within_threshold" not in row else
                      "within threshold" if row["within_threshold"] else "over threshold")
            cells = (escape(name) + mark, f"{row['top_1_accuracy']:.4f}", f"{row['top_1_drop_points']:+.2f}",
                     f"{row.get('agreement_with_keras', 0):.4f}", _kib(row.get("file_size_bytes")),
                     f"{row.get('latency_ms_per_image', 0):.3f}", status)
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("variant", "Top-1", "drop (pp)", "agreement", "size",
                                             "latency (ms/img)", "status"))
    return f'<table class="vsq-variants"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


STYLE = """<style>
.vsq-summary, .vsq-variants { border-collapse: collapse; margin: 8px 0 16px; }
.vsq-summary td, .vsq-summary th, .vsq-variants td, .vsq-variants th { border: 1px solid #ccc; padding: 3px 8px; }
.vsq-pass { color: #1a7f37; font-weight: bold; } .vsq-fail { color: #cf222e; font-weight: bold; }
.vsq-chart { display: block; margin: 8px 0; max-width: 100%; }
.vsq-summary td { vertical-align: top; white-space: nowrap; } .vsq-ci { color: #57606a; font-size: 85%; }
.vsq-verdict { padding: 0 4px; border-radius: 3px; }
.vsq-inconclusive { color: #7d4e00; background: #fff8c5; font-weight: bold; border: 1px solid #d4a72c; }
.vsq-note { color: #57606a; margin: 2px 0; }
.vsq-gallery { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 16px; }
.vsq-flip { margin: 0; width: 120px; font-size: 75%; border: 1px solid #ccc; padding: 4px; }
.vsq-flip.vsq-loss { border-color: #cf222e; } .vsq-flip.vsq-gain { border-color: #1a7f37; }
.vsq-thumb { display: block; width: 96px; height: 96px; object-fit: contain; margin: 0 auto 4px; }
.vsq-missing { background: #f6f8fa; color: #57606a; text-align: center; font-size: 90%; }
.vsq-kind { font-weight: bold; }
</style>"""


def imx500_part(documents: dict[str, dict]) -> str:
    """The IMX500 memory chart of the configurations with an `imx500` section, and a line with the error
    for each whose conversion failed without figures; "" when none has the section."""
    sections = {name: doc["imx500"] for name, doc in documents.items() if doc.get("imx500") is not None}
    if not sections:
        return ""
    parts = ["<h3>IMX500 memory</h3>"]
    png = charts.imx500_memory(documents)
    if png is not None:
        parts.append(_img(png, "IMX500 memory used against on-chip memory per configuration"))
    for name, section in sections.items():
        if section.get("memory_usage_bytes") is None:
            parts.append(f'<p class="vsq-fail vsq-imx500-error">{escape(name)}: the IMX500 conversion failed without '
                         f"memory figures: {escape(str(section.get('error')))}</p>")
    return "\n".join(parts)


def summary_section(documents: dict[str, dict], gates: dict[str, str], missing: list[str]) -> str:
    """Everything vsq adds to the report's summary: tables, drop chart, per-class and confusion charts."""
    parts = [STYLE, "<h2>vsq: Top-1 accuracy</h2>"]
    if documents:
        parts.append(summary_table(documents, gates))
        parts.append(_img(charts.drop_against_threshold(documents), "Top-1 drop against threshold per configuration"))
        parts.append(imx500_part(documents))
    for name in missing:
        parts.append(f'<p class="vsq-fail">{escape(name)}: no results (its evaluation did not finish; see the '
                     "failed tests)</p>")
    for name, doc in documents.items():
        parts.append(f"<h3>{escape(name)}</h3>")
        parts.append(variants_table(doc))
        parts.append(_img(charts.per_class_losses(doc), f"{name}: per-class Top-1, float vs quantized"))
        parts.append(_img(charts.confusion_heatmap(doc), f"{name}: confusion matrix of the quantized model"))
        parts.append(gallery_html(name, doc))  # the images model_quantized.tflite flipped against Keras
        parts.append(explain_chart.html_part(name, doc))  # per-layer SQNR chart (results.json `explanation`)
    return "\n".join(parts)
