"""Command line: `python -m vsq history PATH [--plot PNG]` prints the trend of a history.jsonl."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vsq import history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vsq", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    trend = commands.add_parser("history", help="print the Top-1 trend of a history.jsonl (and plot it)")
    trend.add_argument("path", type=Path, help="history.jsonl, or the evaluate_result_dir that holds it")
    trend.add_argument("--plot", type=Path, metavar="PNG", help="also write a PNG plot here")
    trend.add_argument("--configuration", help="only this configuration name")
    args = parser.parse_args(argv)

    path = args.path / history.HISTORY_FILE if args.path.is_dir() else args.path
    if not path.is_file():
        print(f"{path}: no such history file; it is written next to results.json by every run", file=sys.stderr)
        return 2
    lines = history.read(path)
    if args.configuration:
        lines = [line for line in lines if line["configuration"] == args.configuration]
    if not lines:
        print(f"{path}: no runs recorded" + (f" for {args.configuration!r}" if args.configuration else ""),
              file=sys.stderr)
        return 1
    print(history.table(lines))
    if args.plot:
        print(f"plot: {history.plot(lines, args.plot)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
