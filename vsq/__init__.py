"""vsq: accuracy-regression harness for quantized image classifiers (Keras and PyTorch).

Importing vsq (or vsq.configuration) never imports TensorFlow or MCT: configuration errors must be
reported within the spec's 1.2 s UI response time. `vsq.run(config)` runs one configuration's pipeline
(vsq.api): the same work, cache and results.json as `pytest suites/ --config config`.
"""

from vsq.util.versions import VSQ as __version__  # noqa: F401


def run(config, **options):
    """vsq.api.run: one configuration's run, its RunResult (figures, verdicts, flipped images)."""
    from vsq.api import run as run_configuration

    return run_configuration(config, **options)
