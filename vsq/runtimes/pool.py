"""A pool of single-threaded instances of one model file, each on a contiguous slice of the images.

Every runtime's pool cuts the images the same way (shards): on whole batches, so that every inference
gets exactly the input one instance would get and the scores are those of one instance, bit for bit,
whatever the number of instances (tests/test_sharding.py).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

import numpy as np

# Images per chunk. Keras' activations on a chunk dominate evaluation memory: MobileNetV2 at 224 peaks
# ~1.9 GB above its baseline on 128 images, ~0.4 GB on 32 (and is no slower).
CHUNK_IMAGES = 32


def shards(count: int, batch_size: int, parts: int) -> list[slice]:
    """Contiguous slices of `count` images, cut on batch boundaries, for at most `parts` instances.

    Cutting on whole batches gives every invoke exactly the input one instance would get (the same
    images, the same padded last batch), so the pool's scores are those of one instance, bit for bit.
    """
    batches = -(-count // batch_size)
    parts = max(1, min(parts, batches))
    bounds = [batches * i // parts * batch_size for i in range(parts)] + [count]
    return [slice(a, min(b, count)) for a, b in zip(bounds, bounds[1:])]


def predict_pooled(predictors: Sequence[Callable[[np.ndarray], np.ndarray]], images: np.ndarray,
                   batch_size: int, join: Callable[[list], object] = np.concatenate):
    """Scores of `images` from a pool: one slice per instance, each in its own Python thread (the runtimes
    release the GIL while they infer); the slices' outputs put together by `join` (a detector's: its own)."""
    parts = shards(len(images), batch_size, len(predictors))
    if len(parts) == 1:  # one image or one instance: no thread needed
        return predictors[0](images)
    with ThreadPoolExecutor(max_workers=len(parts)) as threads:
        scores = list(threads.map(lambda pair: pair[0](images[pair[1]]), zip(predictors, parts)))
    return join(scores)


def in_batches(run: Callable[[np.ndarray], np.ndarray], images: np.ndarray, batch_size: int,
               join: Callable[[list], object] | None = None):
    """run() on consecutive batches of `batch_size` images (the last one smaller), scores concatenated; with
    `join`, run()'s outputs (a detector's) put together by it, and run() once on no images (what an empty answer
    is, as the model gives it)."""
    if join is not None:
        return join([run(images[start:start + batch_size]) for start in range(0, max(len(images), 1), batch_size)])
    out = [np.asarray(run(images[start:start + batch_size]), dtype=np.float32)
           for start in range(0, len(images), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def in_fixed_batches(predict: Callable[[np.ndarray], np.ndarray], size: int = CHUNK_IMAGES):
    """predict on slices of at most `size` images, whatever the chunk size: a Keras model's scores may
    depend on its batch size, and chunks grow with the machine's cores (chunk_images)."""
    def predict_all(images: np.ndarray) -> np.ndarray:
        return np.concatenate([np.asarray(predict(images[i:i + size])) for i in range(0, len(images), size)])

    return predict_all
