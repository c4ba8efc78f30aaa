"""vsq's pytest hooks: --config, parametrisation over configurations and their checks.

Loaded through the `pytest11` entry point of an installed vsq (and by the repository's pytest.ini, `-p` with this
module's name: a no-op where the entry point loaded it, as pytest registers a plugin once by that name; there is
no conftest.py, which pytest would refuse to take plugins from when it collects this checkout's suites from
another folder). `pytest --config mine.json` without test paths,
outside a folder whose pytest configuration names testpaths, runs the suites installed with vsq (vsq.suites).

Hooks only, and no TensorFlow: a bad configuration must be reported within the spec's 1.2 s. The work
happens in each configuration's pipeline (vsq.pipeline), reached through vsq/pytest_plugin/harness.py; what the
run tells people is reporting.py's, signals interrupts.py's (in vsq/pytest_plugin/).
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["vsq.pytest_plugin.interrupts", "vsq.pytest_plugin.harness", "vsq.pytest_plugin.reporting",
                  "vsq.pytest_plugin.suite"]

HOW_TO_CALL = "pytest suites/ --config configuration.json"
# A suite test with one of these arguments runs per configuration and item: the item of its check's name
# (path_is_not_a_symlink[output_dir], variant_file_written[tf_float16], no_drop_against_baseline[tflite]).
ITEM_ARGUMENTS = ("key", "export", "variant_name", "baseline_model")


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
        help="write this run's Top-1 (a detector's mAP) as the accepted baseline (the replaced file is kept as "
        "<name>.previous.json). Default: off.",
    )
    from vsq.__main__ import add_grant_options

    add_grant_options(lambda *names, help, **kwargs: group.addoption(*names, help=help + ".", **kwargs))
    group.addoption(
        "--no-cache",
        action="store_true",
        default=False,
        help="build every artifact again and use those builds (the cache is never read; an intact entry stays "
        "for other runs). Default: off.",
    )


def pytest_configure(config):
    _installed_suites_unless_paths_given(config)
    if config.getoption("config") and config.option.tbstyle == "auto":
        # A check's one-line message says it all; pytest's long style would list every fixture's value.
        config.option.tbstyle = "short"

    from vsq.pytest_plugin.session import SESSION_KEY, VsqSession
    from vsq.configuration.grants import Grants
    from vsq.pipeline.job import prepare_all
    from vsq.util.text import terminal
    from vsq.errors import ConfigError
    from vsq.api import run_options
    from vsq.pipeline.progress import Progress, quiet_tools

    try:
        grants = Grants.given(config.getoption("allow_unsafe_model_code"), config.getoption("imx500_converter"),
                              config.getoption("max_image_pixels"))
        jobs = prepare_all(config.getoption("config"), grants)
    except ConfigError as error:
        raise pytest.UsageError(terminal(str(error))) from None
    options = run_options(config.getoption("vsq_cache_dir"), not config.getoption("no_cache"),
                          config.getoption("baseline"), config.getoption("accept_baseline"),
                          Progress(_stderr_is_terminal(config), lambda: _visible(config)))
    if options.accept_baseline:
        unset = [job.name for job in jobs if options.baseline_for(job.config) is None]
        if unset:
            raise pytest.UsageError(f"--accept-baseline: configuration {unset[0]!r} has no baseline file; give "
                                    "--baseline PATH or a \"baseline\" key")
    quiet_tools(options.progress.is_terminal)  # before TensorFlow and MCT are imported
    worker = getattr(config, "workerinput", None)
    if worker:  # pytest-xdist workers share the controller's run id
        options.run_id = worker["vsq_run_id"]
    config.stash[SESSION_KEY] = VsqSession(jobs, options)


def _installed_suites_unless_paths_given(config) -> None:
    """`pytest --config mine.json` in any folder: no test paths given and no testpaths configured means the
    suites that came with vsq (a folder's own tests still run when named, or by its pytest.ini's testpaths)."""
    if config.getoption("config") and config.args_source == pytest.Config.ArgsSource.INVOCATION_DIR:
        import vsq.suites

        config.args[:] = [os.path.dirname(vsq.suites.__file__)]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist (controller): hand the run id to each worker."""
    from vsq.pytest_plugin.session import vsq_session

    node.workerinput["vsq_run_id"] = vsq_session(node.config).options.run_id


