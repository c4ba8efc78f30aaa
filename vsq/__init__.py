"""vsq: accuracy-regression harness for quantized Keras image classifiers.

Importing vsq (or vsq.configuration.config) never imports TensorFlow or MCT: configuration errors must be
reported within the spec's 1.2 s UI response time.
"""

__version__ = "0.1.0"
