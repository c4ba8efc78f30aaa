"""vsq's pytest hooks: --config, parametrisation over configurations, the summary table.

Hooks only, and no TensorFlow: a bad configuration must be reported within the spec's 1.2 s.
The heavy work lives in the session fixtures of fixtures/harness.py.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["fixtures.harness"]

JOBS_KEY = pytest.StashKey[list]()
OUTCOMES_KEY = pytest.StashKey[dict]()
SUITE_ORDER = {name: i for i, name in enumerate(
    ["test_config.py", "test_datasets.py", "test_export.py", "test_accuracy.py", "test_benchmarks.py"])}
HOW_TO_CALL = "pytest suites/ --config configuration.json"


def pytest_addoption(parser):
    group = parser.getgroup("vsq", "vsq quantization harness")
    group.addoption(
        "--config",
        action="append",
        default=[],
        metavar="PATH",
        help="configuration file (.json as in the spec, or .yaml/.yml); repeat for several models. "
        "Default: none (the suites need at least one).",
    )
    group.addoption(
        "--vsq-cache-dir",
        default=None,
        metavar="DIR",
        help="artifact cache (converted models, evaluations). Default: $VSQ_CACHE_DIR, else ~/.cache/vsq.",
    )
    group.addoption(
        "--no-cache",
        action="store_true",
        default=False,
        help="build every artifact again (the cache is refreshed, never read). Default: off.",
    )


def pytest_configure(config):
    from fixtures.harness import CACHE_KEY
    from vsq.cache import Cache, default_root
    from vsq.errors import ConfigError
    from vsq.job import prepare

    jobs = []
    for path in config.getoption("config"):
        try:
            jobs.append(prepare(path))
        except ConfigError as error:
            raise pytest.UsageError(str(error)) from None
    names = [job.name for job in jobs]
    for name in names:
        if names.count(name) > 1:
            raise pytest.UsageError(
                f"two configurations are named {name!r}; give each a distinct \"name\" key or file name"
            )
    config.stash[JOBS_KEY] = jobs
    config.stash[OUTCOMES_KEY] = {}
    root = config.getoption("vsq_cache_dir") or default_root()
    config.stash[CACHE_KEY] = Cache(root, enabled=not config.getoption("no_cache"))


def pytest_generate_tests(metafunc):
    jobs = metafunc.config.stash.get(JOBS_KEY, [])
    if "vsq_job" in metafunc.fixturenames and jobs:
        metafunc.parametrize("vsq_job", jobs, ids=[job.name for job in jobs], indirect=True, scope="session")


def pytest_collection_modifyitems(config, items):
    if config.stash.get(JOBS_KEY, []):
        # Read like the spec's flow: configuration, data, exported files, then accuracy.
        items.sort(key=lambda item: SUITE_ORDER.get(item.path.name, len(SUITE_ORDER)))
        return
    if any("vsq_job" in getattr(item, "fixturenames", ()) for item in items):
        raise pytest.UsageError(f"no --config given; the suites need a configuration file: {HOW_TO_CALL}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    job = getattr(item, "callspec", None) and item.callspec.params.get("vsq_job")
    if job is not None and (report.when == "call" or report.outcome != "passed"):
        item.config.stash[OUTCOMES_KEY].setdefault(job.name, []).append(report.outcome)
    _shorten_known_errors(report, call)
    return report


def _shorten_known_errors(report, call):
    """Our own errors, and the TensorFlow/MCT messages they carry, are shown without a traceback."""
    from vsq.errors import VsqError

    if call.excinfo is not None and isinstance(call.excinfo.value, VsqError) and report.failed:
        report.longrepr = str(call.excinfo.value)


def pytest_terminal_summary(terminalreporter, config):
    from fixtures.harness import CACHE_KEY, results_store

    documents = results_store(config)
    if not documents:
        return
    outcomes = config.stash.get(OUTCOMES_KEY, {})
    rows = [("configuration", "Keras", "TFLite", "quantized", "drop (pp)", "images", "gate")]
    for name, doc in documents.items():
        failed = any(outcome != "passed" for outcome in outcomes.get(name, []))
        rows.append((
            name,
            f"{doc['top_1_accuracy_keras']:.4f}",
            f"{doc['top_1_accuracy_tflite']:.4f}",
            f"{doc['top_1_accuracy_tflite_quantized']:.4f}",
            f"{doc['top_1_drop_points']['tflite_quantized']:+.2f}",
            str(doc["num_images"]),
            "FAIL" if failed else "PASS",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    terminalreporter.section("vsq: Top-1 accuracy")
    for i, row in enumerate(rows):
        terminalreporter.write_line("  ".join(cell.ljust(width) for cell, width in zip(row, widths)))
        if i == 0:
            terminalreporter.write_line("  ".join("-" * width for width in widths))
    for name, doc in documents.items():
        terminalreporter.write_line(f"{name}: results in {doc['results_file']}")
        reused = [what for what, how in doc.get("cache", {}).items() if how == "hit"]
        if reused:
            terminalreporter.write_line(f"{name}: reused from the cache ({config.stash[CACHE_KEY].root}): "
                                        f"{', '.join(reused)}; --no-cache builds everything again")
