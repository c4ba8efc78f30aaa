"""vsq's suites: installed as vsq.suites (pyproject.toml's package-dir), run by `pytest --config FILE`.

ORDER: the suite files in the order a run shows them, like the spec's flow: configuration, data, the float model,
exported files, then accuracy, the sensor, variants, benchmarks (a file not listed runs after them)."""

ORDER = ("test_config.py", "test_datasets.py", "test_float_model.py", "test_export.py", "test_accuracy.py", "test_detection.py",
         "test_imx500.py", "test_variants.py", "test_benchmarks.py")
