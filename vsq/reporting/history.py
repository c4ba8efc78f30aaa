"""history.jsonl: one line per run and configuration, appended, never rewritten."""

from __future__ import annotations

import json
import os
from pathlib import Path

from vsq.pipeline.reference import BY_FILE
from vsq.pipeline.reference import KEYS as MODELS

HISTORY_FILE = "history.jsonl"


def entry(document: dict) -> dict:
    """The line recorded for one results.json document: time, configuration, figures, versions."""
    env = document["environment"]
    return {
        "time": document["created"],
        "run_id": document.get("run_id"),
        "configuration": document["configuration"]["name"],
        "top_1": {name: model["top_1_accuracy"] for name, model in document["models"].items()},
        "top_5": {name: model["top_5_accuracy"] for name, model in document["models"].items()},
        "variants": variant_figures(document),
        "num_images": document["num_images"],
        "versions": {key: env.get(key) for key in ("vsq", "tensorflow", "model_compression_toolkit")},
        "tflite_runtime": env.get("tflite_runtime"),
    }


def variant_figures(document: dict) -> dict:
    """Top-1 per variant (not the reference models' files, which are in "top_1")."""
    rows = document.get("variants", {}).get("models", {})
    return {name: row["top_1_accuracy"] for name, row in rows.items()
            if name not in BY_FILE and row.get("top_1_accuracy") is not None}


def append(path: Path, line: dict) -> None:
    """Append one JSON line with a single O_APPEND write, so concurrent runs never interleave bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read(path: Path) -> list[dict]:
    """Every well-formed line; a torn last line (a run killed mid-write) is ignored."""
    lines = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            lines.append(json.loads(raw))
        except json.JSONDecodeError:
            continue
    return lines


def table(lines: list[dict]) -> str:
    """The trend as a text table, oldest first."""
    rows = [("time", "configuration", "Keras", "TFLite", "quantized", "drop (pp)", "images", "TF", "MCT")]
    for line in lines:
        top1 = line["top_1"]
        rows.append((
            line["time"], line["configuration"], f"{top1['keras']:.4f}", f"{top1['tflite']:.4f}",
            f"{top1['tflite_quantized']:.4f}", f"{(top1['keras'] - top1['tflite_quantized']) * 100:+.2f}",
            str(line["num_images"]), str(line["versions"].get("tensorflow")),
            str(line["versions"].get("model_compression_toolkit")),
        ))
    return format_rows(rows)


def format_rows(rows: list[tuple]) -> str:
    """Left-aligned columns with a rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    out.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(out)


def plot(lines: list[dict], dest: Path) -> Path:
    """A PNG of Top-1 per run, one line per configuration and model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    for name in sorted({line["configuration"] for line in lines}):
        runs = [line for line in lines if line["configuration"] == name]
        for model, style in zip(MODELS, ("-o", "--s", ":^")):
            ax.plot(range(1, len(runs) + 1), [run["top_1"][model] for run in runs], style, label=f"{name}: {model}")
    ax.set_xlabel("run")
    ax.set_ylabel("Top-1")
    ax.set_title("Top-1 per run")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(dest, format="png")
    plt.close(fig)
    return Path(dest)
