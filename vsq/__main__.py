"""Command line of vsq (`vsq` once installed, or `python -m vsq`):

  vsq init IMAGES_DIR [--model FILE] [--calibration DIR] [--force]
                                            labels.json and configuration.json for a folder of class folders

  vsq run CONFIG... [--html OUT.html] [--junit OUT.xml] [--cache-dir DIR] [--no-cache]
                  [--baseline PATH] [--accept-baseline] [--allow-unsafe-model-code NAME]
                  [--imx500-converter PATH] [--max-image-pixels N]
                                            the run `pytest suites/` makes, without pytest: the same table,
                                            results.json and exit code (0: every configuration passed,
                                            1: any failed, 2: interrupted, 4: a bad configuration)
  vsq history PATH [--plot PNG] [--keep N]
                                            the Top-1 trend of a history.jsonl (and bound its length)
  vsq report PATH... [--html OUT.html] [--junit OUT.xml] [--history FILE [--keep N]] [--images DIR]
                  [--baseline-candidate FILE]
                                            one table, report and verdict over the results.json of
                                            several runs (exit 0: all passed, 1: any failed, 2: usage)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vsq.reporting import history
from vsq.util.text import terminal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=_program(), description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    trend = commands.add_parser("history", help="print the Top-1 trend of a history.jsonl (and plot it)")
    trend.add_argument("path", type=Path, help="history.jsonl, or the evaluate_result_dir that holds it")
    trend.add_argument("--plot", type=Path, metavar="PNG", help="also write a PNG plot here")
    trend.add_argument("--configuration", help="only this configuration name")
    trend.add_argument("--keep", type=_positive, metavar="N",
                       help="first rewrite the file with the last N runs of each configuration only (for a file no "
                       "run is writing to: CI, before saving it). Default: keep every run")
    combined = commands.add_parser(
        "report", help="combine the results.json of several runs: table, HTML, JUnit, history and the gate's "
        "verdict (exit 0: every configuration passed, 1: any failed or recorded no verdict, 2: bad paths)")
    combined.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                          help="a results.json, or a folder searched recursively for results.json files (e.g. "
                          "downloaded CI artifacts)")
    combined.add_argument("--html", type=Path, metavar="OUT.html",
                          help="write the self-contained HTML report here. Default: none")
    combined.add_argument("--junit", type=Path, metavar="OUT.xml",
                          help="write JUnit XML here, one testcase per configuration (its gate). Default: none")
    combined.add_argument("--history", type=Path, metavar="FILE",
                          help="merge into this history.jsonl each configuration's line and its earlier runs (the "
                          "history.jsonl beside its results.json), skipping runs already in it; the trend and what "
                          "moved are then drawn from it. Default: none")
    combined.add_argument("--keep", type=_positive, metavar="N",
                          help="with --history: keep the last N runs of each configuration in it. Default: all")
    combined.add_argument("--baseline-candidate", type=Path, metavar="FILE",
                          help="write a baseline file accepting every configuration's figures here: commit it as the "
                          "baseline when the report shows they are right. Default: none")
    combined.add_argument("--images", type=Path, action="append", default=[], metavar="DIR",
                          help="a folder whose images the HTML gallery may embed (the evaluation images the runs "
                          "flipped); repeat for several. A results.json names any path: only images under these "
                          "folders are read. Default: none (captions without thumbnails)")
    run = commands.add_parser(
        "run", help="run configurations as `pytest suites/` does: table, results.json, history, the gate's exit code "
        "(0: all passed, 1: any failed, 2: interrupted, 4: a bad configuration)")
    run.add_argument("configs", nargs="+", type=Path, metavar="CONFIG", help="configuration files (.json, .yaml)")
    run.add_argument("--html", type=Path, metavar="OUT.html", help="write a self-contained HTML report. Default: none")
    run.add_argument("--junit", type=Path, metavar="OUT.xml",
                     help="write JUnit XML, one testcase per check. Default: none")
    run.add_argument("--cache-dir", type=Path, metavar="DIR",
                     help="artifact cache. Default: $VSQ_CACHE_DIR, else ~/.cache/vsq")
    run.add_argument("--no-cache", action="store_true", help="build every artifact again. Default: off")
    run.add_argument("--baseline", type=Path, metavar="PATH",
                     help="accepted results for every configuration. Default: each one's \"baseline\" key")
    run.add_argument("--accept-baseline", action="store_true",
                     help="write this run's Top-1 (a detector's mAP) as the accepted baseline. Default: off")
    add_grant_options(run.add_argument)
    add_init_command(commands)
    args = parser.parse_args(argv)
    commands_by_name = {"report": report, "history": trend_of, "run": run_configurations, "init": initialise}
    return commands_by_name[args.command](args)


def add_grant_options(add) -> None:
    """What only the command line grants (vsq.configuration.grants); pytest's plugin adds the same options."""
    add("--allow-unsafe-model-code", action="append", default=[], metavar="NAME",
        help="let configuration NAME's model run the code stored in it (Lambda layers, TensorFlow calls outside pure "
        "tensor functions); repeat for several. Default: refused")
    add("--imx500-converter", action="append", default=[], metavar="PATH",
        help="an IMX500 converter to run (a regular executable file named imxconv-tf for Keras models or imxconv-pt "
        "for PyTorch models) for every configuration of its framework with an imx500 section; repeat for both. "
        "Default: $VSQ_IMX500_CONVERTER (paths separated by ':'), else .venv-imx500/bin/ of the checkout, else PATH")
    add("--max-image-pixels", type=int, metavar="N",
        help="largest image, width x height, a configuration may decode (it may set a lower preprocessing."
        "max_image_pixels). Default: the schema's 40,000,000")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of runs above 0")
    return int(text)


