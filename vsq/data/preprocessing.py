"""Moved to vsq.configuration.preprocessing (the configuration declares the one preprocessing and holds it). This old name stays for code written before the move (other branches' tests and
benchmarks): it is the same module object, so names and monkeypatches reach the one module."""

import sys

import vsq.configuration.preprocessing as _moved

sys.modules[__name__] = _moved
