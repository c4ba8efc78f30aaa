"""COCO annotations of the evaluation images, read and checked before anything heavy starts.

The file comes from strangers: its size is bounded before it is read, its counts before anything is built, and a
mistake is one line naming the file, the entry (its index and id) and the fix. Strings of the file (file names,
category names) are never quoted in a message (the trust boundary, ARCHITECTURE.md): the entry's index and id name
it. An evaluation image found on disk and not listed is named by its path (cut to 60 characters, through repr).

What must hold: `images` lists every evaluation image once (an image with no objects is listed and has no
annotation), `categories` ids lie in the model's classes (category_id = class + class_offset), every annotation
names a listed image and category, and its `bbox` [x, y, w, h] (pixels, top-left corner) lies inside its image
(to within one pixel, as COCO's own files do).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from vsq.errors import VsqError

MAX_BYTES = 256 * 2**20  # COCO val2017's instances file is 25 MB; 10x that is still a file, not an attack
MAX_IMAGES = 200_000
MAX_ANNOTATIONS = 2_000_000
MAX_CATEGORIES = 2000  # labels.json's bound (vsq.configuration.datasets.MAX_CLASSES)
EDGE_TOLERANCE = 1.0  # pixels a box may pass its image's edge (COCO's own boxes do, by rounding)
LARGEST_SIDE = 2**16  # pixels: past every image format vsq decodes (JPEG stops at 65,535)
LARGEST_ID = 2**63 - 1  # ids and sizes stay numpy int64s and floats (pycocotools turns them into arrays)
SHAPE = '{"images": [...], "annotations": [...], "categories": [...]}'


@dataclass(frozen=True)
class Image:
    id: int
    file_name: str
    width: int
    height: int


@dataclass(frozen=True)
class Box:
    image_id: int
    category_id: int
    bbox: tuple[float, float, float, float]  # x, y, w, h in pixels of the original image
    iscrowd: int = 0


@dataclass(frozen=True)
class Annotations:
    images: tuple[Image, ...]
    categories: dict[int, str]  # id -> name
    boxes: tuple[Box, ...]
    digest: str = field(default="", compare=False)  # sha256 of the file's bytes (read): part of cache keys

    def coco(self) -> dict:
        """The checked content as a COCO ground-truth document (what pycocotools reads): nothing the file held
        beyond what was checked."""
        return {
            "images": [{"id": i.id, "file_name": i.file_name, "width": i.width, "height": i.height} for i in self.images],
            "annotations": [{"id": n + 1, "image_id": b.image_id, "category_id": b.category_id, "bbox": list(b.bbox),
                             "area": b.bbox[2] * b.bbox[3], "iscrowd": b.iscrowd} for n, b in enumerate(self.boxes)],
            "categories": [{"id": c, "name": name} for c, name in sorted(self.categories.items())],
        }

    def by_file(self) -> dict[str, Image]:
        return {image.file_name: image for image in self.images}


def shown(text: str) -> str:
    """A path found on disk in a message: repr, cut to 60 characters."""
    return repr(text if len(text) <= 60 else text[:59] + "…")


class _Reader:
    def __init__(self, where: str, error: Callable[[str], Exception]):
        self.where, self.error = where, error

    def fail(self, message: str):
        raise self.error(f"{self.where}: {message}")

    def integer(self, entry: dict, key: str, at: str, minimum: int | None = None, maximum: int = LARGEST_ID) -> int:
        value = entry.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{at}: {key} must be an integer, not {_type(value)}; fix the entry")
        if value > maximum:  # before any arithmetic: a 400-digit int overflows a float
            self.fail(f"{at}: {key} is more than {maximum:,}; fix the entry")
        if value < -LARGEST_ID:
            self.fail(f"{at}: {key} is less than -{LARGEST_ID:,}; fix the entry")
        if minimum is not None and value < minimum:
            self.fail(f"{at}: {key} is {value}, less than {minimum}; fix the entry")
        return value

    def entries(self, document: dict, key: str, limit: int) -> list[dict]:
        items = document.get(key)
        if not isinstance(items, list):
            self.fail(f"{key} must be a list, not {_type(items)}; a COCO file is {SHAPE}")
        if len(items) > limit:
            self.fail(f"{key} has {len(items):,} entries, more than the {limit:,} vsq reads; split the evaluation set")
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                self.fail(f"{key}[{n}] must be an object, not {_type(item)}; fix the entry")
        return items


def _type(value) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "an object", type(None): "missing or null"}
    return names.get(type(value), type(value).__name__)


def read(path: Path, *, num_classes: int | None = None, class_offset: int = 0, where: str | None = None,
         error: Callable[[str], Exception] = VsqError) -> Annotations:
    """Read and check a COCO annotations file. `where` names it in messages (the path as the user wrote it);
    `error` makes the exception raised from a message (ConfigError with the configuration's key, for example)."""
    reader = _Reader(where or str(path), error)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            reader.fail(f"is {size:,} bytes, more than the {MAX_BYTES:,} bytes vsq reads; split the evaluation set")
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as problem:
        reason = problem.strerror if isinstance(problem, OSError) else "not UTF-8"
        reader.fail(f"cannot be read ({reason}); write the annotations as UTF-8 JSON")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as problem:
        reader.fail(f"is not valid JSON: {problem.msg} at line {problem.lineno} column {problem.colno}; "
                    f"a COCO file is {SHAPE}")
    except (RecursionError, ValueError):
        reader.fail(f"cannot be read (nesting or a number too large); a COCO file is {SHAPE}")
    found = check(document, reader, num_classes=num_classes, class_offset=class_offset)
    return replace(found, digest=hashlib.sha256(data).hexdigest())


def check(document, reader: _Reader, *, num_classes: int | None, class_offset: int) -> Annotations:
    if not isinstance(document, dict):
        reader.fail(f"must be an object, not {_type(document)}; a COCO file is {SHAPE}")
    images = _images(reader, reader.entries(document, "images", MAX_IMAGES))
    categories = _categories(reader, reader.entries(document, "categories", MAX_CATEGORIES), num_classes,
                             class_offset)
    boxes = _boxes(reader, reader.entries(document, "annotations", MAX_ANNOTATIONS),
                   {image.id: image for image in images}, categories)
    return Annotations(images=images, categories=categories, boxes=boxes)


def _images(reader: _Reader, entries: list[dict]) -> tuple[Image, ...]:
    if not entries:
        reader.fail("images is empty; list every evaluation image (one with no objects too)")
    out, ids, names = [], {}, {}
    for n, entry in enumerate(entries):
        at = f"images[{n}]"
        image_id = reader.integer(entry, "id", at)
        at = f"images[{n}] (id {image_id})"
        name = entry.get("file_name")
        if not isinstance(name, str) or not _plain_name(name):
            reader.fail(f"{at}: file_name must be a file's path under the evaluation folder (no '..', not "
                        "absolute, not empty); fix the entry")
        width, height = (reader.integer(entry, key, at, minimum=1, maximum=LARGEST_SIDE) for key in ("width", "height"))
        if image_id in ids:
            reader.fail(f"{at}: id {image_id} is also the id of images[{ids[image_id]}]; give each image its own id")
        if name in names:
            reader.fail(f"{at}: file_name is also images[{names[name]}]'s; list each image once")
        ids[image_id], names[name] = n, n
        out.append(Image(id=image_id, file_name=name, width=width, height=height))
    return tuple(out)


def _plain_name(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return bool(name) and "\0" not in name and not name.startswith(("/", "\\")) and ":" not in parts[0] \
        and all(part not in ("", ".", "..") for part in parts)


def _categories(reader: _Reader, entries: list[dict], num_classes: int | None, offset: int) -> dict[int, str]:
    if not entries:
        reader.fail("categories is empty; list the model's classes as {\"id\": 1, \"name\": \"cat\"}")
    out: dict[int, str] = {}
    for n, entry in enumerate(entries):
        category = reader.integer(entry, "id", f"categories[{n}]")
        at = f"categories[{n}] (id {category})"
        name = entry.get("name", "")
        if not isinstance(name, str):
            reader.fail(f"{at}: name must be a string, not {_type(name)}; fix the entry")
        if category in out:
            reader.fail(f"{at}: id {category} appears twice; give each category its own id")
        if num_classes is not None and not 0 <= category - offset < num_classes:
            reader.fail(f"{at}: id {category} is not one of the model's {num_classes} classes "
                        f"(category ids {offset}..{offset + num_classes - 1} with class_offset {offset}); "
                        "renumber the categories or set detection.class_offset")
        if not 0 <= category - offset < MAX_CATEGORIES:  # class index = id - offset: a model's output index
            reader.fail(f"{at}: id {category} gives class index {category - offset} with class_offset {offset}; "
                        f"class indices are 0..{MAX_CATEGORIES - 1}: renumber the categories or set "
                        "detection.class_offset")
        out[category] = name
    return out


def _boxes(reader: _Reader, entries: list[dict], images: dict[int, Image], categories: dict[int, str]):
    out = []
    for n, entry in enumerate(entries):
        at = f"annotations[{n}]"
        if "id" in entry:
            at = f"annotations[{n}] (id {reader.integer(entry, 'id', at)})"
        image_id = reader.integer(entry, "image_id", at)
        if image_id not in images:
            reader.fail(f"{at}: image_id {image_id} is not an id of images; list the image or fix the id")
        category = reader.integer(entry, "category_id", at)
        if category not in categories:
            reader.fail(f"{at}: category_id {category} is not an id of categories; list it or fix the id")
        crowd = entry.get("iscrowd", 0)
        if crowd not in (0, 1) or isinstance(crowd, float):
            reader.fail(f"{at}: iscrowd must be 0 or 1; fix the entry")
        bbox = entry.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4 or not all(_number(v) for v in bbox):
            reader.fail(f"{at}: bbox must be [x, y, width, height], four finite numbers in pixels; fix the entry")
        x, y, w, h = (float(v) for v in bbox)
        if w <= 0 or h <= 0:
            reader.fail(f"{at}: bbox [x, y, width, height] has width {w:g} and height {h:g}; both must be more than "
                        "0 (a box given as [x1, y1, x2, y2] must be written as [x, y, x2 - x, y2 - y])")
        image = images[image_id]
        if x < -EDGE_TOLERANCE or y < -EDGE_TOLERANCE or x + w > image.width + EDGE_TOLERANCE \
                or y + h > image.height + EDGE_TOLERANCE:
            reader.fail(f"{at}: bbox [{x:g}, {y:g}, {w:g}, {h:g}] is not inside image {image_id} ({image.width} x "
                        f"{image.height} pixels); boxes are [x, y, width, height] in pixels of the image")
        out.append(Box(image_id=image_id, category_id=category, bbox=(x, y, w, h), iscrowd=int(crowd)))
    return tuple(out)


def _number(value) -> bool:
    """A finite number a float holds (JSON integers have no size limit; 10**400 is no coordinate)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def match_files(annotations: Annotations, files: Iterable[str], *, where: str,
                error: Callable[[str], Exception] = VsqError) -> tuple[Image, ...]:
    """The listed image of every evaluation file (paths relative to the evaluation folder, '/'-separated), in the
    files' order; a file not listed, or a listed image with no file, is an error."""
    files = list(files)
    listed = annotations.by_file()
    missing = [name for name in files if name not in listed]
    if missing:
        raise error(f"{where}: the evaluation image {shown(missing[0])} is not in images ({len(missing)} not "
                    "listed); list every evaluation image, with no annotation when it holds no object")
    present = set(files)
    absent = [(n, image) for n, image in enumerate(annotations.images) if image.file_name not in present]
    if absent:
        n, image = absent[0]
        raise error(f"{where}: images[{n}] (id {image.id}): file_name names no file in the evaluation folder "
                    f"({len(absent)} such entries); add the file or remove the entry and its annotations")
    return tuple(listed[name] for name in files)


def check_sizes(image: Image, width: int, height: int, *, where: str, index: int | None = None,
                error: Callable[[str], Exception] = VsqError) -> None:
    """The file's size (read from its header) is the size the annotations give it, or the boxes mean nothing.
    index: the entry's position in images (named in the message)."""
    if (image.width, image.height) != (width, height):
        at = f"images[{index}] (id {image.id})" if index is not None else f"the images entry of id {image.id}"
        raise error(f"{where}: {at}: its file is {width} x {height} pixels, but the entry says {image.width} x "
                    f"{image.height}; fix width and height")
