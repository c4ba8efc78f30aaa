"""Images into model inputs: the one preprocessing transform (decode, resize or crop, normalise) and the
seeded calibration batches built on it."""
