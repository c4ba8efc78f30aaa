"""history.jsonl: one line per run and configuration, appended; rewritten (atomically) only to bound it.

A line: time, run id, configuration, task, the task's figure per model (its DropFigure.history key: Top-1 with
Top-5, a detector's mAP@[.5:.95]) and Top-1 per variant, images, versions; since the reviewer's
trend (vsq.reporting.trend) also the gate's verdict, every paired drop with its interval, threshold and its
check's verdict, the confidence, the accepted baseline's date when the run had one, and the run's provenance
(vsq.provenance.flat: commit, digests of the model, configuration and image list). Readers take lines
without those keys too (what an older vsq wrote).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from vsq.core.reference import REFERENCE_MODELS, heading, roles
from vsq.provenance import flat
from vsq.core.drop_figure import TOP_1, DropFigure
from vsq.tasks import TASKS, figure_of
from vsq.rendering.drops import variant_figures  # noqa: F401 (vsq.reporting.history.variant_figures before the move)

HISTORY_FILE = "history.jsonl"


def entry(document: dict) -> dict:
    """The line recorded for one results.json document: time, configuration, figures, versions, verdicts."""
    env, figure = document["environment"], figure_of(document)
    gate, baseline = document.get("gate"), document.get("baseline")
    return {
        "time": document["created"],
        "run_id": document.get("run_id"),
        "configuration": document["configuration"]["name"],
        "task": document.get("task", "classification"),
        # the figure per model under its DropFigure's key: Top-1 ("top_1"), a detector's mAP@[.5:.95] ("map_50_95")
        figure.history: {name: model.get(figure.figure) for name, model in document["models"].items()},
        **({"top_5": {name: model.get("top_5_accuracy") for name, model in document["models"].items()}}
           if figure is TOP_1 else {}),  # Top-5 goes with Top-1: a detector has neither
        "variants": variant_figures(document),
        "reference_models": document["reference_models"],  # a document of any format has it (results.read)
        "num_images": document["num_images"],
        "versions": {key: env.get(key) for key in ("vsq", "tensorflow", "torch", "model_compression_toolkit")
                     if key != "torch" or env.get(key)},  # torch: PyTorch configurations only
        "tflite_runtime": env.get("tflite_runtime"),
        "gate": gate.get("verdict") if isinstance(gate, dict) else None,
        "drops": drop_figures(document),
        "confidence": document["configuration"]["thresholds"].get("confidence"),
        **({"provenance": flat(document["provenance"])} if "provenance" in document else {}),
        **({"baseline": {"accepted_on": baseline.get("accepted_on"), "accepting": baseline.get("accepting")}}
           if isinstance(baseline, dict) else {}),
    }


def line_figure(line: dict) -> DropFigure:
    """The drop figure of a history line (vsq.core.drop_figure): its task's; a line without "task" (an older
    vsq): the first task's figure whose key (DropFigure.history) holds a number (a detector's line then also held
    a "top_1" of nulls), else Top-1."""
    if isinstance(line.get("task"), str):
        return figure_of({"task": line["task"]})
    held = (task.drop_figure for task in TASKS.values() if _numbers(line.get(task.drop_figure.history)))
    return next(held, TOP_1)


def _numbers(values) -> bool:
    """Whether a line's figures per model hold any number."""
    return isinstance(values, dict) and any(isinstance(value, (int, float)) and not isinstance(value, bool)
                                            for value in values.values())


def line_values(line: dict) -> dict:
    """A history line's figure per model (Top-1, or a detector's mAP@[.5:.95]); unchecked."""
    values = line.get(line_figure(line).history)
    return values if isinstance(values, dict) else {}


def drop_figures(document: dict) -> dict:
    """Per model and variant with a figure: its drop against Keras, interval, threshold and verdict (points)."""
    from vsq.rendering.drops import drops

    return {drop.key: {"drop_points": drop.drop_points,
                       "interval_points": list(drop.interval_points) if drop.interval_points else None,
                       "threshold_points": drop.limit_points, "verdict": drop.verdict or None, "passes": drop.passes}
            for drop in drops(document) if drop.drop_points is not None}


def append(path: Path, line: dict) -> None:
    """Append one JSON line with a single O_APPEND write, so concurrent runs never interleave bytes; never
    through a symbolic link (vsq.util.atomic.append_bytes)."""
    from vsq.util.atomic import append_bytes

    append_bytes(Path(path), encoded(line))


