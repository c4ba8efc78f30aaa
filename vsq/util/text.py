"""Strings from strangers (class names, file names, messages in a results.json) made safe for where they are
shown: a terminal (no escape sequences: they can clear the screen, rewrite earlier lines or retitle the
window; no bidirectional overrides, which reorder what a reader sees), XML 1.0 (which forbids most control
characters and lone surrogates, and JUnit readers reject a file that holds one), a matplotlib label (where `$`
starts mathtext, and an unbalanced one fails the whole chart) and UTF-8 output (lone surrogates, which JSON's
\\ud800 escapes can carry, cannot be encoded). HTML is escaped with html.escape where it is written.
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MAX_LABEL = 60  # characters of a chart label


def utf8(text: str) -> str:
    """Lone surrogates replaced by U+FFFD, so that the text can be encoded."""
    return _SURROGATE.sub("\ufffd", text)


def terminal(text: str, lines: bool = False) -> str:
    """Text for a terminal: control, line-breaking and bidirectional characters shown as \\xNN / \\uNNNN; with
    lines, line feeds are kept (a message of several lines)."""
    def shown(match) -> str:
        return match.group() if lines and match.group() == "\n" else ascii(match.group())[1:-1]

    return _CONTROL.sub(shown, utf8(str(text)))


def xml(text: str) -> str:
    """Text XML 1.0 allows (tab, line feed and carriage return are kept; other control characters and lone
    surrogates are dropped)."""
    return _NOT_XML.sub("", str(text))


def label(text: str, limit: int = MAX_LABEL) -> str:
    """A matplotlib label: one line, `$` taken literally, at most `limit` characters."""
    shown = terminal(text)
    if len(shown) > limit:
        shown = shown[:limit - 1] + "…"
    return shown.replace("$", r"\$")
