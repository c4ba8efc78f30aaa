"""Calibration data: the seeded choice of images per iteration, each image decoded once, batches on demand."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from vsq.configuration.datasets import calibration_indices
from vsq.errors import VsqError
from vsq.configuration.preprocessing import ImageError, describe_failures
from vsq.configuration.preprocessing import Preprocessing


@dataclass(frozen=True)
class Calibration:
    """Decoded calibration images (uint8, each decoded once) and the seeded batches over them."""

    pixels: np.ndarray  # (images used, size, size, 3) uint8
    batches: tuple[np.ndarray, ...]  # per iteration: indices into pixels
    preprocessing: Preprocessing

    def batch(self, i: int) -> np.ndarray:
        """Iteration i's batch, preprocessed: float32 (batch_size, size, size, 3)."""
        return self.preprocessing.normalize(self.pixels[self.batches[i]])

    def iterate(self) -> Iterator[np.ndarray]:
        return (self.batch(i) for i in range(len(self.batches)))


def decode_calibration(job, seed: int | None = None) -> Calibration:
    """Decode the images the seeded iterations use, in threads; every failure is reported at once.
    seed: the draw's (vsq.sections.calibrations); None: the configuration's seed."""
    config, paths = job.config, job.calibration_images
    seed = config.seed if seed is None else seed
    chosen = calibration_indices(len(paths), config.batch_size, config.iteration_count, seed)
    used = np.unique(np.concatenate(chosen))
    position = {int(index): i for i, index in enumerate(used)}
    with ThreadPoolExecutor() as pool:
        decoded = list(pool.map(lambda i: config.preprocessing.try_decode(paths[i]), used))
    errors = [item for item in decoded if isinstance(item, ImageError)]
    if errors:
        raise VsqError(describe_failures(errors, "calibration", f"fix or remove them from "
                                         f"{config.shown('dataset_image_dir')}"))
    batches = tuple(np.array([position[int(i)] for i in batch]) for batch in chosen)
    return Calibration(pixels=np.stack([item.pixels for item in decoded]), batches=batches,
                       preprocessing=config.preprocessing)
