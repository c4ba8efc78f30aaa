"""Detection's data: the COCO annotations file (evaluate_label_file) read with the configuration's errors, the
evaluation images it lists (checked at prepare time), and how the configuration says the boxes are read."""

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


def read_annotations(config) -> annotations.Annotations:
    return annotations.read(config.evaluate_label_file, class_offset=config.detection.class_offset,
                            where=config.shown(KEY), error=lambda message: config.error(KEY, message))


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
    for path, image in zip(paths, images):
        try:
            with open_image(path, config.preprocessing.max_image_pixels) as opened:  # the header only
                annotations.check_sizes(image, *upright_size(opened), where=where, error=error)
        except ImageError as problem:
            raise config.error("evaluate_image_dir", str(problem)) from None
        except OSError:
            continue  # a file that cannot be decoded is reported by the evaluation (unreadable_images)
    offset = config.detection.class_offset
    count = max(found.categories) - offset + 1
    names = tuple(found.categories.get(index + offset, f"class {index}") for index in range(count))
    return EvaluationSet(class_names=names, paths=tuple(paths), labels=tuple(image.id for image in images),
                         found=len(paths))
