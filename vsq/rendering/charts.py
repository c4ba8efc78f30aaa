"""Charts for the HTML report, drawn with matplotlib into PNG bytes. Names from a results.json go through
vsq.util.text.label: a `$` in a class name would start matplotlib's mathtext, and an unbalanced one fails the
whole chart."""

from __future__ import annotations

import io

import numpy as np

from vsq.core.reference import BY_KEY, reference_model
from vsq.util.text import label


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display here or in CI
    import matplotlib.pyplot as plt

    return plt


def _png(fig, tight: bool = True) -> bytes:
    buffer = io.BytesIO()
    if tight:
        fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    _pyplot().close(fig)
    return buffer.getvalue()


COLOURS = {"PASS": "#1a7f37", "FAIL": "#cf222e", "INCONCLUSIVE": "#bf8700", "": "#8c959f"}  # as the HTML's words


def drop_forest(documents: dict[str, dict]) -> bytes:
    """A forest plot: per configuration, one row per model paired with Keras, per variant and per calibration draw
    after the first (vsq.rendering.drops):
    the drop in points as a dot, its paired interval as a line, its threshold as a bar (both sides for the float
    file, which must agree with Keras), coloured and worded by its check's verdict in results.json `checks`;
    INCONCLUSIVE in amber, hollow, with what the gate made of it."""
    from vsq.rendering.drops import draw_drops, drops, figure_words

    plt = _pyplot()
    rows = []  # (label, Drop or None for a configuration's heading)
    for name, doc in documents.items():
        rows.append((label(name), None))
        rows += [("  " + label(drop.label, 34), drop) for drop in drops(doc) + draw_drops(doc)]
    fig, ax = plt.subplots(figsize=(9, 0.27 * len(rows) + 1.3))
    marks = [(y, drop) for y, (_, drop) in enumerate(rows) if drop is not None]
    shown = [(y, drop) for y, drop in marks if drop.drop_points is not None]
    ranged = [(y, drop) for y, drop in shown if drop.interval_points]
    limits = [(y, limit) for y, drop in marks if drop.limit_points is not None
              for limit in ((drop.limit_points, -drop.limit_points) if drop.symmetric else (drop.limit_points,))]
    # One collection per kind of mark: an artist per mark costs more to draw than the rest of the chart.
    ax.hlines([y for y, _ in ranged], [d.interval_points[0] for _, d in ranged], [d.interval_points[1] for _, d in ranged],
              colors=[COLOURS[d.verdict] for _, d in ranged], linewidth=2)
    ax.scatter([d.drop_points for _, d in shown], [y for y, _ in shown], s=45, linewidths=2, zorder=3,
               edgecolors=[COLOURS[d.verdict] for _, d in shown],
               facecolors=["white" if d.verdict in ("INCONCLUSIVE", "") else COLOURS[d.verdict] for _, d in shown])
    ax.scatter([limit for _, limit in limits], [y for y, _ in limits], marker="|", s=160, linewidths=1.5,
               color="black", zorder=2)
    for y, drop in marks:
        if drop.drop_points is None:
            ax.text(0, y, "not evaluated", ha="center", va="center", fontsize=8, color=COLOURS[""])
        ax.text(1.01, y, _forest_words(drop), transform=ax.get_yaxis_transform(), ha="left", va="center",
                fontsize=8, color=COLOURS[drop.verdict])
    values = [0.0, *(d.drop_points for _, d in shown), *(v for _, d in ranged for v in d.interval_points),
              *(limit for _, limit in limits)]
    low, high = min(values), max(values)
    pad = max(0.5, (high - low) * 0.06)
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.axvline(0, color="#888", linewidth=0.8)
    ax.set_yticks([])  # row labels as plain texts: a tick per row costs more to draw than the rest of the chart
    for y, (row_label, drop) in enumerate(rows):
        ax.text(-0.01, y, row_label, transform=ax.get_yaxis_transform(), ha="right", va="center", fontsize=8,
                fontweight="bold" if drop is None else "normal")
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(f"{figure_words(documents)} drop against the float model (points; right of 0 is worse): dot, its "
                  "interval, | threshold", fontsize=9)
    # A title at a set height: placing it automatically measures every tick label again.
    ax.set_title("Drop with its interval against the threshold, per configuration and model", fontsize=10, y=1.01)
    fig.subplots_adjust(left=0.25, right=0.67, top=1 - 0.45 / fig.get_figheight(), bottom=0.6 / fig.get_figheight())
    return _png(fig, tight=False)