def _program() -> str:
    return "vsq" if Path(sys.argv[0]).name == "vsq" else "python -m vsq"


def add_init_command(commands) -> None:
    init = commands.add_parser("init", help="write labels.json (the sorted class folders) and configuration.json "
                               "(every required key, the model's input size) into the working folder")
    init.add_argument("images", type=Path, metavar="IMAGES_DIR", help="evaluation images, one sub-folder per class")
    init.add_argument("--model", type=Path, metavar="FILE", help="the model to quantize (.h5, .keras, SavedModel "
                      "folder, or PyTorch weights .pt/.pth). Default: none (set source_keras_model yourself)")
    init.add_argument("--calibration", type=Path, metavar="DIR",
                      help="images to calibrate with (dataset_image_dir). Default: IMAGES_DIR")
    init.add_argument("--force", action="store_true", help="replace labels.json and configuration.json. Default: off")


def initialise(args) -> int:
    from vsq.init import InitError, init

    try:
        written, notes = init(args.images, args.model, args.calibration, Path("."), args.force)
    except InitError as error:
        print(f"ERROR: {terminal(str(error))}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    if notes:
        print(f"then: {notes}")
    print(f"next: {_program()} run {written[1]}")
    return 0


def run_configurations(args) -> int:
    from vsq.run_command import run

    return run(args)


def trend_of(args) -> int:
    path = args.path / history.HISTORY_FILE if args.path.is_dir() else args.path
    if not path.is_file():
        print(f"{path}: no such history file; it is written next to results.json by every run", file=sys.stderr)
        return 2
    if args.keep:
        try:
            print(f"history: {history.trim(path, args.keep)} line(s) removed from {path} (the last {args.keep} runs "
                  "of each configuration kept)")
        except OSError as error:
            print(f"ERROR: {path}: cannot be rewritten ({error.strerror}); give a writable history.jsonl",
                  file=sys.stderr)
            return 2
    lines = history.read(path)
    if args.configuration:
        lines = [line for line in lines if line["configuration"] == args.configuration]
    if not lines:
        print(f"{path}: no runs recorded" + (f" for {args.configuration!r}" if args.configuration else ""),
              file=sys.stderr)
        return 1
    try:  # a history.jsonl may come from elsewhere too: its names reach the terminal as text only
        print("\n".join(terminal(line) for line in history.table(lines).splitlines()))
        if args.plot:
            print(f"plot: {history.plot(lines, args.plot)}")
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        print(f"ERROR: {path}: a line is not a vsq history line ({type(error).__name__}); give the history.jsonl a "
              "vsq run wrote", file=sys.stderr)
        return 2
    return 0


def report(args) -> int:
    from vsq.reporting import report as combined

    if args.keep and not args.history:
        print("ERROR: --keep bounds the file --history names: give --history FILE too", file=sys.stderr)
        return 2
    try:
        runs = combined.load(args.paths)
        if args.history:  # first: the trend and what moved are drawn from the merged history
            appended = combined.append_history(runs, args.history, args.keep)
        print(combined.text(runs))
        if args.html:
            folders = {run.name: args.images for run in runs}
            print(f"html: {combined.write(args.html, combined.html_page(runs, folders))}")
        if args.junit:
            print(f"junit: {combined.write(args.junit, combined.junit_xml(runs))}")
        if args.history:
            print(f"history: {appended} line(s) appended to {args.history}")
        if args.baseline_candidate:
            candidate = json.dumps(combined.baseline_candidate(runs), indent=2, ensure_ascii=False) + "\n"
            print(f"baseline candidate: {combined.write(args.baseline_candidate, candidate)}")
    except combined.ReportError as error:
        print(f"ERROR: {terminal(str(error))}", file=sys.stderr)
        return 2
    return combined.exit_code(runs)


def entry() -> None:
    """The `vsq` console script and `python -m vsq`."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C before a run's own handling (start-up: imports, configurations)
        print(f"{_program()}: interrupted during start-up: nothing was written", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    entry()
