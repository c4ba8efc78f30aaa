"""Moved to vsq.core.reference (the model roles: shared vocabulary below the frameworks). This old name stays for code written before the move (other branches' tests and
benchmarks): it is the same module object, so names and monkeypatches reach the one module."""

import sys

import vsq.core.reference as _moved

sys.modules[__name__] = _moved
