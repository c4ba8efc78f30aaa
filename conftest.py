"""vsq's pytest hooks: --config, parametrisation over configurations, the summary table.

Hooks only, and no TensorFlow: a bad configuration must be reported within the spec's 1.2 s.
The heavy work lives in the session fixtures of fixtures/harness.py.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["fixtures.harness", "fixtures.baselines", "fixtures.reporting", "fixtures.variants",
                  "fixtures.imx500", "fixtures.explain"]

SUITE_ORDER = {name: i for i, name in enumerate(
    ["test_config.py", "test_datasets.py", "test_export.py", "test_accuracy.py", "test_imx500.py",
     "test_variants.py", "test_benchmarks.py"])}
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
        "--baseline",
        default=None,
        metavar="PATH",
        help="accepted results to compare Top-1 with, for every configuration (overrides their \"baseline\" "
        "key). Default: each configuration's \"baseline\" key, else no baseline check.",
    )
    group.addoption(
        "--accept-baseline",
        action="store_true",
        default=False,
        help="write this run's Top-1 as the accepted baseline (the replaced file is kept as "
        "<name>.previous.json). Default: off.",
    )
    group.addoption(
        "--no-cache",
        action="store_true",
        default=False,
        help="build every artifact again and use those builds (the cache is never read; an intact entry stays "
        "for other runs). Default: off.",
    )


class _Interrupts:
    """Ctrl-C and SIGTERM (a CI timeout, `kill`) end the run: exit code 2, temporary files removed.

    While tests run, the handler raises KeyboardInterrupt where the signal lands, so the test's own
    clean-up runs. Elsewhere it only remembers the signal: during collection an exception inside
    Python's compiler (pytest's assertion rewriting) becomes a SystemError (exit 1), and after the
    tests pytest's own reporting would end killed by the signal; there the run ends with code 2 at the
    next hook. A KeyboardInterrupt that lands in a finaliser is swallowed by Python: the next test
    boundary raises it again, so the exit code is 2 whatever happened to it.
    """

    received: list = []
    raising = False
    reported = False

    @classmethod
    def handle(cls, signum, frame):
        cls.received.append(signum)
        if cls.raising:
            raise KeyboardInterrupt(f"signal {signum}")

    @classmethod
    def raise_if_received(cls):
        if cls.received:
            raise KeyboardInterrupt(f"signal {cls.received[0]}")


def _interrupt_on_signals():
    import signal

    _Interrupts.received.clear()
    _Interrupts.raising = _Interrupts.reported = False
    _handle_signals(_Interrupts.handle, signal.SIGINT, signal.SIGTERM)


def pytest_collection_finish(session):
    _Interrupts.raise_if_received()
    _Interrupts.raising = True


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    try:
        return (yield)
    finally:
        _Interrupts.raising = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _Interrupts.raise_if_received()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item):
    _Interrupts.raise_if_received()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    if _Interrupts.received:
        session.exitstatus = pytest.ExitCode.INTERRUPTED
        _Interrupts.reported = True


def _handle_signals(handler, *signums) -> None:
    """Signal handlers can only be set from the main thread (pytester may run pytest in another)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        for signum in signums:
            signal.signal(signum, handler)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    """A Ctrl-C or SIGTERM that lands after the run, in pytest's own clean-up, still exits with code 2
    (not killed by the signal): every output is already written, atomically."""
    import signal
    import sys

    def exit_interrupted(signum=None, frame=None):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(pytest.ExitCode.INTERRUPTED)

    if _Interrupts.received and not _Interrupts.reported:  # landed while pytest was reporting
        exit_interrupted()
    _handle_signals(exit_interrupted, signal.SIGINT, signal.SIGTERM)


class _LastUnconfigure:
    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config):
        """After the last hook Python tears down (TensorFlow takes a second or two) and puts its default
        handlers back, which would end the process killed by the signal: the run is complete and written
        by then, so a signal there is ignored and the exit code stays the run's."""
        import signal

        _handle_signals(signal.SIG_IGN, signal.SIGINT, signal.SIGTERM)


