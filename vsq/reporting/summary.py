"""The summary of a run, from its results documents: one place for the terminal and `vsq report`."""

from __future__ import annotations

from vsq.pipeline.verdicts import images_needed, interval_text
from vsq.reporting.history import format_rows
from vsq.sections import imx500
from vsq.pipeline.reference import column_roles, heading, model_entry, reference_model


def interval_confidence(documents: dict[str, dict]) -> float:
    """The confidence level the tables' interval column is headed with: the first configuration's
    (results.json of an older vsq: the schema's default)."""
    from vsq.configuration.file import properties

    default = properties("thresholds")["confidence"]["default"]
    return next((doc["configuration"]["thresholds"].get("confidence", default) for doc in documents.values()), default)


def has_imx500(documents: dict[str, dict]) -> bool:
    """Whether the tables get an IMX500 column."""
    return any("imx500" in doc for doc in documents.values())


def table_rows(documents: dict[str, dict], verdicts: dict[str, str], missing: list[str] = ()) -> list[tuple]:
    """Header and one row per configuration; `missing`: configurations without results (dashes).

    A column per model role (Keras, TFLite, quantized, q. Keras; PyTorch, quantized (ONNX), q. PyTorch); the drop
    is the quantized file's against the float model with its interval; "verdict" is the decision rule's word
    on it (INCONCLUSIVE shows as such); IMX500 (memory used, percent) when any has it.
    """
    confidence, with_imx500, shown = interval_confidence(documents), has_imx500(documents), column_roles(documents)
    header = ("configuration", *(heading(documents, role) for role in shown), f"drop (pp) [{confidence * 100:g}% CI]",
              "verdict", *(("IMX500",) if with_imx500 else ()), "images", "gate")
    rows = [header]
    for name, doc in documents.items():
        quantized, float_key = model_entry(doc, "quantized"), reference_model(doc, "float").key
        rows.append((name, *(_top1(model_entry(doc, role)) for role in shown),
                     interval_text(quantized["paired"][float_key]), quantized["decision"]["verdict"],
                     *((imx500.cell(doc.get("imx500")),) if with_imx500 else ()), str(doc["num_images"]),
                     verdicts.get(name, "FAIL")))
    for name in missing:
        rows.append((name, *("—",) * (len(header) - 2), verdicts.get(name, "FAIL")))
    return rows


def _top1(model: dict | None) -> str:
    return "—" if model is None else f"{model['top_1_accuracy']:.4f}"


def table(documents: dict[str, dict], verdicts: dict[str, str], missing: list[str] = ()) -> str:
    """The table as aligned text lines."""
    return format_rows(table_rows(documents, verdicts, missing))


def notes(documents: dict[str, dict]) -> list[str]:
    """Lines under the table where the data cannot tell on which side of thresholds.max_top1_drop the
    table's drop (model_quantized.tflite's) is: its interval straddles the threshold."""
    lines = []
    for name, doc in documents.items():
        model = model_entry(doc, "quantized")
        judged, paired = model["decision"], model["paired"][reference_model(doc, "float").key]
        if not judged.get("undecided"):
            continue
        low, high = paired["interval_points"]
        lines.append(
            f"{name}: the {judged['confidence'] * 100:g} % interval of the drop ({low:+.1f} to {high:+.1f} points) "
            f"straddles thresholds.max_top1_drop ({float(judged['max_top1_drop'])} points): {doc['num_images']} "
            f"images cannot tell on which side the drop is; {images_needed(judged, paired)}")
    return lines


def blocks(documents: dict[str, dict], verdicts: dict[str, str], failures: dict[str, str]) -> list[tuple[str, list[str]]]:
    """What a run prints at its end, as (title, lines) blocks: the Top-1 table with its notes and where each
    configuration's results are, then the variants table and the sections' lines. failures: configurations
    whose run gave no results, with why. The pytest plugin and `python -m vsq run` print the same."""
    from vsq.sections import all_sections
    from vsq.sections.comparison import TABLE_HEADER, table_rows

    missing = [name for name in failures if name not in documents]
    lines = [*table(documents, verdicts, missing).splitlines(), *notes(documents)]
    for name, doc in documents.items():
        lines.append(f"{name}: results in {doc['results_file']}")
        reused = [what for what, how in doc.get("cache", {}).items() if how == "hit"]
        if reused:
            lines.append(f"{name}: reused from the cache: {', '.join(reused)}; --no-cache builds everything again")
    lines += [f"{name}: no results from this run: {' '.join(failures[name].split())}" for name in missing]
    out = [("vsq: Top-1 accuracy", lines)]
    compared = {name: doc["variants"] for name, doc in documents.items() if doc.get("variants")}
    section_lines = [line for section in all_sections() for name, doc in documents.items()
                     for line in section.terminal_lines(name, doc)]
    if compared:
        rows = [TABLE_HEADER] + [row for name, part in compared.items() for row in table_rows(name, part)]
        out.append(("vsq: variants (same images, Top-1 against Keras)", format_rows(rows).splitlines() + section_lines))
    elif section_lines:
        out[0][1].extend(section_lines)
    return out
