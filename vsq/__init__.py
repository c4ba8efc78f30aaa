"""vsq: accuracy-regression harness for quantized image classifiers (Keras and PyTorch).

Importing vsq (or vsq.configuration) never imports TensorFlow or MCT: configuration errors must be
reported within the spec's 1.2 s UI response time. `vsq.run(config)` runs one configuration's pipeline
(vsq.api): the same work, cache and results.json as `pytest suites/ --config config`.
"""

import os
import sys

# `python -m vsq` puts the working folder first on sys.path, before the standard library and site-packages; a
# nightly runs it in the configuration's folder, where a pull request can add `email.py` or `numpy/` to stand in
# for what vsq imports next. This runs before any of those imports (Python 3.11's -P does the same).
if sys.argv[:1] == ["-m"] and sys.path and sys.path[0] == os.getcwd():
    del sys.path[0]

from vsq.errors import ConfigError, VsqError  # noqa: E402,F401  (what vsq.run raises)
from vsq.util.versions import VSQ as __version__  # noqa: E402,F401

__all__ = ["run", "ConfigError", "VsqError", "__version__"]


def run(config, **options):
    """vsq.api.run: one configuration's run (a file, or a dict of its keys), its RunResult (figures, verdicts,
    flipped images, predictions)."""
    from vsq.api import run as run_configuration

    return run_configuration(config, **options)
