"""Moved to vsq.core.verdicts (checks and verdicts: shared vocabulary below the frameworks). This old name stays for code written before the move (other branches' tests and
benchmarks): it is the same module object, so names and monkeypatches reach the one module."""

import sys

import vsq.core.verdicts as _moved

sys.modules[__name__] = _moved
