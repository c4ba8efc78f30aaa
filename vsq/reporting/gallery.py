"""The images that flipped: a gallery of the evaluation images model_quantized.tflite classified
differently from Keras, for the self-contained HTML report.

The list comes from results.json (`models.tflite_quantized.flipped`, losses first); each image becomes a
small JPEG thumbnail embedded as a data URI, so the report needs no other file. No pytest, no TensorFlow.

A results.json names whatever paths it likes, so an image is embedded only when it lies, links resolved, under
a folder the caller grants (a run: its configuration's evaluate_image_dir, which the run checked; `vsq report`:
the folders given with --images), is a JPEG, PNG or BMP file and is within the pixel limit (a bomb there is a
caption, not a crash).
"""

from __future__ import annotations

import base64
import io
import os
from html import escape
from pathlib import Path

from vsq.core.reference import reference_model

THUMBNAIL_SIDE = 96  # pixels, the longer side
KIND_WORDS = {"loss": "loss", "gain": "gain", "both_wrong": "both wrong"}


def scaled_image(path: str, side: int):
    """(RGB image, scale) of the image at `path` with `side` pixels on its longer side (EXIF rotation applied; a JPEG
    decoded at a reduced scale first; a tiny image enlarged so that a reviewer can see it), scale being its size
    against the upright file's (what a box in the file's pixels is multiplied by); None when the file cannot be read
    (e.g. a report made elsewhere) or is not a JPEG, PNG or BMP image within the pixel limit. The caller decides
    whether the path may be read (granted)."""
    from PIL import Image, ImageOps

    from vsq.configuration.preprocessing import ImageError, as_8bit_rgb, open_image

    try:
        with open_image(path) as image:
            longer = max(image.size)  # the file's: EXIF rotation swaps the sides, not the longer one
            image.draft("RGB", (side, side))  # JPEG: decode at a reduced scale, still >= side
            image = as_8bit_rgb(ImageOps.exif_transpose(image))  # as the models see it: 16-bit grey scaled, not clipped
            image.thumbnail((side, side))
            if max(image.size) < side:
                scale = side / max(image.size)
                image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                                     Image.NEAREST)
    except (OSError, ValueError, SyntaxError, ImageError, Image.DecompressionBombError):
        return None  # missing, unreadable, not an image, or too large
    return image, max(image.size) / longer


def thumbnail_data_uri(path: str, side: int = THUMBNAIL_SIDE) -> str | None:
    """`data:image/jpeg;base64,...` of the image at `path` scaled to `side` pixels on its longer side (scaled_image);
    None when it cannot be read."""
    scaled = scaled_image(path, side)
    if scaled is None:
        return None
    buffer = io.BytesIO()
    scaled[0].save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def granted(path, folders) -> tuple[str | None, str]:
    """(the real path, "") of an image a results.json names when it lies under one of `folders` once links are
    resolved, else (None, why it is not shown)."""
    if not isinstance(path, str) or not path:
        return None, "not shown: the results file names no image path"
    if not folders:
        return None, "not shown: no image folder was given (vsq report --images DIR)"
    real = os.path.realpath(path)
    if not any(Path(real).is_relative_to(os.path.realpath(folder)) for folder in folders):
        return None, "not shown: outside the image folders given"
    return real, ""


def thumbnail(path, folders) -> tuple[str | None, str]:
    """(data URI, "") of the image at path when it lies under one of `folders` once links are resolved (granted),
    else (None, why it is not shown)."""
    real, why_not = granted(path, folders)
    if real is None:
        return None, why_not
    uri = thumbnail_data_uri(real)
    return (uri, "") if uri else (None, "image not available here")


def _caption(row: dict, floating) -> str:
    keras, model = row[floating.key], row["model"]
    return (f'<span class="vsq-kind">{escape(KIND_WORDS.get(row["kind"], row["kind"]))}</span><br>'
            f"true: {escape(row['true'])}<br>"
            f"{escape(floating.label)}: {escape(keras['class'])} ({keras['score']:.4f})<br>"
            f"quantized: {escape(model['class'])} ({model['score']:.4f})")


def gallery_html(name: str, document: dict, folders=(), limit: int = 24) -> str:
    """Up to `limit` thumbnails of the images the quantized file (model_quantized.tflite / .onnx) flipped against
    the float model, in results.json's order (losses first), each captioned true / float / quantized class
    with scores; only images under `folders` are embedded (thumbnail)."""
    quantized, floating = reference_model(document, "quantized"), reference_model(document, "float")
    rows = document.get("models", {}).get(quantized.key, {}).get("flipped")
    title = f"<h4>{escape(name)}: the images that flipped</h4>"
    if rows is None:
        return f'{title}<p class="vsq-gallery-none">results.json has no list of flipped images (an older vsq)</p>'
    if not rows:
        return (f'{title}<p class="vsq-gallery-none">No image flipped: {quantized.described} predicts the '
                f"same class as {escape(floating.label)} on every evaluation image.</p>")
    counts = {kind: sum(row["kind"] == kind for row in rows) for kind in KIND_WORDS}
    shown = rows[:limit]
    summary = (f"{len(rows)} image{'s' * (len(rows) != 1)} flipped between {floating.label} and {quantized.described} "
               f"({counts['loss']} lost, {counts['gain']} gained, {counts['both_wrong']} wrong both times); "
               f"{'the first ' + str(len(shown)) + ' shown' if len(shown) < len(rows) else 'all shown'}, "
               f"losses first; results.json lists them all ({document.get('results_file') or 'results.json'}, "
               f"models.{quantized.key}.flipped).")
    figures = []
    for row in shown:
        uri, why_not = thumbnail(row["path"], folders)
        picture = (f'<img class="vsq-thumb" alt="{escape(row["path"])}" src="{uri}"/>' if uri else
                   f'<div class="vsq-thumb vsq-missing">{escape(why_not)}</div>')
        figures.append(f'<figure class="vsq-flip vsq-{escape(row["kind"])}" title="{escape(row["path"])}">'
                       f"{picture}<figcaption>{_caption(row, floating)}</figcaption></figure>")
    return f'{title}<p>{escape(summary)}</p><div class="vsq-gallery">{"".join(figures)}</div>'
