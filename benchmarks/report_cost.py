"""What the reviewer's view costs a run (issue 23's budget: under 5 % of a warm run of the example).

    python benchmarks/report_cost.py [--config configuration.json] [--runs 5]

Runs `pytest suites/ --config CONFIG` twice and times the second, warm, run whole (the wall time a user
waits, the process included, and its CPU time). Then, on that run's own results.json and the history.jsonl
beside it, times each part the reviewer's view adds to the reports, best of --runs: the reason lines, what
moved since the previous run (the history read), the forest plot of drops and the trend chart. Prints each
and their sum against the warm run, in wall time and in CPU time (on a machine shared with other jobs the
CPU figures move less). The charts are made only with --html; the forest plot replaces the drop chart of
earlier versions, so the share is an upper bound of what the view adds.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.statistics_cost import best_of  # noqa: E402
from vsq.configuration.config import load_config  # noqa: E402
from vsq.pipeline import results  # noqa: E402
from vsq.reporting import charts, trend  # noqa: E402
from vsq.reporting.summary import moved_lines, reason_lines  # noqa: E402


def warm_run(config: Path) -> tuple[float, float]:
    """Wall and CPU seconds of the second of two runs."""
    command = [sys.executable, "-m", "pytest", "suites/", "--config", str(config), "-q", "-p", "no:cacheprovider"]
    for _ in range(2):  # the first fills the cache if it is cold
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, cwd=REPO, capture_output=True, check=False)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cpu_best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=REPO / "configuration.json")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    run, run_cpu = warm_run(args.config)
    config = load_config(args.config)
    document = results.read(config.evaluate_result_dir / results.RESULTS_FILE)
    name = document["configuration"]["name"]
    documents = {name: document}
    history = trend.runs(trend.history_file(document), document)
    charts.drop_forest(documents)  # matplotlib's first figure pays its imports: the HTML report's other charts do
    parts = {
        "reason lines": lambda: reason_lines(documents),
        "what moved (history read)": lambda: moved_lines(documents),
        "forest plot": lambda: charts.drop_forest(documents),
        f"trend chart ({len(history)} runs)": lambda: trend.chart(name, document, history),
    }
    walls = {part: best_of(args.runs, work) for part, work in parts.items()}
    cpus = {part: cpu_best_of(args.runs, work) for part, work in parts.items()}
    print(f"{name}: warm run {run:.2f} s wall, {run_cpu:.2f} s CPU (pytest suites/ --config {args.config}, whole process)")
    for part in parts:
        print(f"  {part}: {walls[part] * 1000:.1f} ms wall ({walls[part] / run * 100:.2f} %), "
              f"{cpus[part] * 1000:.1f} ms CPU ({cpus[part] / run_cpu * 100:.2f} %)")
    wall, cpu = sum(walls.values()), sum(cpus.values())
    print(f"  together: {wall * 1000:.1f} ms wall ({wall / run * 100:.2f} % of the warm run), "
          f"{cpu * 1000:.1f} ms CPU ({cpu / run_cpu * 100:.2f} %)")


if __name__ == "__main__":
    main()
