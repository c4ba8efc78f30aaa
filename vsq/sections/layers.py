"""Moved to vsq.core.layers (the explanation's types, which the frameworks build). This old name stays for code written before the move (other branches' tests and
benchmarks): it is the same module object, so names and monkeypatches reach the one module."""

import sys

import vsq.core.layers as _moved

sys.modules[__name__] = _moved