def _forest_words(drop) -> str:
    """'+0.50 [-1.6, +2.7] INCONCLUSIVE (counts as fail)' beside a row; the verdict's word as the check says it."""
    figure = ("no figure" if drop.drop_points is None else
              f"{drop.drop_points:+.2f}" + (" [{:+.1f}, {:+.1f}]".format(*drop.interval_points)
                                              if drop.interval_points else ""))
    if drop.note:
        return f"{figure}  {drop.note}"
    word = drop.verdict or ("not gated" if drop.check is None else "no verdict")
    if drop.verdict == "INCONCLUSIVE":
        word += f" (counts as {'pass' if drop.passes else 'fail'})"
    return f"{figure}  {word}"


def per_class_losses(document: dict, top: int = 20) -> bytes:
    """Per-class Top-1 of the float file (model.tflite; the float model without one) vs the quantized file,
    the classes that lost most first."""
    plt = _pyplot()
    names = document["class_names"]
    floating = reference_model(document, "float_export") or reference_model(document, "float")
    quantized = reference_model(document, "quantized")
    float_acc = document["models"][floating.key].get("per_class_top_1", {})
    quant_acc = document["models"][quantized.key].get("per_class_top_1", {})
    rows = sorted(names, key=lambda n: (quant_acc.get(n) or 0) - (float_acc.get(n) or 0))[:top]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.4))
    y = np.arange(len(rows))
    ax.barh(y - 0.2, [float_acc.get(n) or 0 for n in rows], 0.4, label=floating.label)
    ax.barh(y + 0.2, [quant_acc.get(n) or 0 for n in rows], 0.4, label=quantized.label)
    ax.set_yticks(y, [f"{label(n)} ({((quant_acc.get(n) or 0) - (float_acc.get(n) or 0)) * 100:+.1f} pp)"
                      for n in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("Top-1 per class")
    ax.set_title("Per-class Top-1, largest losses first")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _png(fig)


def per_class_ap_drops(document: dict, top: int = 30) -> bytes | None:
    """A detector's per-class AP@[.5:.95] drop, float model against the quantized one (vsq.rendering.per_class_ap),
    the largest first: a bar per class in points, red where the quantized model lost AP; None without per-class
    AP."""
    from vsq.rendering.per_class_ap import models, rows

    found = [row for row in rows(document) if row.drop_points is not None][:top]
    if models(document) is None or not found:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(found) + 1.4))
    y = np.arange(len(found))
    drops = [row.drop_points for row in found]
    ax.barh(y, drops, 0.6, color=["#cf222e" if drop > 0 else "#1a7f37" for drop in drops])
    ax.set_yticks(y, [f"{label(row.name)} ({row.float_ap:.3f} -> {row.quantized_ap:.3f})" for row in found],
                  fontsize=8)
    for i, drop in enumerate(drops):
        ax.annotate(f"{drop:+.2f}", (drop, i), xytext=(3 if drop >= 0 else -3, 0), textcoords="offset points",
                    ha="left" if drop >= 0 else "right", va="center", fontsize=8)
    reach = max(0.5, *(abs(drop) for drop in drops)) * 1.3
    ax.set_xlim(-reach, reach)
    ax.invert_yaxis()
    ax.axvline(0, color="#888", linewidth=0.8)
    floating, quantized = models(document)
    ax.set_xlabel(f"AP@[.5:.95] drop, {label(floating)} -> {label(quantized)} (points; right of 0 is worse)")
    ax.set_title("Per-class AP drop, largest first (not gated: the mean's check judges the drop)", fontsize=10)
    return _png(fig)


