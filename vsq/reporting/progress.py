"""Progress for people and for logs: tqdm's bar on a terminal, plain lines in a log file.

A CI log has no terminal: tqdm's carriage-return redraws and cursor-up escapes (between MCT's
bar and ours) turn into noise there, so off a terminal each update is a whole line, at most
every `interval` seconds, and the last one when the work ends.
"""

from __future__ import annotations

import sys
import time

LOG_INTERVAL_SECONDS = 15.0


def progress(is_terminal: bool, **kwargs):
    """A tqdm bar when standard error is a terminal, else a LineProgress (same calls)."""
    if is_terminal:
        from tqdm import tqdm

        return tqdm(mininterval=1.0, dynamic_ncols=True, **kwargs)
    return LineProgress(**kwargs)


class LineProgress:
    """The part of tqdm's interface vsq uses, printing plain lines: 'desc: 128/200 img (64 %), 3 s'."""

    def __init__(self, total: int | None = None, desc: str = "", unit: str = "it", initial: int = 0,
                 interval: float = LOG_INTERVAL_SECONDS, file=None):
        self.total, self.desc, self.unit, self.n = total, desc, unit, initial
        self.interval, self.file = interval, file or sys.stderr
        self.postfix = ""
        self.started = self.shown = time.monotonic()
        self.closed = False
        self.lines = 0

    def update(self, n: int = 1) -> None:
        self.n += n
        if time.monotonic() - self.shown >= self.interval:
            self._line()

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._line()

    def _line(self) -> None:
        self.shown = time.monotonic()
        of = f"/{self.total}" if self.total else ""
        percent = f" ({100 * self.n / self.total:.0f} %)" if self.total else ""
        postfix = f", {self.postfix}" if self.postfix else ""
        # The first line starts on a line of its own: pytest's row of dots has no newline yet.
        start = "\n" if not self.lines else ""
        self.lines += 1
        print(f"{start}{self.desc}: {self.n}{of} {self.unit}{percent}, {self.shown - self.started:.0f} s{postfix}",
              file=self.file, flush=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
