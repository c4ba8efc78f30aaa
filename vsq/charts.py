"""Charts for the HTML report, drawn with matplotlib into PNG bytes."""

from __future__ import annotations

import io

import numpy as np

MODEL_LABELS = {"keras": "Keras", "tflite": "float TFLite", "tflite_quantized": "quantized TFLite"}


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


def top1_by_configuration(documents: dict[str, dict]) -> bytes:
    """Grouped bars: Top-1 of each model, per configuration."""
    plt = _pyplot()
    names = list(documents)
    models = list(MODEL_LABELS)
    fig, ax = plt.subplots(figsize=(max(5, 1.8 * len(names) + 2), 3.6))
    width = 0.8 / len(models)
    for i, model in enumerate(models):
        values = [documents[name]["models"][model]["top_1_accuracy"] for name in names]
        bars = ax.bar(np.arange(len(names)) + (i - 1) * width, values, width, label=MODEL_LABELS[model])
        ax.bar_label(bars, labels=[f"{v:.3f}" for v in values], fontsize=7, padding=2)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("Top-1")
    ax.set_title("Top-1 per configuration")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
    return _png(fig)


def per_class_losses(document: dict, top: int = 20) -> bytes:
    """Per-class Top-1 of float vs quantized TFLite, the classes that lost most first."""
    plt = _pyplot()
    names = document["class_names"]
    float_acc = document["models"]["tflite"]["per_class_top_1"]
    quant_acc = document["models"]["tflite_quantized"]["per_class_top_1"]
    rows = sorted(names, key=lambda n: (quant_acc[n] or 0) - (float_acc[n] or 0))[:top]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.4))
    y = np.arange(len(rows))
    ax.barh(y - 0.2, [float_acc[n] or 0 for n in rows], 0.4, label="float TFLite")
    ax.barh(y + 0.2, [quant_acc[n] or 0 for n in rows], 0.4, label="quantized TFLite")
    ax.set_yticks(y, [f"{n} ({((quant_acc[n] or 0) - (float_acc[n] or 0)) * 100:+.1f} pp)" for n in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("Top-1 per class")
    ax.set_title("Per-class Top-1, largest losses first")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _png(fig)


def confusion_heatmap(document: dict, model: str = "tflite_quantized", top: int = 30) -> bytes:
    """Confusion matrix (rows: true class, columns: predicted) as a heat map, row-normalised."""
    plt = _pyplot()
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
    ax.set_title(f"Confusion matrix: {MODEL_LABELS.get(model, model)}")
    fig.colorbar(image, ax=ax, fraction=0.046)
    return _png(fig)