def confusion_heatmap(document: dict, model: str | None = None, top: int = 30) -> bytes:
    """Confusion matrix (rows: true class, columns: predicted) of `model` (default: the quantized file's) as a
    heat map, row-normalised."""
    plt = _pyplot()
    model = model or reference_model(document, "quantized").key
    names = [label(name) for name in document["class_names"][:top]]
    counts = np.zeros((len(names), len(names)))  # filled cell by cell: a results.json may hold a ragged matrix
    for i, row in enumerate(document["models"][model].get("confusion_matrix", [])[:len(names)]):
        cells = [value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
                 for value in row[:len(names)]]
        counts[i, :len(cells)] = cells
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    side = max(3.5, 0.45 * len(names) + 1.5)
    fig, ax = plt.subplots(figsize=(side + 1, side))
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    if len(names) <= 15:
        for (i, j), value in np.ndenumerate(counts):
            ax.text(j, i, int(value), ha="center", va="center", fontsize=8,
                    color="white" if rates[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix: {BY_KEY[model].label if model in BY_KEY else model}")
    fig.colorbar(image, ax=ax, fraction=0.046)
    return _png(fig)


IMX500_ON_CHIP_BYTES = 8 * 1024 * 1024  # when a section has no figure of its own (the converter reports 8.00MB)


def imx500_memory(documents: dict[str, dict]) -> bytes | None:
    """Per configuration with IMX500 memory figures (results.json `imx500`): a horizontal bar of the
    memory the converted model uses, in MB, against the on-chip memory available, with the
    max_memory_utilization threshold marked; red when its check (imx500_fits_in_memory in `checks`) did not pass:
    it does not fit or is over the threshold. None when no configuration has figures (a conversion that failed
    without a report has none)."""
    from vsq.core.check_names import IMX500_FITS_CHECK
    from vsq.rendering.drops import verdict_of

    rows = []  # (name, used, available, threshold bytes, over)
    for name, doc in documents.items():
        section = doc.get("imx500") or {}
        if section.get("memory_usage_bytes") is None:
            continue
        available = section.get("memory_available_bytes") or IMX500_ON_CHIP_BYTES
        limit = section.get("max_memory_utilization", 100)
        used = section["memory_usage_bytes"]
        percent = section.get("utilization_percent")
        percent = used / available * 100 if percent is None else percent
        over = verdict_of(doc, IMX500_FITS_CHECK)[0] != "PASS"
        word = " — does not fit" if section.get("fits") is False else " — over the threshold" if over else ""
        rows.append((name, used, available, available * limit / 100, percent, word))
    if not rows:
        return None
    plt = _pyplot()
    mb = 1024 * 1024
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(rows) + 1.9))
    y = np.arange(len(rows))
    ax.barh(y, [row[2] / mb for row in rows], 0.5, color="#eaeef2", edgecolor="#888", label="on-chip memory")
    ax.barh(y, [row[1] / mb for row in rows], 0.5, color=["#cf222e" if row[5] else "#1a7f37" for row in rows],
            label="used by the model")
    ax.scatter([row[3] / mb for row in rows], y, marker="|", s=900, color="black", zorder=3,
               label="max_memory_utilization")
    for i, (_, used, available, _, percent, word) in enumerate(rows):
        ax.annotate(f"{used / mb:.2f} of {available / mb:.2f} MB ({percent:g} %){word}",
                    (used / mb, i), xytext=(4, 0), textcoords="offset points", ha="left",
                    va="center", fontsize=8)
    reach = max(max(row[1], row[2], row[3]) for row in rows) / mb * 1.7  # room for the figures
    ax.set_xlim(0, reach)
    ax.set_yticks(y, [label(row[0]) for row in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("IMX500 memory (MB)")
    ax.set_title("IMX500 memory: model against on-chip memory")
    # Under the axis label whatever the number of rows: about 0.5 inch below the axes.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.55 / (0.55 * len(rows) + 0.45)), ncol=3,
              markerscale=0.4)
    return _png(fig)