def pytest_configure(config):
    config.addinivalue_line("markers", "vsq_section(key): run only for configurations that have this optional "
                            "section")
    _interrupt_on_signals()
    config.pluginmanager.register(_LastUnconfigure(), "vsq-last-unconfigure")
    if config.getoption("config") and config.option.tbstyle == "auto":
        # A check's one-line message says it all; pytest's long style would list every fixture's value.
        config.option.tbstyle = "short"
    from fixtures.baselines import resolve_baselines
    from fixtures.session import SESSION_KEY, VsqSession
    from vsq.pipeline.cache import Cache, default_root
    from vsq.errors import ConfigError
    from vsq.configuration.job import prepare

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
    baselines = resolve_baselines(config.getoption("baseline"), jobs)
    if config.getoption("accept_baseline"):
        unset = [name for name, path in baselines.items() if path is None]
        if unset:
            raise pytest.UsageError(f"--accept-baseline: configuration {unset[0]!r} has no baseline file; give "
                                    "--baseline PATH or a \"baseline\" key")
    root = config.getoption("vsq_cache_dir") or default_root()
    session = VsqSession(jobs, Cache(root, enabled=not config.getoption("no_cache")), baselines,
                         stderr_is_terminal=_stderr_is_terminal(config))
    if not session.stderr_is_terminal:
        # MCT's own tqdm bars: tqdm reads TQDM_* when first imported, which has not happened yet.
        os.environ.setdefault("TQDM_DISABLE", "1")
    worker = getattr(config, "workerinput", None)
    if worker:  # pytest-xdist workers share the controller's run id
        session.run_id = worker["vsq_run_id"]
    config.stash[SESSION_KEY] = session


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist (controller): hand the run id to each worker."""
    from fixtures.session import vsq_session

    node.workerinput["vsq_run_id"] = vsq_session(node.config).run_id


def _stderr_is_terminal(config) -> bool:
    """Whether the real standard error (not pytest's capture of it) is a terminal."""
    import sys

    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        return sys.stderr.isatty()
    with capture.global_and_fixture_disabled():
        return sys.stderr.isatty()


def _jobs(config) -> list:
    from fixtures.session import SESSION_KEY

    session = config.stash.get(SESSION_KEY, None)
    return session.jobs if session else []


def _paired_names(argname: str, jobs: list) -> list:
    """Tests that take one of these arguments run per configuration and name; names a configuration
    lacks (no baseline file, no such variant) are deselected at collection."""
    from fixtures.variants import variant_names
    from vsq.pipeline.reference import KEYS

    return [*KEYS, *variant_names(jobs)] if argname == "baseline_model" else variant_names(jobs)


PAIRED_ARGUMENTS = ("baseline_model", "variant_name")


def pytest_generate_tests(metafunc):
    jobs = _jobs(metafunc.config)
    if "vsq_job" not in metafunc.fixturenames or not jobs:
        return
    paired = next((name for name in PAIRED_ARGUMENTS if name in metafunc.fixturenames), None)
    if paired is None:
        params = [pytest.param(job, id=job.name, marks=_group(job)) for job in jobs]
        metafunc.parametrize("vsq_job", params, indirect=True, scope="session")
        return
    # None stands for "no name at all" (no configuration has variants): deselected like a missing pair.
    names = _paired_names(paired, jobs) or [None]
    pairs = [pytest.param(job, name, id=f"{job.name}-{name}" if name else job.name, marks=_group(job))
             for job in jobs for name in names]
    metafunc.parametrize(["vsq_job", paired], pairs, indirect=["vsq_job"], scope="session")


def _group(job):
    """pytest-xdist --dist loadgroup: all tests of a configuration on one worker, so its heavy work runs once."""
    return pytest.mark.xdist_group(job.name)


def pytest_collection_modifyitems(config, items):
    if _jobs(config):
        # Read like the spec's flow: configuration, data, exported files, then accuracy.
        items.sort(key=lambda item: SUITE_ORDER.get(item.path.name, len(SUITE_ORDER)))
        _deselect(config, items, lambda item: not _pair_exists(config, item))
        _deselect_benchmarks_unless_asked(config, items)
        return
    if any("vsq_job" in getattr(item, "fixturenames", ()) for item in items):
        raise pytest.UsageError(f"no --config given; the suites need a configuration file: {HOW_TO_CALL}")


def _pair_exists(config, item) -> bool:
    """A configuration-and-name test runs only where the configuration has that baseline or variant; a
    test marked vsq_section(key) only where the configuration has that section."""
    from fixtures.baselines import baseline_path
    from fixtures.variants import find_variant
    from vsq.pipeline.reference import KEYS

    params = item.callspec.params if hasattr(item, "callspec") else {}
    job = params.get("vsq_job")
    if job is None:
        return True
    section = item.get_closest_marker("vsq_section")
    if section is not None and getattr(job.config, section.args[0]) is None:
        return False
    if "baseline_model" in params:
        name = params["baseline_model"]
        return baseline_path(config, job) is not None and (name in KEYS or find_variant(job, name) is not None)
    if "variant_name" in params:
        variant = find_variant(job, params["variant_name"])
        marker = item.get_closest_marker("variant_kinds")
        return variant is not None and (marker is None or variant.kind in marker.args)
    return True


def _deselect_benchmarks_unless_asked(config, items):
    """Benchmarks run in their own invocation (--benchmark-only): they time, they do not gate accuracy."""
    if not (config.getoption("benchmark_only", False) or config.getoption("benchmark_enable", False)):
        _deselect(config, items, lambda item: "benchmark" in getattr(item, "fixturenames", ()))


def _deselect(config, items, dropped_if):
    """Remove items in place and report them as deselected (shown in the summary, never skipped)."""
    dropped = [item for item in items if dropped_if(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not dropped_if(item)]


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo):
    """Keep Ctrl-C/SIGTERM an exit code 2: a signal that lands between two lines can leave a traceback
    entry without a line number (Python 3.11), and pytest's report of the interruption then crashes
    with a TypeError (exit code 1). Such entries have no source to show anyway."""
    excinfo.traceback = excinfo.traceback.filter(lambda entry: entry._rawentry.tb_lineno is not None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Our own errors, and the TensorFlow/MCT messages they carry, are shown without a traceback."""
    from vsq.errors import VsqError

    report = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, VsqError) and report.failed:
        report.longrepr = str(call.excinfo.value)
    return report
