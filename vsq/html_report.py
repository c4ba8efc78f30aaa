"""The summary section of the HTML report: tables and charts a reviewer reads without other files."""

from __future__ import annotations

import base64
from html import escape

from vsq import charts
from vsq.reference import KEYS as MODELS


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="vsq-chart" alt="{escape(alt)}" src="data:image/png;base64,{data}"/>'


def _kib(size: int | None) -> str:
    return "—" if size is None else f"{size / 1024:,.1f} KiB"


def summary_table(documents: dict[str, dict], gates: dict[str, str]) -> str:
    head = ("configuration", "Top-1 Keras", "Top-1 float TFLite", "Top-1 quantized", "drop (pp)",
            "Top-5 quantized", "Keras size", "model.tflite", "model_quantized.tflite", "images", "gate")
    rows = []
    for name, doc in documents.items():
        models = doc["models"]
        gate = gates.get(name, "FAIL")
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in (
            escape(name),
            *(f"{models[m]['top_1_accuracy']:.4f}" for m in MODELS),
            f"{doc['top_1_drop_points']['tflite_quantized']:+.2f}",
            f"{models['tflite_quantized']['top_5_accuracy']:.4f}",
            *(_kib(models[m]["file_size_bytes"]) for m in MODELS),
            str(doc["num_images"]),
            f'<span class="vsq-{gate.lower()}">{gate}</span>',
        )) + "</tr>")
    header = "".join(f"<th>{escape(cell)}</th>" for cell in head)
    return f'<table class="vsq-summary"><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


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
</style>"""


def summary_section(documents: dict[str, dict], gates: dict[str, str], missing: list[str]) -> str:
    """Everything vsq adds to the report's summary: tables, drop chart, per-class and confusion charts."""
    parts = [STYLE, "<h2>vsq: Top-1 accuracy</h2>"]
    if documents:
        parts.append(summary_table(documents, gates))
        parts.append(_img(charts.drop_against_threshold(documents), "Top-1 drop against threshold per configuration"))
    for name in missing:
        parts.append(f'<p class="vsq-fail">{escape(name)}: no results (its evaluation did not finish; see the '
                     "failed tests)</p>")
    for name, doc in documents.items():
        parts.append(f"<h3>{escape(name)}</h3>")
        parts.append(variants_table(doc))
        parts.append(_img(charts.per_class_losses(doc), f"{name}: per-class Top-1, float vs quantized"))
        parts.append(_img(charts.confusion_heatmap(doc), f"{name}: confusion matrix of the quantized model"))
    return "\n".join(parts)
