"""A detector's per-class AP@[.5:.95] (results.json `models.<key>.per_class_ap`, pycocotools' figures) of the float
and the quantized model, and its drop, largest first: the rows the terminal table, the HTML table and the chart
show. No check judges a single class (map_drop_within_threshold judges the mean): the rows say where a drop is.

Category names come from the annotations file (`categories`) and the document from anywhere: every figure is
checked here, every name is escaped by the renderer that shows it (HTML here, the terminal's in vsq.util.text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from vsq.core.reference import reference_model

MAX_ROWS = 1000  # of a crafted document (COCO has 80 categories)
MAX_NAME = 80  # characters of a category's name shown


@dataclass(frozen=True)
class ClassAP:
    name: str  # the category's name (untrusted), or its id when the document has none
    float_ap: float | None  # None: no object of the class among the images (pycocotools' -1), or not recorded
    quantized_ap: float | None

    @property
    def drop_points(self) -> float | None:
        """The float model's AP minus the quantized one's, points (right of 0 is worse)."""
        if self.float_ap is None or self.quantized_ap is None:
            return None
        return (self.float_ap - self.quantized_ap) * 100.0


def models(document: dict) -> tuple[str, str] | None:
    """(float label, quantized label) of the two models compared; None when the document has no per-class AP."""
    floating, quantized = reference_model(document, "float"), reference_model(document, "quantized")
    entries = document.get("models") if isinstance(document.get("models"), dict) else {}
    if floating is None or quantized is None or not all(
            isinstance(entries.get(model.key), dict) and isinstance(entries[model.key].get("per_class_ap"), dict)
            for model in (floating, quantized)):
        return None
    return floating.label, quantized.label


def rows(document: dict) -> list[ClassAP]:
    """One row per category of either model's per_class_ap, the largest drop first (classes without a drop last)."""
    if models(document) is None:
        return []
    entries = document["models"]
    floating = entries[reference_model(document, "float").key]["per_class_ap"]
    quantized = entries[reference_model(document, "quantized").key]["per_class_ap"]
    names = document.get("categories") if isinstance(document.get("categories"), dict) else {}
    found = []
    for category in list(dict.fromkeys([*floating, *quantized]))[:MAX_ROWS]:
        name = names.get(category)
        shown = str(name)[:MAX_NAME] if isinstance(name, (str, int)) and not isinstance(name, bool) else str(category)
        found.append(ClassAP(shown[:MAX_NAME], _fraction(floating.get(category)), _fraction(quantized.get(category))))
    return sorted(found, key=lambda row: (row.drop_points is None, -(row.drop_points or 0.0), row.name))


def cells(row: ClassAP) -> tuple[str, str, str, str]:
    """A row as text: name, float AP, quantized AP, drop ("—" where a figure is missing)."""
    return (row.name, *(("—" if value is None else f"{value:.4f}") for value in (row.float_ap, row.quantized_ap)),
            "—" if row.drop_points is None else f"{row.drop_points:+.2f}")


def html_table(name: str, document: dict) -> str:
    """The per-class table of a configuration as HTML, every string escaped; "" without per-class AP."""
    labels, found = models(document), rows(document)
    if labels is None or not found:
        return ""
    head = ("class", f"AP {labels[0]}", f"AP {labels[1]}", "drop (pp)")
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in cells(row)) + "</tr>" for row in found)
    return (f'<table class="vsq-per-class-ap"><caption>{escape(name)}: per-class AP@[.5:.95], largest drop first '
            "(not gated: map_drop_within_threshold judges the mean)</caption><thead><tr>"
            + "".join(f"<th>{escape(cell)}</th>" for cell in head) + f"</tr></thead><tbody>{body}</tbody></table>")


def _fraction(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value) if 0.0 <= value <= 1.0 else None
