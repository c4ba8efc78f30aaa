"""Charts for the HTML report, drawn with matplotlib into PNG bytes."""

from __future__ import annotations

import io

import numpy as np

from vsq.pipeline.reference import BY_KEY, reference_model


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display here or in CI
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    _pyplot().close(fig)
    return buffer.getvalue()


def drop_against_threshold(documents: dict[str, dict]) -> bytes:
    """Per configuration: the Top-1 drop of each TFLite file against Keras, in percentage points, beside
    its threshold (a 1-point drop is invisible on a 0..1 Top-1 axis; here it is a bar of 1 against 1). A bar
    is red exactly when its check failed (results.json `checks`)."""
    plt = _pyplot()
    rows = []  # (label, drop, threshold, failed)
    for name, doc in documents.items():
        limits, checks = doc["configuration"]["thresholds"], doc.get("checks", {})
        rows.append((f"{name}\nquantized", doc["top_1_drop_points"][reference_model(doc, "quantized").key],
                     limits["max_top1_drop"], _failed(checks, "quantized_top1_drop_within_threshold")))
        if reference_model(doc, "float_export"):  # model.tflite (Keras)
            rows.append((f"{name}\nfloat", doc["top_1_drop_points"][reference_model(doc, "float_export").key],
                         limits["max_float_top1_drop"], _failed(checks, "float_tflite_agrees_with_keras")))
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(rows) + 1.4))
    y = np.arange(len(rows))
    drops = np.array([row[1] for row in rows])
    limits = np.array([row[2] for row in rows])
    colours = np.where([row[3] for row in rows], "#cf222e", "#1a7f37")
    ax.barh(y, drops, 0.5, color=colours)
    ax.scatter(limits, y, marker="|", s=900, color="black", label="threshold", zorder=3)
    for i, drop in enumerate(drops):
        ax.annotate(f"{drop:+.2f} pp", (drop, i), xytext=(4 if drop >= 0 else -4, 0), textcoords="offset points",
                    ha="left" if drop >= 0 else "right", va="center", fontsize=8)
    reach = max(1.0, float(np.abs(np.concatenate([drops, limits])).max()) * 1.25)
    ax.set_xlim(-reach, reach)
    ax.axvline(0, color="#888", linewidth=0.8)
    ax.set_yticks(y, [row[0] for row in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Top-1 drop against Keras (percentage points; right of 0 is worse)")
    ax.set_title("Drop against threshold per configuration")
    ax.legend(fontsize=8, loc="lower right", markerscale=0.4)
    return _png(fig)


def _failed(checks: dict, name: str) -> bool:
    """Whether results.json's verdicts map says the check did not pass (a check it lacks did not fail)."""
    return checks.get(name, {}).get("passes", True) is False


def per_class_losses(document: dict, top: int = 20) -> bytes:
    """Per-class Top-1 of the float file (model.tflite; the float model without one) vs the quantized file,
    the classes that lost most first."""
    plt = _pyplot()
    names = document["class_names"]
    floating = reference_model(document, "float_export") or reference_model(document, "float")
    quantized = reference_model(document, "quantized")
    float_acc = document["models"][floating.key]["per_class_top_1"]
    quant_acc = document["models"][quantized.key]["per_class_top_1"]
    rows = sorted(names, key=lambda n: (quant_acc[n] or 0) - (float_acc[n] or 0))[:top]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.4))
    y = np.arange(len(rows))
    ax.barh(y - 0.2, [float_acc[n] or 0 for n in rows], 0.4, label=floating.label)
    ax.barh(y + 0.2, [quant_acc[n] or 0 for n in rows], 0.4, label=quantized.label)
    ax.set_yticks(y, [f"{n} ({((quant_acc[n] or 0) - (float_acc[n] or 0)) * 100:+.1f} pp)" for n in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("Top-1 per class")
    ax.set_title("Per-class Top-1, largest losses first")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _png(fig)


def confusion_heatmap(document: dict, model: str | None = None, top: int = 30) -> bytes:
    """Confusion matrix (rows: true class, columns: predicted) of `model` (default: the quantized file's) as a
    heat map, row-normalised."""
    plt = _pyplot()
    model = model or reference_model(document, "quantized").key
    names = document["class_names"][:top]
    counts = np.asarray(document["models"][model]["confusion_matrix"], dtype=float)[:top, :top]
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
    max_memory_utilization threshold marked; red when it does not fit or is over the threshold.
    None when no configuration has figures (a conversion that failed without a report has none)."""
    from vsq.sections.imx500 import fits

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
        over = not fits({**section, "utilization_percent": percent})
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
    ax.set_yticks(y, [row[0] for row in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("IMX500 memory (MB)")
    ax.set_title("IMX500 memory: model against on-chip memory")
    # Under the axis label whatever the number of rows: about 0.5 inch below the axes.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.55 / (0.55 * len(rows) + 0.45)), ncol=3,
              markerscale=0.4)
    return _png(fig)