def _stderr_is_terminal(config) -> bool:
    """Whether the real standard error (not pytest's capture of it) is a terminal."""
    import sys

    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        return sys.stderr.isatty()
    with capture.global_and_fixture_disabled():
        return sys.stderr.isatty()


def _visible(config):
    """Where progress reaches the terminal although pytest captures output (the spec shows the bars)."""
    import contextlib

    capture = config.pluginmanager.getplugin("capturemanager")
    return capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()


def _session(config):
    from vsq.pytest_plugin.session import SESSION_KEY

    return config.stash.get(SESSION_KEY, None)


def pytest_generate_tests(metafunc):
    session = _session(metafunc.config)
    if "vsq_job" not in metafunc.fixturenames or not session or not session.jobs:
        return
    item = next((name for name in ITEM_ARGUMENTS if name in metafunc.fixturenames), None)
    if item is None:
        params = [pytest.param(job, id=job.name, marks=_group(job)) for job in session.jobs]
        metafunc.parametrize("vsq_job", params, indirect=True, scope="session")
        return
    # The items of this test's check over all configurations; None stands for "none at all", deselected.
    base = metafunc.function.__name__.removeprefix("test_")
    items = []
    for job in session.jobs:
        items += [value for value in _items(session.pipeline(job), base) if value not in items]
    pairs = [pytest.param(job, value, id=f"{job.name}-{value}" if value else job.name, marks=_group(job))
             for job in session.jobs for value in items or [None]]
    metafunc.parametrize(["vsq_job", item], pairs, indirect=["vsq_job"], scope="session")


def _items(pipeline, base: str) -> list[str]:
    from vsq.core.verdicts import split_name

    return [split_name(name)[1] for name in pipeline.planned_checks() if split_name(name)[0] == base]


def _group(job):
    """pytest-xdist --dist loadgroup: all tests of a configuration on one worker, so its heavy work runs once."""
    return pytest.mark.xdist_group(job.name)


def pytest_collection_modifyitems(config, items):
    if _session(config) and _session(config).jobs:
        from vsq.suites import ORDER  # the suites' own order: configuration, data, ..., then accuracy

        items.sort(key=lambda item: ORDER.index(item.path.name) if item.path.name in ORDER else len(ORDER))
        _deselect(config, items, lambda item: not _planned(config, item))
        _deselect_benchmarks_unless_asked(config, items)
        return
    if any("vsq_job" in getattr(item, "fixturenames", ()) for item in items):
        raise pytest.UsageError(f"no --config given; the suites need a configuration file: {HOW_TO_CALL}")


def _planned(config, item) -> bool:
    """A suite test runs for a configuration exactly when the configuration's run makes its check (one
    rule for sections, variants, baselines and parametrised checks); benchmarks and tests of no check run."""
    params = item.callspec.params if hasattr(item, "callspec") else {}
    job = params.get("vsq_job")
    if job is None or "check" not in item.fixturenames:
        return True
    value = next((params[name] for name in ITEM_ARGUMENTS if name in params), None)
    base = item.function.__name__.removeprefix("test_")  # test_<check>: the check it asserts
    name = base if value is None else f"{base}[{value}]"
    return name in _session(config).pipeline(job).planned_checks()


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Our own errors, and the TensorFlow/MCT messages they carry, are shown without a traceback."""
    from vsq.errors import VsqError
    from vsq.util.text import terminal

    report = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, VsqError) and report.failed:
        report.longrepr = terminal(str(call.excinfo.value), lines=True)
    return report
