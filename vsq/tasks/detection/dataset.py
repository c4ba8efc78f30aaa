"""Detection's data: the COCO annotations file (evaluate_label_file) read with the configuration's errors, the
evaluation images it lists (checked at prepare time), and how the configuration says the boxes are read.

The task reads, checks and hashes the file once per run (the pipeline's fingerprint of the evaluation set hashes
it once more, as every input file): the last read is kept, keyed by the file's path and stat (device,
inode, size, modification and change times) and the class offset, and reused while those stay the same; the
evaluation set's truth is kept with it (the last one). A file changed on disk is read again."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from vsq.configuration.datasets import EvaluationSet, check_evaluation_extension, natural_key, walk_files
from vsq.configuration.preprocessing import ImageError, open_image
from vsq.tasks.detection import annotations
from vsq.tasks.detection.boxes import BoxFormat

KEY = "evaluate_label_file"
EXIF_ORIENTATION = 0x0112  # the EXIF tag ImageOps.exif_transpose reads


@dataclass(frozen=True)
class Truth:
    coco: dict  # the ground truth of the evaluated images (pycocotools reads it)
    images: tuple  # annotations.Image per evaluation image, in the evaluation set's order

    def restricted(self, ids) -> Truth:
        """The truth of the images of `ids` alone (their entries and annotations, in this truth's order)."""
        kept = set(ids)
        return Truth(coco={**self.coco, "images": [i for i in self.coco["images"] if i["id"] in kept],
                           "annotations": [a for a in self.coco["annotations"] if a["image_id"] in kept]},
                     images=tuple(image for image in self.images if image.id in kept))


_LAST: dict = {}  # "annotations": (key, Annotations); "truth": ((key, labels), Truth): one of each at most


def _stat_key(config) -> tuple | None:
    path = config.evaluate_label_file
    try:
        found = path.stat()
    except OSError:
        return None  # read() says why, in one line
    return (str(path.resolve()), found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns,
            config.detection.class_offset)


def read_annotations(config) -> annotations.Annotations:
    """The checked annotations (their `digest`: the file's sha256), read once while the file stays the same."""
    key = _stat_key(config)
    kept = _LAST.get("annotations")
    if key is not None and kept is not None and kept[0] == key:
        return kept[1]
    found = annotations.read(config.evaluate_label_file, class_offset=config.detection.class_offset,
                             where=config.shown(KEY), error=lambda message: config.error(KEY, message))
    if key is not None and _stat_key(config) == key:  # not changed while it was read
        _LAST.clear()
        _LAST["annotations"] = (key, found)
    return found


def truth(config, labels: tuple) -> Truth:
    """The truth of the evaluation images `labels` (their ids, in the evaluation set's order), made once per
    annotations read and evaluation set."""
    found = read_annotations(config)
    key = (_stat_key(config), tuple(labels))
    kept = _LAST.get("truth")
    if kept is not None and kept[0] == key and _LAST.get("annotations", (None, None))[1] is found:
        return kept[1]
    by_id = {image.id: image for image in found.images}
    made = Truth(coco=found.coco(), images=tuple(by_id[image_id] for image_id in labels)).restricted(labels)
    if _LAST.get("annotations", (None, None))[1] is found:
        _LAST["truth"] = (key, made)
    return made


def box_format(config) -> BoxFormat:
    """How the detector's boxes are read: the configuration's detection object; mapped back through the resize
    preprocessing.mode says (letterbox, else square: stretch; shorter_side is refused for detectors)."""
    settings = config.detection
    resize = "letterbox" if config.preprocessing.mode == "letterbox" else "stretch"
    return BoxFormat(settings.box_order, settings.boxes_normalized, settings.class_offset, resize)


def _relative(config, path: Path) -> str:
    return path.relative_to(config.evaluate_image_dir).as_posix()


def upright_size(opened) -> tuple[int, int]:
    """(width, height) of the image as decoding turns it (EXIF orientations 5 to 8 are quarter turns, so width and
    height swap): the boxes refer to the image the model sees."""
    try:
        orientation = opened.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # a broken EXIF block (a stranger's file): read as no rotation
        orientation = 1
    return (opened.height, opened.width) if orientation in (5, 6, 7, 8) else (opened.width, opened.height)


def scan(config) -> EvaluationSet:
    """The evaluation images: every .<evaluate_image_extension> file under evaluate_image_dir (natural order),
    each listed in the annotations with the size its header gives; ConfigError naming the file and entry."""
    found = read_annotations(config)
    root, suffix = config.evaluate_image_dir, f".{config.evaluate_image_extension}"
    files = list(walk_files(config, "evaluate_image_dir", root))
    check_evaluation_extension(config, Counter(p.suffix for p in files))
    paths = sorted((p for p in files if p.suffix == suffix), key=lambda p: natural_key(_relative(config, p)))
    where, error = config.shown(KEY), (lambda message: config.error(KEY, message))
    images = annotations.match_files(found, [_relative(config, p) for p in paths], where=where, error=error)
    index = {image.id: n for n, image in enumerate(found.images)}
    for path, image in zip(paths, images):
        try:
            with open_image(path, config.preprocessing.max_image_pixels) as opened:  # the header only
                annotations.check_sizes(image, *upright_size(opened), where=where, index=index[image.id],
                                        error=error)
        except ImageError as problem:
            raise config.error("evaluate_image_dir", str(problem)) from None
        except OSError:
            continue  # a file that cannot be decoded is reported by the evaluation (unreadable_images)
    offset = config.detection.class_offset
    count = max(found.categories) - offset + 1
    names = tuple(found.categories.get(index + offset, f"class {index}") for index in range(count))
    return EvaluationSet(class_names=names, paths=tuple(paths), labels=tuple(image.id for image in images),
                         found=len(paths))