def encoded(line: dict) -> bytes:
    """A line as the file holds it."""
    return (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def read(path: Path) -> list[dict]:
    """Every well-formed line; a torn last line (a run killed mid-write) is ignored."""
    lines = []
    for raw in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            lines.append(json.loads(raw))
        except json.JSONDecodeError:
            continue
    return lines


def key(line: dict) -> tuple:
    """What makes a line one run of one configuration: merging two files keeps one line per key (any JSON value
    a line from elsewhere holds there, as text)."""
    return tuple(json.dumps(line.get(field), sort_keys=True) for field in ("run_id", "configuration"))


def merge(path: Path, lines: list[dict]) -> int:
    """Append the lines the file lacks (by key; read from other files: the same run is never recorded twice),
    oldest first; returns how many. The lines it has stay as they are: merging never overwrites."""
    known = {key(line) for line in read(path) if isinstance(line, dict)} if Path(path).exists() else set()
    added = 0
    for line in sorted(lines, key=lambda line: str(line.get("time"))):
        if key(line) not in known:
            known.add(key(line))
            append(path, line)
            added += 1
    return added


def trim(path: Path, keep: int) -> int:
    """Keep the last `keep` lines of each configuration (a torn or foreign line goes), the file rewritten
    atomically; returns how many lines went. For a file no run is appending to (CI: before saving it)."""
    from vsq.util.atomic import write_bytes

    lines = [line for line in read(path) if isinstance(line, dict)]
    counts, seen, kept = Counter(str(line.get("configuration")) for line in lines), Counter(), []
    for line in lines:
        name = str(line.get("configuration"))
        seen[name] += 1
        if counts[name] - seen[name] < keep:  # among its last `keep`
            kept.append(line)
    gone = len(Path(path).read_bytes().splitlines()) - len(kept)
    if gone:
        write_bytes(path, b"".join(map(encoded, kept)))
    return gone


def table(lines: list[dict]) -> str:
    """The trend as a text table, oldest first: the float model, its float export (model.tflite; "—" without
    one), the quantized file, the drop."""
    documents = {i: line for i, line in enumerate(lines)}  # lines name their models' roles as documents do
    rows = [("time", "configuration", heading(documents, "float"), heading(documents, "float_export") or "—",
             heading(documents, "quantized"), "drop (pp)", "images", "TF", "MCT")]
    for line in lines:
        top1, models = line_values(line), line.get("reference_models", roles(REFERENCE_MODELS))
        floating, quantized = top1[models["float"]], top1[models["quantized"]]
        exported = top1.get(models.get("float_export"))
        rows.append((
            line["time"], line["configuration"], f"{floating:.4f}", "—" if exported is None else f"{exported:.4f}",
            f"{quantized:.4f}", f"{(floating - quantized) * 100:+.2f}", str(line["num_images"]),
            str(line["versions"].get("tensorflow")), str(line["versions"].get("model_compression_toolkit")),
        ))
    return format_rows(rows)


def format_rows(rows: list[tuple]) -> str:
    """Left-aligned columns with a rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    out.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(out)


def plot(lines: list[dict], dest: Path) -> Path:
    """A PNG of Top-1 (a detector's mAP@[.5:.95]) per run, one line per configuration and model."""
    import matplotlib.pyplot as plt

    fig = figure(lines)
    fig.savefig(dest, format="png")
    plt.close(fig)
    return Path(dest)


def figure(lines: list[dict]):
    """plot's matplotlib figure: runs numbered 1, 2, ... on the x axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    for name in sorted({line["configuration"] for line in lines}):
        runs = [line for line in lines if line["configuration"] == name]
        models = runs[-1].get("reference_models", roles(REFERENCE_MODELS))
        shown = [models[role] for role in ("float", "float_export", "quantized") if role in models]
        for model, style in zip(shown, ("-o", "--s", ":^")):
            ax.plot(range(1, len(runs) + 1), [line_values(run).get(model) for run in runs], style,
                    label=f"{name}: {model}")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # runs are counted: no run 1.5
    ax.set_xlabel("run")
    word = " / ".join(dict.fromkeys(line_figure(line).word for line in lines)) or "Top-1"
    ax.set_ylabel(word)
    ax.set_title(f"{word} per run")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig
