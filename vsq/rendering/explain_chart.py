"""The explanation's chart for the HTML report: SQNR in dB along the network, worst layers named."""

from __future__ import annotations

import math

import numpy as np

from vsq.rendering.charts import _png, _pyplot
from vsq.rendering.html_parts import img
from vsq.core.layers import from_json_number
from vsq.util.text import label


def sqnr_chart(explanation: dict, worst: int = 3) -> bytes:
    """PNG of each compared layer's SQNR (dB) on the validation and calibration samples, in network order.

    `explanation` is results.json's `explanation` section (vsq.core.layers.Explanation.as_dict()). Exact layers
    ("inf") are drawn as triangles on the top edge, "-inf" and null on the bottom edge; the `worst`
    layers (lowest validation SQNR) are red and named; the model output's SQNR is a dashed line.
    """
    plt = _pyplot()
    layers = explanation["layers"]
    x = np.arange(len(layers))
    val = np.array([from_json_number(layer["validation"]["sqnr_db"]) for layer in layers], dtype=float)
    rep = np.array([from_json_number(layer["representative"]["sqnr_db"]) for layer in layers], dtype=float)
    finite = np.concatenate([val[np.isfinite(val)], rep[np.isfinite(rep)]])
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 60.0)
    margin = max(5.0, 0.08 * (high - low))
    bottom, top = min(low, 0.0) - margin, high + margin

    fig, ax = plt.subplots(figsize=(10, 4.2))
    for values, legend, style in ((rep, "calibration sample", dict(color="#8c959f", linewidth=1, linestyle=":")),
                                  (val, "evaluation sample", dict(color="#0969da", linewidth=1.5))):
        shown = np.clip(np.nan_to_num(values, nan=bottom, posinf=top, neginf=bottom), bottom, top)
        ax.plot(x, shown, marker="o", markersize=3, label=legend, **style)
    exact = np.isposinf(val)
    if exact.any():
        ax.scatter(x[exact], np.full(exact.sum(), top), marker="^", color="#1a7f37", zorder=3,
                   label="exact (no quantization noise)")
    output = from_json_number(explanation["output"]["validation"]["sqnr_db"])
    if math.isfinite(output):
        ax.axhline(output, color="#6e7781", linestyle="--", linewidth=1, label=f"model output {output:.1f} dB")
    ranked = sorted(range(len(layers)), key=lambda i: math.inf if math.isnan(val[i]) else val[i])[:worst]
    for rank, i in enumerate(ranked, 1):
        y = float(np.clip(np.nan_to_num(val[i], nan=bottom, neginf=bottom), bottom, top))
        ax.scatter([i], [y], s=70, color="#cf222e", zorder=4, label="worst layers" if rank == 1 else None)
        below = y > (bottom + top) / 2  # keep the label inside the axes
        ax.annotate(f"{rank}. {label(layers[i]['name'])} ({label(layers[i]['type'])})\n{_db(val[i])}", (i, y),
                    xytext=(8, (-30 if below else 14) + (-1 if below else 1) * 22 * (rank - 1)),
                    textcoords="offset points", fontsize=8, color="#cf222e",
                    ha="right" if i > 0.7 * len(layers) else "left",
                    arrowprops=dict(arrowstyle="-", color="#cf222e", linewidth=0.6))
    ax.set_ylim(bottom, top + 3 * margin)  # room for the labels above the highest point
    ax.set_xlim(-0.5, max(len(layers) - 0.5, 0.5))
    if len(layers) <= 24:
        ax.set_xticks(x, [label(layer["name"]) for layer in layers], rotation=45, ha="right", fontsize=7)
    else:
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("quantized layer along the network (input on the left)")
    ax.set_ylabel("SQNR (dB; higher is closer to float)")
    ax.set_title("Quantization noise per layer (MCT XQuant)")
    ax.grid(axis="y", color="#eaeef2")
    ax.legend(fontsize=8, loc="lower left")
    return _png(fig)


def _db(value: float) -> str:
    if math.isnan(value):
        return "no signal"
    return "exact" if math.isinf(value) and value > 0 else f"{value:.1f} dB"


def html_part(name: str, document: dict) -> str:
    """The HTML report's part for one configuration's results document: its SQNR chart when the explanation
    is ok, a line with the tool's message when it failed, nothing when it was skipped or is absent."""
    from html import escape


    section = document.get("explanation") or {}
    if section.get("status") == "failed":
        return f'<p class="vsq-fail">{escape(name)}: the per-layer explanation failed: {escape(section["error"])}</p>'
    if section.get("status") != "ok":
        return ""
    images = section["images"]
    caption = (f"<p>{escape(name)}: per-layer explanation of model_quantized.keras (MCT XQuant, "
               f"{escape(str(images['representative']))} calibration and {escape(str(images['validation']))} "
               f"evaluation images); lowest SQNR: "
               f"{escape(', '.join(section['worst']) or 'no layers compared')}; MCT's report: "
               f"<code>{escape(section['report_dir'])}</code></p>")
    if not section["layers"]:
        return caption
    return caption + "\n" + img(sqnr_chart(section), f"{name}: per-layer SQNR of the quantized model (MCT XQuant)")
