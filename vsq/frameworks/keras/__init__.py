"""Keras models: loading (and refusing unsafe ones), MCT quantization recipes and exports, the float
TFLite conversion, MCT XQuant."""
