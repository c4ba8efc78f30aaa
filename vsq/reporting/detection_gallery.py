"""Where a detector changed: the evaluation images whose detections changed most between the float and the
quantized model (results.json `changes`, vsq.tasks.detection.matching), each drawn with both models' boxes (float
green, quantized magenta, dashed), for the self-contained HTML report. Images are embedded only from folders the
caller grants and scaled as the classification gallery's thumbnails are (vsq.reporting.gallery.granted, scaled_image)."""

from __future__ import annotations

import base64
import io
from html import escape

from vsq.reporting.gallery import granted, scaled_image

SIDE = 192  # pixels, the longer side: boxes need more room than a class thumbnail
FLOAT_COLOUR, QUANTIZED_COLOUR = (0, 170, 0), (220, 0, 200)


def _dashed(draw, box, colour, dash: int = 4) -> None:
    x1, y1, x2, y2 = box
    for start, end, horizontal in (((x1, y1), x2, True), ((x1, y2), x2, True), ((x1, y1), y2, False),
                                   ((x2, y1), y2, False)):
        position, fixed = (start[0], start[1]) if horizontal else (start[1], start[0])
        while position < end:
            stop = min(position + dash, end)
            draw.line([(position, fixed), (stop, fixed)] if horizontal else [(fixed, position), (fixed, stop)],
                      fill=colour, width=2)
            position += 2 * dash


def _shown_boxes(rows, scale: float, size: tuple[int, int]) -> list[tuple]:
    """The boxes of a results.json (a stranger's, maybe) that are [category, score, x, y, w, h] of finite
    numbers, scaled and clipped to the picture: at most 100, so a crafted list cannot stall the report."""
    import math

    out = []
    for row in rows[:100] if isinstance(rows, list) else []:
        if not (isinstance(row, list) and len(row) == 6 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                                and math.isfinite(v) for v in row)):
            continue
        x, y, w, h = (v * scale for v in row[2:])
        x1, y1 = min(max(x, 0), size[0] - 1), min(max(y, 0), size[1] - 1)
        x2, y2 = min(max(x + w, 0), size[0] - 1), min(max(y + h, 0), size[1] - 1)
        if x2 > x1 and y2 > y1:
            out.append((x1, y1, x2, y2))
    return out


def boxes_data_uri(path: str, reference: list, candidate: list, side: int = SIDE) -> str | None:
    """`data:image/png;base64,...` of the image scaled to `side` on its longer side (vsq.reporting.gallery.scaled_image)
    with the boxes ([category_id, score, x, y, w, h] in the upright image's pixels) drawn; None when it cannot be
    read. The caller decides whether the path may be read (vsq.reporting.gallery.granted)."""
    from PIL import ImageDraw

    scaled = scaled_image(path, side)
    if scaled is None:
        return None
    shown, scale = scaled
    draw = ImageDraw.Draw(shown)
    for box in _shown_boxes(reference, scale, shown.size):
        draw.rectangle(box, outline=FLOAT_COLOUR, width=2)
    for box in _shown_boxes(candidate, scale, shown.size):
        _dashed(draw, box, QUANTIZED_COLOUR)
    buffer = io.BytesIO()
    shown.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def changes_html(name: str, document: dict, folders=(), limit: int = 12) -> str:
    """The most changed images with both models' boxes; captions from the document (counts, matched, change)."""
    rows = document.get("changes")
    rows = rows if isinstance(rows, list) else []
    title = f"<h4>{escape(name)}: where the detections changed</h4>"
    if not rows:
        return f'{title}<p class="vsq-gallery-none">no image changed between the float and quantized model</p>'
    cells = []
    for row in (r for r in rows[:limit] if isinstance(r, dict)):
        real, why_not = granted(row.get("file"), folders)
        uri = boxes_data_uri(real, row.get("reference_boxes", []), row.get("candidate_boxes", [])) if real else None
        why_not = why_not or "image not available here"
        picture = f'<img src="{uri}" alt="">' if uri else f'<span class="vsq-gallery-none">{escape(why_not)}</span>'
        caption = escape(f"image {_number(row, 'image_id')}: change {_number(row, 'change', '.2f')}") + "<br>" + \
            escape(f"float {_number(row, 'reference')}, quantized {_number(row, 'candidate')}, "
                   f"matched {_number(row, 'matched')}")
        cells.append(f"<figure>{picture}<figcaption>{caption}</figcaption></figure>")
    legend = "<p>float model: green boxes; quantized model: dashed magenta</p>"
    return f'{title}{legend}<div class="vsq-gallery">{"".join(cells)}</div>'


def _number(row: dict, key: str, form: str = "d") -> str:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "?"
    try:
        return format(value if form != "d" else int(value), form)
    except (ValueError, OverflowError):
        return "?"
