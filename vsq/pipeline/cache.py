"""Moved to vsq.cache.store (the artifact store, below the frameworks that key their files in it). This old name stays for code written before the move (other branches' tests and
benchmarks): it is the same module object, so names and monkeypatches reach the one module."""

import sys

import vsq.cache.store as _moved

sys.modules[__name__] = _moved
