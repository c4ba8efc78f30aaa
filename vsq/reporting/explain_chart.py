"""Moved to vsq.rendering.explain_chart (rendering primitives sit below the sections, which render their parts with them).
This old name stays for code written before the move (other branches' tests): it is the same module object."""

import sys

import vsq.rendering.explain_chart as _moved

sys.modules[__name__] = _moved
