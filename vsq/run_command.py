"""`python -m vsq run CONFIG...`: the run `pytest suites/` makes, without pytest.

Every configuration is checked first (a bad one: exit 4, one line, nothing run); then each runs through
its pipeline (vsq.pipeline), prints the same table as the pytest plugin, and the exit code is the gate's:
0 when every configuration passed, 1 when any failed or its run could not finish, 2 on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import signal
import sys

from vsq.errors import ConfigError, VsqError
from vsq.util.text import terminal

EXIT_PASSED, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE = 0, 1, 2, 4


def run(args) -> int:
    from vsq.api import run_options
    from vsq.configuration.grants import Grants
    from vsq.pipeline.job import prepare_all
    from vsq.pipeline.pipeline import Pipeline
    from vsq.pipeline.progress import quiet_tools

    try:
        jobs = prepare_all(args.configs, Grants.given(args.allow_unsafe_model_code, args.imx500_converter,
                                                      args.max_image_pixels))
    except ConfigError as error:
        print(f"ERROR: {terminal(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    options = run_options(args.cache_dir, not args.no_cache, args.baseline, args.accept_baseline)
    unset = [job.name for job in jobs if args.accept_baseline and options.baseline_for(job.config) is None]
    if unset:
        print(f"ERROR: --accept-baseline: configuration {unset[0]!r} has no baseline file; give --baseline PATH or "
              "a \"baseline\" key", file=sys.stderr)
        return EXIT_USAGE
    quiet_tools(options.progress.is_terminal)  # before TensorFlow and MCT are imported
    signal.signal(signal.SIGTERM, _interrupt)  # a CI timeout ends the run as Ctrl-C does: exit 2
    results, failures = [], {}
    try:
        for job in jobs:
            try:
                results.append(Pipeline(job, options).result)
            except ConfigError as error:  # the model does not match the configuration
                print(f"ERROR: {terminal(str(error))}", file=sys.stderr)
                return EXIT_USAGE
            except VsqError as error:
                failures[job.name] = str(error)
    except KeyboardInterrupt:
        print("vsq run: interrupted; results.json of the configurations that finished are written", file=sys.stderr)
        return EXIT_INTERRUPTED
    _report(args, results, failures)
    return EXIT_PASSED if not failures and all(result.verdict == "PASS" for result in results) else EXIT_FAILED


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _report(args, results: list, failures: dict[str, str]) -> None:
    from pathlib import Path

    from vsq.reporting.report import Run, html_page, write
    from vsq.reporting.summary import blocks

    documents = {result.name: result.document for result in results}
    verdicts = {**{result.name: result.verdict for result in results}, **{name: "FAIL" for name in failures}}
    for title, lines in blocks(documents, verdicts, failures):
        print(f"== {title} ==")
        print("\n".join(lines))
    if args.html:
        runs = [Run(result.name, Path(result.document["results_file"]), result.document) for result in results]
        # The gallery reads this run's own evaluation images, which the run checked.
        folders = {result.name: [Path(result.document["configuration"]["evaluate_image_dir_resolved"])]
                   for result in results}
        print(f"html: {write(args.html, html_page(runs, folders))}")
    if args.junit:
        from vsq.reporting.junit import checks_xml

        print(f"junit: {write(args.junit, checks_xml(results, failures))}")
