"""Time per image of each TFLite interpreter, op resolver, thread count and batch size on one file.

    python benchmarks/runtimes.py output/model_quantized.tflite [--images 200]

Runs vsq.runtimes.tflite.TFLiteClassifier on random inputs of the file's input shape and prints ms/image and
a checksum of the predicted classes (the same checksum means the same predictions).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vsq.configuration.config import TFLiteRuntime
from vsq.runtimes.tflite import TFLiteClassifier, open_for_inspection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help=".tflite file")
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()

    shape = open_for_inspection(args.model).get_input_details()[0]["shape"][1:]
    images = np.random.default_rng(0).random((args.images, *shape)).astype(np.float32)
    print(f"{'interpreter':10s}  {'op resolver':34s}  threads  batch  ms/image  checksum")
    for interpreter in ("tensorflow", "litert"):
        for resolver in ("builtin_without_default_delegates", "builtin", "builtin_ref"):
            for threads in (1, 2):
                for batch in (1, 32):
                    if resolver == "builtin_ref" and (threads, batch) != (1, 1):
                        continue  # reference kernels are single-threaded and slow
                    classifier = TFLiteClassifier(args.model, TFLiteRuntime(interpreter, resolver, threads), batch,
                                                  instances=1)
                    classifier.predict(images[:batch])  # warm-up
                    start = time.perf_counter()
                    predictions = classifier.predict(images).argmax(axis=1)
                    per_image = (time.perf_counter() - start) / len(images) * 1000
                    print(f"{interpreter:10s}  {resolver:34s}  {threads:7d}  {classifier.batch_size:5d}  "
                          f"{per_image:8.3f}  {int(predictions.sum())}")


if __name__ == "__main__":
    main()
