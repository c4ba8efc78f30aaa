"""vsq's pytest plugin lives in vsq.pytest_plugin, installed with vsq (entry point pytest11). Naming it here keeps
`pytest suites/ --config configuration.json` working where entry points are not loaded
(PYTEST_DISABLE_PLUGIN_AUTOLOAD); where they are, pytest has registered it under this name already and this
line does nothing."""

pytest_plugins = ["vsq.pytest_plugin.hooks"]
