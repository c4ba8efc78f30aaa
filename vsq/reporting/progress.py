"""Moved to vsq.pipeline.progress (the run's progress bars: the pipeline shows them, below the reports). This
old name stays for code written before the move (other branches' tests): it is the same module object."""

import sys

import vsq.pipeline.progress as _moved

sys.modules[__name__] = _moved
