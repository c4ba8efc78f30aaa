"""Configurations that ask for what only the command line may grant (vsq.configuration.grants): a converter to
run, the model's own code, a pixel limit above the default. Asked without the grant, each stops the run at
`prepare` (exit code 4, one line naming the option that grants it) and nothing runs."""

import json
import os
import subprocess
import sys

import pytest

import hostile
import tiny
from runs import run_suites
from vsq.configuration.grants import Grants, OptionError
from vsq.configuration.job import prepare, prepare_all
from vsq.errors import ConfigError


def vsq_run(project, *args, env=None):
    return subprocess.run([sys.executable, "-m", "vsq", "run", *map(str, args), "--cache-dir", str(project / "cache")],
                          capture_output=True, text=True, timeout=120, cwd=project, env={**os.environ, **(env or {})})


@pytest.fixture
def tool(project):
    """./tool.sh next to the configuration, and the file it creates when it runs."""
    ran = project / "tool-ran"
    return hostile.program(project / "tool.sh", ran), ran


def test_a_converter_named_by_the_configuration_is_not_run(project, tool):
    script, ran = tool
    config = tiny.write_config(project, imx500={"converter": "./tool.sh"})
    with pytest.raises(ConfigError) as caught:
        prepare(config)
    assert caught.value.key == "imx500.converter"
    assert f"--imx500-converter {script}" in str(caught.value) and "VSQ_IMX500_CONVERTER" in str(caught.value)
    done = vsq_run(project, config)
    assert done.returncode == 4 and len(done.stderr.splitlines()) == 1, done.stderr
    assert "--imx500-converter" in done.stderr
    assert not ran.exists() and not (project / "output").exists()


def test_pytest_refuses_it_too_with_exit_4(harness):
    tiny.write_data(harness.path)
    hostile.write_h5(harness.path / "model.h5", hostile.model_config())
    ran = harness.path / "tool-ran"
    hostile.program(harness.path / "tool.sh", ran)
    config = tiny.write_config(harness.path, imx500={"converter": "./tool.sh"})
    result = run_suites(harness, config)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert any("--imx500-converter" in line for line in result.stderr.lines), result.stderr.str()
    assert not ran.exists()


def test_the_command_line_grants_a_converter(project, tool):
    script, ran = tool
    config = tiny.write_config(project, imx500={"converter": "./tool.sh"})
    assert prepare(config, Grants.given(imx500_converter=script)).imx500_converter == script
    assert prepare(config, Grants.given(environ={"VSQ_IMX500_CONVERTER": str(script)})).imx500_converter == script
    plain = tiny.write_config(project, name="plain.json", imx500={})  # the grant is every configuration's converter
    assert prepare(plain, Grants.given(imx500_converter=script)).imx500_converter == script
    assert not ran.exists()  # checking it does not run it


@pytest.mark.parametrize("kind", ["link", "folder", "not-executable", "missing"])
def test_a_granted_converter_must_be_a_regular_executable_file(project, tool, kind):
    script, _ = tool
    given = {"link": lambda: hostile.link(project / "bin" / "imxconv-tf", script),
             "folder": lambda: project / "images",
             "not-executable": lambda: (project / "labels").with_suffix(".txt"),
             "missing": lambda: project / "nowhere"}[kind]()
    if kind == "not-executable":
        given.write_text("#!/bin/sh\n")
    config = tiny.write_config(project, imx500={})
    with pytest.raises(ConfigError) as caught:
        prepare(config, Grants.given(imx500_converter=given))
    assert f"--imx500-converter {given}: " in str(caught.value)
    assert ("symbolic link" in str(caught.value)) == (kind == "link")


def test_a_configuration_cannot_grant_itself_its_models_code(project):
    config = tiny.write_config(project, allow_unsafe_model_code=True)
    with pytest.raises(ConfigError) as caught:
        prepare(config)
    assert caught.value.key == "allow_unsafe_model_code"
    assert "--allow-unsafe-model-code configuration" in str(caught.value)
    done = vsq_run(project, config)
    assert done.returncode == 4 and "--allow-unsafe-model-code configuration" in done.stderr
    granted = prepare(config, Grants.given(unsafe_model_code=["configuration"]))
    assert granted.config.allow_unsafe_model_code is True


def test_a_grant_naming_no_configuration_of_the_run_is_refused(project):
    config = tiny.write_config(project)
    with pytest.raises(OptionError, match=r"--allow-unsafe-model-code confiugration: no configuration of this run is "
                                          r"named 'confiugration' \(they are: configuration\)"):
        prepare_all([config], Grants.given(unsafe_model_code=["confiugration"]))
    done = vsq_run(project, config, "--allow-unsafe-model-code", "confiugration")
    assert done.returncode == 4 and done.stderr.startswith("ERROR: --allow-unsafe-model-code confiugration: ")


def test_a_pixel_limit_above_the_default_needs_the_grant(project):
    config = tiny.write_config(project, preprocessing={"max_image_pixels": 100_000_000})
    with pytest.raises(ConfigError, match="--max-image-pixels 100000000"):
        prepare(config)
    assert prepare(config, Grants.given(max_image_pixels=100_000_000)).config.preprocessing.max_image_pixels == \
        100_000_000
    lower = tiny.write_config(project, preprocessing={"max_image_pixels": 1000})
    assert prepare(lower).config.preprocessing.max_image_pixels == 1000  # lowering needs no grant
    assert prepare(tiny.write_config(project), Grants.given(max_image_pixels=50_000_000)) \
        .config.preprocessing.max_image_pixels == 50_000_000


def test_results_json_records_what_was_granted(project):
    """results.json's configuration says what the run did: the model's code allowed, the pixel limit."""
    config = tiny.write_config(project, allow_unsafe_model_code=True)
    job = prepare(config, Grants.given(unsafe_model_code=["configuration"], max_image_pixels=50_000_000))
    recorded = json.loads(json.dumps(job.config.as_dict()))
    assert recorded["allow_unsafe_model_code"] is True
    assert recorded["preprocessing"]["max_image_pixels"] == 50_000_000
