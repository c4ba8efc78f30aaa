"""A configuration's trend over its last runs: what moved since the previous run (one line) and a chart of
Top-1 and of the drop with its interval, night after night.

The runs are the lines of the history.jsonl beside results.json (vsq.reporting.history), this run's own line
last. That file may come from another machine (`vsq report` over CI artifacts): it is read as untrusted
input, each line checked and a line that is not a run of this configuration skipped, never an error. Lines of
an older vsq have no drop interval, verdict or gate: their drop is Keras's Top-1 minus the quantized one's.

"What moved": the history keeps no per-image results, so two runs cannot be paired here. A model's change is
judged against today's interval instead: the previous drop (Keras's Top-1 minus the model's, in points)
inside today's paired interval of the drop means today's images cannot tell the two runs apart; outside it,
the change is beyond what they can tell. Keras itself is judged against today's interval of its Top-1
(Wilson). A model without an interval today gets its figures only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from vsq.core.reference import BY_KEY, REFERENCE_MODELS, reference_model, roles
from vsq.rendering.drops import drops
from vsq.reporting.history import HISTORY_FILE, entry, line_values
from vsq.tasks import figure_of
from vsq.util.atomic import open_no_follow

RUNS = 30  # the trend's window: the last runs of a configuration
MAX_BYTES = 4 * 1024 * 1024  # of a history file read (its end): thousands of runs, whatever its size
MAX_SERIES = 12  # models drawn in the Top-1 panel (the reference models first, then today's variants)


@dataclass(frozen=True)
class Run:
    """One run of a configuration, as its history line recorded it (figures checked, names kept as keys)."""

    time: datetime
    run_id: str | None
    top_1: dict[str, float]  # reference models and variants, by key / name (a detector's: mAP@[.5:.95])
    num_images: int | None
    drop: float | None  # model_quantized.tflite's drop against Keras, points
    interval: tuple[float, float] | None  # its paired interval (lines of an older vsq: none)
    threshold: float | None
    verdict: str  # its check's verdict, "" when not recorded
    gate: str | None  # PASS / FAIL
    baseline_accepted: datetime | None  # when the accepted baseline of that run was accepted


def history_file(document: dict) -> Path | None:
    """A run's own history.jsonl: beside the results.json it wrote (the pytest plugin and `vsq run`; `vsq
    report` passes the file beside the results.json it read instead, never a path from the document)."""
    results_file = document.get("results_file")
    return Path(results_file).parent / HISTORY_FILE if isinstance(results_file, str) else None


def history_for(name: str, document: dict, history_files: dict | None) -> Path | None:
    """The history.jsonl of a configuration: history_files' entry when given (`vsq report`), else its own."""
    return history_file(document) if history_files is None else history_files.get(name)


def runs(path: Path | None, document: dict, limit: int = RUNS) -> list[Run]:
    """The last `limit` runs of the document's configuration, oldest first, this run last (from the document
    itself: the file may not hold its line); none when the document has no time to place it."""
    found = sorted(map(parse, configuration_lines(path, document)), key=lambda run: run.time)  # merged: any order
    today = parse(entry(document))
    if today is None:  # a document without its time or Keras's Top-1: no run to put the others before
        return []
    # The runs up to this one (a results.json read later may have newer lines beside it).
    found = [run for run in found if run.time <= today.time and not (run.run_id and run.run_id == today.run_id)]
    return [*found, today][-limit:]


def configuration_lines(path: Path | None, document: dict) -> list[dict]:
    """The lines of a history file that are runs of the document's configuration (each one parse accepts)."""
    name = (document.get("configuration") or {}).get("name")
    return [line for line in _lines(path)
            if isinstance(line, dict) and line.get("configuration") == name and parse(line) is not None]


def _lines(path: Path | None) -> list:
    """The JSON values of a history file's lines (its last MAX_BYTES); none when it cannot be read."""
    if path is None:
        return []
    try:
        with open_no_follow(path) as handle:  # never through a link, never a FIFO (it would hang the report)
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - MAX_BYTES))
            data = handle.read(MAX_BYTES)
    except (OSError, ValueError):
        return []
    raw = data.decode("utf-8", errors="replace").splitlines()
    out = []
    for line in raw[1:] if size > MAX_BYTES else raw:  # the first line of a tail is cut
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def parse(line: dict) -> Run | None:
    """A history line as a Run; None when it lacks a time or the float model's Top-1."""
    when = _time(line.get("time"))
    top_1 = {**_fractions(line.get("variants")), **_fractions(line_values(line))}  # a detector's: mAP@[.5:.95]
    float_key, quantized_key = _role_keys(line)
    if when is None or float_key not in top_1:  # every figure of a run is against the float model's
        return None
    drops = line.get("drops") if isinstance(line.get("drops"), dict) else {}
    drop = drops.get(quantized_key) if isinstance(drops.get(quantized_key), dict) else {}
    points, interval = _number(drop.get("drop_points")), _pair(drop.get("interval_points"))
    if points is None and quantized_key in top_1:
        points = (top_1[float_key] - top_1[quantized_key]) * 100.0  # a line of an older vsq
    baseline = line.get("baseline") if isinstance(line.get("baseline"), dict) else {}
    images = line.get("num_images")
    return Run(when, line["run_id"] if isinstance(line.get("run_id"), str) else None, top_1,
               images if isinstance(images, int) and not isinstance(images, bool) else None, points, interval,
               _number(drop.get("threshold_points")),
               drop.get("verdict") if drop.get("verdict") in ("PASS", "FAIL", "INCONCLUSIVE") else "",
               line.get("gate") if line.get("gate") in ("PASS", "FAIL") else None,
               _time(baseline.get("accepted_on")))


def _role_keys(line: dict) -> tuple[str, str]:
    """The keys of a line's float and quantized models (a line of an older vsq, or of Keras: keras,
    tflite_quantized)."""
    named = line.get("reference_models") if isinstance(line.get("reference_models"), dict) else {}
    keys = roles(REFERENCE_MODELS)
    return tuple(named[role] if isinstance(named.get(role), str) else keys[role] for role in ("float", "quantized"))


def _time(value) -> datetime | None:
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _pair(value) -> tuple[float, float] | None:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    low, high = _number(value[0]), _number(value[1])
    return (low, high) if low is not None and high is not None and low <= high else None


def _fractions(values) -> dict[str, float]:
    """Top-1 figures by model: fractions 0..1 only; keys as strings of a sane length."""
    if not isinstance(values, dict):
        return {}
    return {str(key)[:100]: float(value) for key, value in values.items()
            if _number(value) is not None and 0.0 <= value <= 1.0}


def previous(trend: list[Run]) -> Run | None:
    """The run before this one (the last of the trend)."""
    return trend[-2] if len(trend) >= 2 else None


def models(document: dict) -> list[tuple[str, str]]:
    """(key, label) of the models the trend follows: the reference models, then today's variants."""
    reference = [(key, model.label) for key, model in BY_KEY.items() if key in (document.get("models") or {})]
    return reference + [(drop.key, drop.label) for drop in drops(document) if drop.variant]


def moved(name: str, document: dict, trend: list[Run]) -> str | None:
    """One line: what moved since the previous run, each change judged against today's interval (see the
    module's docstring); None when there is no previous run."""
    before, today = previous(trend), trend[-1] if trend else None
    if before is None:
        return None
    when = before.time.strftime("%Y-%m-%d %H:%M")
    intervals = {drop.key: drop.interval_points for drop in drops(document)}
    changes = [_change(document, key, label, before, today, intervals.get(key)) for key, label in models(document)]
    changes = [change for change in changes if change]
    if before.num_images is not None and before.num_images != today.num_images:
        changes.append(f"images {before.num_images} -> {today.num_images}")
    if before.gate and today.gate and before.gate != today.gate:
        changes.append(f"gate {before.gate} -> {today.gate}")
    if not changes:
        gate = f", the gate {today.gate}" if today.gate else ""
        return f"{name}: nothing moved since the previous run ({when}): the same {figure_of(document).word} for every model{gate} as then"
    return f"{name}: since the previous run ({when}): " + "; ".join(changes)


def _change(document: dict, key: str, label: str, before: Run, today: Run,
            paired: tuple[float, float] | None) -> str | None:
    then, now = before.top_1.get(key), today.top_1.get(key)
    if then is None or now is None or abs(now - then) < 5e-7:
        return None
    said = f"{label} {then:.4f} -> {now:.4f}"
    confidence = _confidence(document)
    float_key = reference_model(document, "float").key
    if key == float_key:
        interval = _pair((document.get("models", {}).get(key) or {}).get("top_1_interval"))
        if interval is None:
            return said
        return (f"{said} ({_side(then, interval)} today's {confidence} interval of its Top-1 "  # classification
                f"{interval[0]:.3f} to {interval[1]:.3f})")
    keras_then, keras_now = before.top_1.get(float_key), today.top_1.get(float_key)
    if paired is None or keras_then is None or keras_now is None:
        return said
    drop_then, (low, high) = (keras_then - then) * 100.0, paired
    return (f"{said} (drop {drop_then:+.2f} -> {(keras_now - now) * 100.0:+.2f} points, "
            f"the previous one {_side(drop_then, paired)} today's {confidence} interval {low:+.2f} to {high:+.2f})")


def _side(value: float, interval: tuple[float, float]) -> str:
    return "within" if interval[0] - 1e-9 <= value <= interval[1] + 1e-9 else "BEYOND"


def _confidence(document: dict) -> str:
    confidence = _number(((document.get("configuration") or {}).get("thresholds") or {}).get("confidence"))
    return f"{confidence * 100:g} %" if confidence else "95 %"


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
DASHES = ("-", "--", "-.", ":")


def series_styles(count: int) -> list[dict]:
    """A marker, line style and size per series, each its own, the first drawn largest: series with equal
    figures (models that agree on every image) stay visible instead of hiding behind the last one drawn."""
    return [{"marker": MARKERS[i % len(MARKERS)], "linestyle": DASHES[i % len(DASHES)],
             "markersize": 3 + 1.5 * (count - 1 - i), "markerfacecolor": "none" if i % 2 else None}
            for i in range(count)]


def tick_labels(times: list[datetime]) -> list[str]:
    """Each run's time to the minute, to the second where runs share a minute, numbered where they share that."""
    for form in ("%m-%d\n%H:%M", "%m-%d\n%H:%M:%S"):
        labels = [time.strftime(form) for time in times]
        if len(set(labels)) == len(labels):
            return labels
    return [f"{label} #{i + 1}" for i, label in enumerate(labels)]


def chart(name: str, document: dict, trend: list[Run]) -> bytes | None:
    """Top-1 of each model per run (above) and model_quantized.tflite's drop with its interval against its
    threshold (below; coloured by its check's verdict as recorded, hollow when INCONCLUSIVE or not recorded);
    the dates of the runs on the axis; a dotted line where a baseline was accepted. None before a second run."""
    if len(trend) < 2:
        return None
    from vsq.rendering.charts import COLOURS, _png, _pyplot
    from vsq.util.text import label as plain_label

    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    # Not sharex: shared, the upper axes would make and draw every tick of the lower one, most of the cost.
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.2), gridspec_kw={"height_ratios": (3, 2)})
    x = range(len(trend))
    series = models(document)[:MAX_SERIES]
    for (key, label), style in zip(series, series_styles(len(series))):
        top.plot(x, [run.top_1.get(key, math.nan) for run in trend], linewidth=1.8 if key in BY_KEY else 1.0,
                 label=plain_label(label, 30), **style)
    top.set_ylabel(figure_of(document).word)
    top.grid(axis="y", alpha=0.3)
    top.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    shown = [(i, run) for i, run in enumerate(trend) if run.drop is not None]
    ranged = [(i, run) for i, run in shown if run.interval]
    # One collection per kind of mark: a line per mark costs more to draw than the rest of the chart.
    bottom.vlines([i for i, _ in ranged], [run.interval[0] for _, run in ranged],
                  [run.interval[1] for _, run in ranged], colors=[COLOURS[run.verdict] for _, run in ranged],
                  linewidth=1.5)
    bottom.scatter([i for i, _ in shown], [run.drop for _, run in shown], s=30, linewidths=1.5, zorder=3,
                   edgecolors=[COLOURS[run.verdict] for _, run in shown],
                   facecolors=["white" if run.verdict in ("INCONCLUSIVE", "") else COLOURS[run.verdict]
                               for _, run in shown])
    if any(run.threshold is not None for run in trend):
        bottom.step(x, [math.nan if run.threshold is None else run.threshold for run in trend], where="mid",
                    color="black", linestyle="--", linewidth=1, label="threshold")
        bottom.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    bottom.axhline(0, color="#888", linewidth=0.8)
    bottom.set_ylabel(f"drop, {reference_model(document, 'quantized').label}\n(points)", fontsize=8)
    bottom.grid(axis="y", alpha=0.3)
    _mark_baselines(top, bottom, trend)
    step = max(1, math.ceil(len(trend) / 10))
    bottom.set_xticks(list(x)[::step], tick_labels([run.time for run in trend])[::step], fontsize=7)
    years = sorted({run.time.year for run in trend})
    bottom.set_xlabel(f"run (time of its results.json, {'-'.join(map(str, (years[0], years[-1])[:len(years)]))})",
                      fontsize=8)
    # A title at a set height: placing it automatically measures every tick label again.
    top.set_title(f"{plain_label(name)}: the last {len(trend)} runs", fontsize=10, y=1.01)
    for axes in (top, bottom):
        axes.yaxis.set_major_locator(MaxNLocator(4))
        axes.set_xlim(-0.5, len(trend) - 0.5)
    top.xaxis.set_visible(False)  # the dates are under the lower axes; an axis not drawn costs nothing
    fig.subplots_adjust(left=0.09, right=0.76, top=0.94, bottom=0.14, hspace=0.08)
    return _png(fig, tight=False)


def _mark_baselines(top, bottom, trend: list[Run]) -> None:
    """A dotted line at each accepted baseline's time among the runs; one accepted before them: said in a note."""
    for accepted in sorted({run.baseline_accepted for run in trend if run.baseline_accepted}):
        if accepted < trend[0].time:
            top.text(0.0, 1.01, f"baseline accepted {accepted:%Y-%m-%d %H:%M}, before these runs",
                     transform=top.transAxes, fontsize=7, color="#6e40c9")
            continue
        position = next((i - (0 if abs((run.time - accepted).total_seconds()) < 1 else 0.5)
                         for i, run in enumerate(trend) if run.time >= accepted), len(trend) - 0.5)
        for axes in (top, bottom):
            axes.axvline(position, color="#6e40c9", linestyle=":", linewidth=1.5)
        top.annotate("baseline accepted", (position, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -10),
                     textcoords="offset points", fontsize=7, color="#6e40c9")
