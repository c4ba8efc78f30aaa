"""Evaluate several models on the same images: each image is decoded once, in chunks.

The chunks keep memory bounded for large folders; the next chunk is decoded in background
threads (Pillow releases the GIL) while the models run on the current one.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Collection, Iterator

import numpy as np

from vsq.runtimes.pool import CHUNK_IMAGES, in_fixed_batches  # noqa: F401 (in_fixed_batches: re-exported)
from vsq.configuration.config import Config
from vsq.configuration.datasets import EvaluationSet
from vsq.errors import VsqError, one_line
from vsq.configuration.preprocessing import Decoded, ImageError, describe_failures
from vsq.tasks import for_config
from vsq.tasks.base import Task

# Images per chunk: CHUNK_IMAGES (vsq.runtimes.pool), more on machines with many interpreter instances, so that each
# gets a few whole batches (chunk_images).
IMAGES_PER_INSTANCE = 4


@dataclass
class Chunk:
    """Preprocessed images of one chunk, which evaluation images they are, and what went wrong."""

    images: np.ndarray  # float32 (n, size, size, 3), decodable images only
    indices: np.ndarray  # their positions in EvaluationSet.paths
    errors: list  # ImageError per file that could not be decoded
    modes: list  # Pillow mode per decoded file


def chunk_images(config: Config) -> int:
    """Images per chunk: CHUNK_IMAGES, or a few whole TFLite batches per interpreter instance if more, in
    whole multiples of CHUNK_IMAGES (Keras then sees the same batches on every machine: in_fixed_batches)."""
    runtime = config.tflite_runtime
    needed = IMAGES_PER_INSTANCE * runtime.batch_size * runtime.pool_size
    return CHUNK_IMAGES * max(1, -(-needed // CHUNK_IMAGES))


def decoded_chunks(config: Config, evaluation: EvaluationSet, chunk: int = CHUNK_IMAGES) -> Iterator[Chunk]:
    """The evaluation images in order, in chunks; each decoded once, one chunk ahead, in threads."""
    preprocessing, size, paths = config.preprocessing, config.input_tensor_size, evaluation.paths

    def attempt(path):  # decode and normalise in the worker thread: the main thread only runs models
        decoded = preprocessing.try_decode(path)
        return decoded if isinstance(decoded, ImageError) else Decoded(preprocessing.normalize(decoded.pixels),
                                                                       decoded.mode)

    starts = range(0, len(paths), chunk)
    # Leave a core to the models: decoding only has to keep one chunk ahead of them.
    with ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1)) as pool:
        def submit(start):
            return start, [pool.submit(attempt, path) for path in paths[start:start + chunk]]

        pending = submit(starts[0]) if starts else None
        for i, _ in enumerate(starts):
            start, futures = pending
            pending = submit(starts[i + 1]) if i + 1 < len(starts) else None
            outcomes = [future.result() for future in futures]
            good = [(start + k, o) for k, o in enumerate(outcomes) if not isinstance(o, ImageError)]
            images = np.stack([o.pixels for _, o in good]) if good else np.zeros((0, size, size, 3), np.float32)
            yield Chunk(images=images, indices=np.array([k for k, _ in good], dtype=np.int64),
                        errors=[o for o in outcomes if isinstance(o, ImageError)], modes=[o.mode for _, o in good])


class DecodedImages:
    """The evaluation images of a run, decoded once: the first pass keeps its chunks while they fit in
    KEEP_DECODED_BYTES, and every later pass (a search's candidates, each evaluated after the one before was judged)
    reads them from memory. Past the limit each pass decodes again (memory stays bounded); `decodes` counts the
    passes that decoded (results.json's search records it)."""

    def __init__(self, config: Config, evaluation: EvaluationSet, limit: int | None = None):
        self.config, self.evaluation = config, evaluation
        self.limit = KEEP_DECODED_BYTES if limit is None else limit
        self.kept: list[Chunk] | None = None
        self.decodes = 0

    def chunks(self) -> Iterator[Chunk]:
        if self.kept is not None:
            yield from self.kept
            return
        self.decodes += 1
        kept, size = [], 0
        for chunk in decoded_chunks(self.config, self.evaluation, chunk_images(self.config)):
            size += chunk.images.nbytes
            if kept is not None and size <= self.limit:
                kept.append(chunk)
            else:
                kept = None  # past the limit: keep nothing, the next pass decodes again
            yield chunk
        self.kept = kept  # set only after a whole pass: an interrupted one keeps nothing


# Decoded evaluation images kept for later passes (float32: 1,000 images at 224 x 224 are 602 MB).
KEEP_DECODED_BYTES = 640 * 2**20


def evaluate_models(
    predictors: dict[str, Callable[[np.ndarray], object]],
    config: Config,
    evaluation: EvaluationSet,
    progress=None,
    skip_unreadable: bool = False,
    contain: Collection[str] = (),
    failures: dict[str, str] | None = None,
    task: Task | None = None,
    decoded: DecodedImages | None = None,
) -> dict:
    """Run every predictor (images -> outputs) on every evaluation image; one decode per image. The task
    (default: the configuration's, vsq.tasks) reads the truth and turns each model's outputs into its evaluation.

    An image that cannot be decoded fails the evaluation (VsqError naming the files), or with
    skip_unreadable is left out and listed in each result's `skipped`. A predictor of a model in
    `contain` (a variant) that raises is left out from then on, its message put in `failures`; any
    other raising predictor stops the evaluation. decoded: the run's decoded images (reused between passes).
    """
    task = task or for_config(config)
    truth = task.truth(config, evaluation)
    predictors = dict(predictors)
    running = {name: task.accumulator(name, truth, config, evaluation) for name in predictors}
    seconds = dict.fromkeys(predictors, 0.0)
    used, errors, modes = False, [], Counter()
    chunks = decoded.chunks() if decoded else decoded_chunks(config, evaluation, chunk_images(config))
    for chunk in chunks:
        errors.extend(chunk.errors)
        modes.update(chunk.modes)
        if progress is not None:
            progress.update(len(chunk.indices) + len(chunk.errors))
        if not len(chunk.indices):
            continue
        used = True
        for name, predict in list(predictors.items()):
            start = time.perf_counter()
            try:
                outputs = predict(chunk.images)
            except Exception as error:
                if name not in contain or failures is None:
                    raise
                failures[name] = one_line(error)
                del predictors[name], running[name]
                continue
            seconds[name] += time.perf_counter() - start
            running[name].add(outputs, chunk.indices)
    if errors and not skip_unreadable:
        raise VsqError(describe_failures(errors, "evaluation", "fix or remove them, or set \"unreadable_images\": "
                                         "\"skip\" to leave them out"))
    if not used:
        raise VsqError(f"no evaluation image could be decoded in {config.evaluate_image_dir}")
    skipped = tuple((str(error.path), error.reason) for error in errors)
    return {name: state.finish(seconds[name], skipped, dict(modes)) for name, state in running.items()}
