"""predictions.csv beside results.json: one row per evaluation image, what every model said about it.

Columns: path (relative to evaluate_image_dir, "/"-separated), true_class, then per model evaluated (the
reference models, then the variants) <model>_class and <model>_score (the model's score of the class it
predicted; empty when the evaluation did not keep scores). Written atomically, like results.json. Image and
class names come from the user's folders: a cell starting with = + - @ (or a tab, a carriage return or ')
gets a leading ' so a spreadsheet shows it as text rather than running it as a formula; `read` removes it.
"""

from __future__ import annotations

import csv
import io
from html import escape
from pathlib import Path

PREDICTIONS_FILE = "predictions.csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def write(dest: Path, paths, root: Path, class_names, labels, models: dict) -> Path:
    """models: name -> (predicted class ids, scores or None), both in the order of paths."""
    from vsq.util import atomic

    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["path", "true_class", *(f"{name}_{part}" for name in models for part in ("class", "score"))])
    columns = [(predicted, scores) for predicted, scores in models.values()]
    names = [_cell(name) for name in class_names]
    for i, (path, label) in enumerate(zip(paths, labels)):
        row = [_cell(Path(path).relative_to(root).as_posix()), names[label]]
        for predicted, scores in columns:
            row += [names[predicted[i]], "" if scores is None else f"{float(scores[i]):.6g}"]
        writer.writerow(row)
    atomic.write_bytes(Path(dest), out.getvalue().encode("utf-8"))
    return Path(dest)


def write_for(pipeline, document: dict) -> Path:
    """The pipeline's predictions.csv, beside its results.json: every model it evaluated, on the images all saw."""
    from vsq.statistics.per_image import used_paths

    job, evaluations = pipeline.job, pipeline.evaluations
    reference = evaluations[pipeline.framework.models[0].key]
    return write(Path(document["results_file"]).parent / PREDICTIONS_FILE,
                 used_paths(job.evaluation_set.paths, reference.skipped), job.config.evaluate_image_dir,
                 job.evaluation_set.class_names, reference.labels,
                 {name: (result.predictions, result.top_scores) for name, result in evaluations.items()})


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def read(path: Path) -> list[dict]:
    """The rows of a predictions.csv as dicts (scores as floats, None when empty): pandas.DataFrame(rows)."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key, value in row.items():
            if key.endswith("_score"):
                row[key] = float(value) if value else None
            elif value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
                row[key] = value[1:]
    return rows


def per_class(document: dict) -> list[dict]:
    """One row per class: its name, its number of images, and the Top-1 on it of each reference model with per-class
    figures."""
    models = document["models"]
    matrix = next(iter(models.values()))["confusion_matrix"]  # counts[true, predicted]: a row sum is a class's images
    rows = []
    for i, name in enumerate(document["class_names"]):
        row = {"class": name, "images": sum(matrix[i])}
        row.update({key: model["per_class_top_1"].get(name) for key, model in models.items()
                    if "per_class_top_1" in model})
        rows.append(row)
    return rows


def per_class_html(documents: dict) -> str:
    """The per-class table of each configuration (escaped: names come from results.json files, untrusted)."""
    parts = []
    for name, document in documents.items():
        try:
            rows = per_class(document)
        except (KeyError, TypeError, AttributeError, IndexError):
            continue  # an older or foreign results.json: the rest of the page still renders
        if not rows:
            continue
        models = [key for key in rows[0] if key not in ("class", "images")]
        head = "".join(f"<th>Top-1 {escape(str(model))}</th>" for model in models)
        body = "".join(
            f"<tr><td>{escape(str(row['class']))}</td><td>{escape(str(row['images']))}</td>"
            + "".join(f"<td>{_fraction(row[model])}</td>" for model in models) + "</tr>" for row in rows)
        parts.append(f'<h3>{escape(str(name))}: per class</h3><table class="vsq-summary vsq-per-class"><thead><tr>'
                     f"<th>class</th><th>images</th>{head}</tr></thead><tbody>{body}</tbody></table>")
    return f"<h2>Per-class Top-1</h2>{''.join(parts)}\n" if parts else ""


def _fraction(value) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "–"
