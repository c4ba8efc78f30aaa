"""Output a tool writes to the process's file descriptors, below Python's sys.stdout and sys.stderr (TensorFlow's
MLIR converter, PuLP's solver): sent to /dev/null while the tool runs, so that only vsq's own lines reach the
terminal. A tool's failure still reaches the user as its exception (ExternalToolError)."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager


@contextmanager
def to_devnull(*fds: int):
    """fds (1: standard output, 2: standard error) to /dev/null inside the block, restored after."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in fds]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in fds:
            os.dup2(devnull, fd)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in zip(fds, saved):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)
