"""The float model's raw outputs on the box screen's sample resized the other way (stretch when the configuration
letterboxes, letterbox when it stretches), so that the screen (vsq.tasks.detection.screen) can name
preprocessing.mode when the model was trained the other way.

Running the model on the sample again means loading the float model, which a run served from the cache otherwise
never does: the outputs are stored in the cache (kind "detection-resize", one small JSON file), keyed as the
preprocessing screen's are (vsq.pipeline.artifacts.screen_key): the float model's digest, the evaluation images, the
other preprocessing and the library that decodes the images, the sample's ids, the stack and the host's instruction
set. An entry that does not hold the sample's outputs is damaged: it is built again. A run
without a cache (a test's namespace with no `cached`) runs the model each time. The outputs are read back from the
stored form in both cases, so a warm run reads exactly what the cold one did.
"""

from __future__ import annotations

import json
from dataclasses import replace

from vsq.cache.store import key_of
from vsq.tasks.detection.evaluation import raw_entry, raw_of
from vsq.util.cpu import instruction_set
from vsq.util.versions import image_library

KIND = "detection-resize"
FORMAT = 1  # of the stored outputs; part of the key
STORED = "outputs.json"
WHAT = "box screen's other resize"  # the artifact's name in the cache log (results.json `cache`)


def other(resize: str) -> str:
    return "stretch" if resize == "letterbox" else "letterbox"


def outputs(p, image_ids: list[int], resize: str) -> dict:
    """{the other resize: [Raw per id of image_ids]} ({} with no image). p: vsq.core.checks.Run."""
    if not image_ids:
        return {}
    preprocessing = _preprocessing(p, other(resize))
    cached = getattr(p, "cached", None)
    if cached is None:
        stored = _run(p, image_ids, preprocessing)
    else:
        prints = p.fingerprints
        key = key_of(artifact=KIND, format=FORMAT, model=prints.model, evaluation=prints.evaluation,
                     preprocessing={**preprocessing.cache_key(), "image_library": image_library()},
                     images=list(image_ids), stack=prints.stack, cpu=instruction_set())

        def build(folder):
            (folder / STORED).write_text(json.dumps(_run(p, image_ids, preprocessing)))

        def damaged(folder):
            return None if _read(folder, image_ids) is not None else f"{STORED} does not hold the sample's outputs"

        entry = cached.get_or_build(KIND, key, WHAT, build, needs=(STORED,), check=damaged)
        stored = _read(entry, image_ids)
    return {other(resize): [raw_of(entry) for entry in stored["raw"]]}


def _read(folder, image_ids: list[int]) -> dict | None:
    """The stored outputs of the sample, or None when the file holds anything else."""
    try:
        stored = json.loads((folder / STORED).read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(stored, dict) and stored.get("image_ids") == list(image_ids) and \
        isinstance(stored.get("raw"), list) and len(stored["raw"]) == len(image_ids)
    return stored if ok else None


def _preprocessing(p, resize: str):
    return replace(p.config.preprocessing, mode="square" if resize == "stretch" else "letterbox")


def _run(p, image_ids: list[int], preprocessing) -> dict:
    """The float model on the sample (decoded and resized by `preprocessing`), in the stored form."""
    import numpy as np

    from vsq.tasks.detection.boxes import Raw

    paths = dict(zip(p.job.evaluation_set.labels, p.job.evaluation_set.paths))
    pixels = np.stack([preprocessing.normalize(preprocessing.decode(paths[i]).pixels) for i in image_ids])
    found = p.framework.predictor(p.model)(pixels)
    raws = [Raw(boxes=found.boxes[n], scores=found.scores[n], classes=found.classes[n], count=int(found.count[n]))
            for n in range(len(image_ids))]
    return {"image_ids": list(image_ids), "raw": [raw_entry(raw) for raw in raws]}
