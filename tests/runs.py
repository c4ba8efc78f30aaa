"""Running the harness's suites in a fresh pytest process (pytester), as a user would."""

import time


def run_suites(harness, *configs, extra=(), cache=None):
    """`pytest suites/ --config ...` in the harness copy, with an artifact cache of the test's own (or `cache`:
    the session's shared_cache, for a test that neither counts builds nor touches the cache's files).

    The result gets `elapsed`: the whole process's wall time in seconds.
    """
    args = ["suites/", f"--vsq-cache-dir={cache or harness.path / 'cache'}"]
    for config in configs:
        args += ["--config", str(config)]
    started = time.perf_counter()
    result = harness.runpytest_subprocess(*args, *extra)
    result.elapsed = time.perf_counter() - started
    return result
