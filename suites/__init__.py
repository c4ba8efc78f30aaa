"""vsq's suites: installed as vsq.suites (pyproject.toml's package-dir), run by `pytest --config FILE`."""
