"""Progress for people and for logs: tqdm's bar on a terminal, plain lines in a log file.

A CI log has no terminal: tqdm's carriage-return redraws and cursor-up escapes (between MCT's
bar and ours) turn into noise there, so off a terminal each update is a whole line, at most
every `interval` seconds, and the last one when the work ends.
"""

from __future__ import annotations

import contextlib
import sys
import time

from vsq.util.text import terminal

LOG_INTERVAL_SECONDS = 15.0


def progress(is_terminal: bool, **kwargs):
    """A tqdm bar when standard error is a terminal, else a LineProgress (same calls); its description holds
    names from the configuration, shown without control characters."""
    kwargs["desc"] = terminal(kwargs.get("desc", ""))
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
        self.postfix = terminal(text)

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


def quiet_tools(is_terminal: bool) -> None:
    """Before TensorFlow and tqdm are first imported: TensorFlow's C++ INFO and WARNING lines off (errors still
    show), and off a terminal MCT's own tqdm bars too (vsq's lines say how far the run is; tqdm reads TQDM_* when
    first imported). On a terminal MCT's bars stay: vsq's `steps` bar is drawn between them. A value the user
    set wins."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not is_terminal:
        os.environ.setdefault("TQDM_DISABLE", "1")


class Progress:
    """How a run shows progress: `bar` for one piece of work (a tqdm bar on a terminal, lines in a log),
    `steps` for a bar written only between steps, so that the tools' own output between them stays where
    it goes. `visible()` is where output reaches the terminal: pytest passes a context that suspends its
    capture; elsewhere output goes to standard error as it is."""

    def __init__(self, is_terminal: bool | None = None, visible=None):
        self.is_terminal = sys.stderr.isatty() if is_terminal is None else is_terminal
        self.visible = visible or contextlib.nullcontext

    @contextlib.contextmanager
    def bar(self, **kwargs):
        with self.visible(), progress(self.is_terminal, **kwargs) as bar:
            yield bar

    @contextlib.contextmanager
    def steps(self, **kwargs):
        """Yields advance(postfix): one step done, with a word on it ("3 s", "cached", "FAILED")."""
        with self.visible():
            bar = progress(self.is_terminal, **kwargs)

        def advance(postfix: str) -> None:
            with self.visible():
                bar.set_postfix_str(terminal(postfix), refresh=False)
                bar.update(1)

        try:
            yield advance
        finally:
            with self.visible():
                bar.close()
