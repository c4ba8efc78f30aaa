"""The summary table of a run, from its results documents: one place for the terminal and `vsq report`."""

from __future__ import annotations

from vsq.history import format_rows

HEADER = ("configuration", "Keras", "TFLite", "quantized", "drop (pp)", "images", "gate")


def table_rows(documents: dict[str, dict], verdicts: dict[str, str], missing: list[str] = ()) -> list[tuple]:
    """Header and one row per configuration; `missing`: configurations without results (dashes)."""
    rows = [HEADER]
    for name, doc in documents.items():
        rows.append((name, f"{doc['top_1_accuracy_keras']:.4f}", f"{doc['top_1_accuracy_tflite']:.4f}",
                     f"{doc['top_1_accuracy_tflite_quantized']:.4f}",
                     f"{doc['top_1_drop_points']['tflite_quantized']:+.2f}", str(doc["num_images"]),
                     verdicts.get(name, "FAIL")))
    for name in missing:
        rows.append((name, *("—",) * (len(HEADER) - 2), verdicts.get(name, "FAIL")))
    return rows


def table(documents: dict[str, dict], verdicts: dict[str, str], missing: list[str] = ()) -> str:
    """The table as aligned text lines."""
    return format_rows(table_rows(documents, verdicts, missing))
