"""Pieces of vsq's HTML shared by the report's sections: the style, embedded charts, table cells, the
variants table. Every value from a results document goes through html.escape or a number format."""

from __future__ import annotations

import base64
from html import escape

from vsq.core.drop_figure import TOP_1, DropFigure


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
.vsq-reasons { margin: 4px 0 12px; } .vsq-reasons h3 { margin: 4px 0; }
.vsq-reason { margin: 2px 0; } .vsq-reason code { font-weight: bold; } .vsq-moved { margin: 2px 0; }
</style>"""



def img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="vsq-chart" alt="{escape(alt)}" src="data:image/png;base64,{data}"/>'


def kib(size: int | None) -> str:
    return "—" if size is None else f"{size / 1024:,.1f} KiB"


def fraction_or_na(value: float | None) -> str:
    """'0.9400', or 'n/a' where the figure does not apply (Top-5 with 5 classes or fewer)."""
    return "n/a" if value is None else f"{value:.4f}"


def top1_cell(model: dict | None, figure: DropFigure = TOP_1) -> str:
    """'0.9400' over its interval '[0.898, 0.965]' (Wilson, fractions); `figure`: the model's figure the cell shows
    (a detector's mAP@[.5:.95], vsq.tasks.figure_of)."""
    value = figure.value(model)
    if value is None:
        return "—"
    interval = model.get("top_1_interval")
    low_high = f'<br><span class="vsq-ci">[{interval[0]:.3f}, {interval[1]:.3f}]</span>' if interval else ""
    return f"{value:.4f}{low_high}"


def verdict_cell(entry: dict | None, word: str | None = None) -> str:
    """A drop's verdict as its check in `checks` says it (vsq.rendering.drops.check_entry): PASS, FAIL or
    INCONCLUSIVE, each styled on its own, the rule and what the gate made of it in its title; `word` overrides it
    (MEANINGLESS: drops_are_meaningful failed, vsq.reporting.summary.drop_verdict); "—" without the check."""
    if not entry:
        return "—"
    verdict, figures = word or entry["verdict"], entry.get("figures") if isinstance(entry.get("figures"), dict) else {}
    if verdict == "MEANINGLESS":
        return ('<span class="vsq-verdict vsq-fail" title="the float model is near chance: the drop says nothing about '
                'quantization">MEANINGLESS</span>')
    confidence = figures.get("confidence")
    notes = [f"rule {figures.get('decision_rule')}" + (f" at {confidence * 100:g} %" if isinstance(
        confidence, (int, float)) else "")] if figures.get("decision_rule") else []
    if verdict == "INCONCLUSIVE":
        notes.append(f"counts as {'pass' if entry.get('passes') else 'fail'}")
    title = f' title="{escape("; ".join(notes))}"' if notes else ""
    return f'<span class="vsq-verdict vsq-{escape(verdict.lower())}"{title}>{escape(verdict)}</span>'


def cell(part: dict | None) -> str:
    """The tables' IMX500 cell: memory used in percent, "(no fit)", "error" without figures, "—" without the section."""
    if part is None:
        return "—"
    if part.get("utilization_percent") is None:
        return "error"
    return f"{part['utilization_percent']:g} %" + ("" if part.get("fits") else " (no fit)")


def imx500_cell(section: dict | None, fits: dict | None = None) -> str:
    """Memory utilization on the IMX500, as the terminal table shows it, red when its check (fits: the entry of
    imx500_fits_in_memory in `checks`) did not pass: it does not fit or is over max_memory_utilization; the
    converter's error as the title when it has no figure."""
    if section is None or (fits or {}).get("verdict") == "PASS":
        return escape(cell(section))
    title = f' title="{escape(str(section.get("error")))}"' if section.get("utilization_percent") is None else ""
    return f'<span class="vsq-fail"{title}>{escape(cell(section))}</span>'


def variants_table(doc: dict) -> str:
    """Every quantized file of the configuration, best Top-1 first: its drop with the paired interval and the
    verdict of its check (`checks`) in the columns and words of the summary table."""
    from vsq.core.verdicts import interval_text
    from vsq.rendering.drops import check_entry, row_check, with_paired
    from vsq.rendering.parity_text import agreement_text, parity_text

    table = doc.get("variants", {}).get("models")
    if not table:
        return ""
    recommended = doc["variants"].get("recommended")
    rows = []
    for name, row in sorted(table.items(), key=lambda item: -(item[1].get("top_1_accuracy") or -1)):
        mark = " ★ recommended" if name == recommended else ""
        device = escape(row.get("device", ""))
        if row.get("error"):
            cells = (escape(name), device, "failed", "", "", "", "", "", "", escape(row["error"][:200]))
        else:
            status = ("reference" if "within_threshold" not in row else
                      "within threshold" if row["within_threshold"] else "over threshold")
            paired = next(iter((with_paired(name, row, doc.get("models")).get("paired") or {}).values()), None)
            drop = interval_text(paired) if paired else f"{row['top_1_drop_points']:+.2f}"
            cells = (escape(name) + mark, device, f"{row['top_1_accuracy']:.4f}", drop,
                     verdict_cell(check_entry(doc, row_check(name, row))), escape(agreement_text(row)),
                     escape(parity_text(row)),
                     kib(row.get("file_size_bytes")), f"{row.get('latency_ms_per_image', 0):.3f}", status)
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    confidence = next((paired.get("confidence") for row in table.values()
                       for paired in (row.get("paired") or {}).values()), None)
    interval = f" [{confidence * 100:g}% CI]" if confidence else ""
    head = "".join(f"<th>{escape(h)}</th>" for h in ("variant", "device", "Top-1", f"drop (pp){interval}", "verdict",
                                                     "agreement", "parity: worst error / min cosine", "size",
                                                     "latency (ms/img)", "status"))
    return f'<table class="vsq-variants"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
