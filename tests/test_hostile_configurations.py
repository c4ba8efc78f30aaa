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
from vsq.pipeline.job import prepare, prepare_all
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


def test_the_command_line_grants_a_converter(project):
    ran = project / "tool-ran"
    script = hostile.program(project / "bin" / "imxconv-tf", ran)
    config = tiny.write_config(project, imx500={"converter": "./bin/imxconv-tf"})
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


def test_python_m_vsq_imports_nothing_from_the_working_folder(project):
    """`python -m vsq` puts the working folder first on sys.path, and a nightly runs it in the configuration's
    folder: a pull request's `email.py` (imported by importlib.metadata) or `numpy/` would run (issue 31.2)."""
    ran = project / "ran"
    (project / "email.py").write_text(f"open({str(ran)!r}, 'a').write('email ')\n")
    (project / "numpy").mkdir()
    (project / "numpy" / "__init__.py").write_text(f"open({str(ran)!r}, 'a').write('numpy ')\n")
    config = tiny.write_config(project, evaluate_label_file="missing.json")  # refused at prepare, after the imports
    done = vsq_run(project, config)
    assert done.returncode == 4 and "missing.json" in done.stderr, done.stderr
    assert not ran.exists(), ran.read_text()


@pytest.mark.parametrize("entry_point", ["timm.evil:build", "timm:create_model", "torchvision.models:resnet18"])
def test_a_look_alike_builder_package_in_the_working_folder_is_not_installed(project, monkeypatch, entry_point):
    """A folder `timm/` (or `torchvision/models/`) without __init__.py is a namespace package: find_spec gives it
    no origin, which vsq took for "not installed: allowed" (issue 31.2). The main venv has neither package."""
    from vsq.frameworks.pytorch.architecture import resolve
    from vsq.frameworks.pytorch.builders import needs_grant

    package = entry_point.split(":")[0].split(".")[0]
    ran = project / "ran"
    code = f"open({str(ran)!r}, 'w').write('x')\ndef build(**kwargs):\n    raise SystemExit('x')\n"
    (project / "timm").mkdir()
    (project / "timm" / "evil.py").write_text(code)
    (project / "torchvision" / "models").mkdir(parents=True)
    (project / "torchvision" / "models" / "__init__.py").write_text(code.replace("build", "resnet18"))
    monkeypatch.chdir(project)
    monkeypatch.syspath_prepend(str(project))
    why = needs_grant(entry_point)
    if why is None:  # what a run does next with an allowed builder
        with pytest.raises((SystemExit, Exception)):
            resolve(entry_point, project)(num_classes=3)
    assert not ran.exists()
    assert why is not None and package in why, why


def test_a_secret_file_given_as_labels_is_not_printed(project, tmp_path_factory):
    """`"evaluate_label_file": "~/.docker/config.json"` printed the registry credential into the CI log (issue
    31.4): a message names the key and the type of a value, never the value of a file vsq did not make."""
    secret = tmp_path_factory.mktemp("home") / ".docker" / "config.json"
    secret.parent.mkdir()
    secret.write_text(json.dumps({"auths": {"ghcr.io": {"auth": "dXNlcjpnaHBfU0VDUkVU"}}, "token": "s3cr3t-value"}))
    for other in ({"auths": 0, "token": "s3cr3t-value"}, {"auths": 0, "token": 0, "s": 73519}):
        labels = secret.with_name(f"{len(other)}.json")
        labels.write_text(json.dumps(other))
        config = tiny.write_config(project, evaluate_label_file=str(labels))
        done = vsq_run(project, config)
        assert done.returncode == 4 and "evaluate_label_file" in done.stderr, done.stderr
        assert "s3cr3t" not in done.stderr and "73519" not in done.stderr, done.stderr
    config = tiny.write_config(project, evaluate_label_file=str(secret))
    done = vsq_run(project, config)
    assert done.returncode == 4 and "the id of 'auths' is an object" in done.stderr, done.stderr
    assert "dXNlc" not in done.stderr and "ghcr" not in done.stderr and "s3cr3t" not in done.stderr


def test_a_labels_file_of_too_many_classes_is_refused_before_any_folder_is_read(project):
    labels = project / "evaluate" / "labels.json"
    labels.write_text(json.dumps({f"class{i}": i for i in range(2001)}))
    with pytest.raises(ConfigError) as caught:
        prepare(tiny.write_config(project))
    assert caught.value.key == "evaluate_label_file" and "2,001 classes, more than the 2,000" in str(caught.value)


def test_a_granted_converter_serves_its_own_framework_only(project):
    """$VSQ_IMX500_CONVERTER=.../imxconv-tf ran imxconv-tf on a PyTorch model's ONNX file, and every IMX500 check
    failed with the converter's own error (issue 31.9): one grant per framework, told by the file's name."""
    from vsq.configuration.config import load_config
    from vsq.pipeline.job import imx500_converter

    ran = project / "ran"
    tf, pt = (hostile.program(project / "bin" / name, ran) for name in ("imxconv-tf", "imxconv-pt"))
    (project / "model.pt").write_bytes(b"weights")
    keras = load_config(tiny.write_config(project, "keras.json", imx500={}))
    pytorch = load_config(tiny.write_config(project, "pytorch.json", imx500={}, source_keras_model=None,
                                            source_pytorch_model="model.pt",
                                            pytorch_architecture={"entry_point": "torchvision.models:resnet18"}))
    both = Grants.given(environ={"VSQ_IMX500_CONVERTER": f"{tf}:{pt}"})
    assert (imx500_converter(keras, both), imx500_converter(pytorch, both)) == (tf, pt)
    assert imx500_converter(pytorch, Grants.given(imx500_converter=[pt, tf])) == pt
    with pytest.raises(ConfigError) as caught:
        imx500_converter(pytorch, Grants.given(environ={"VSQ_IMX500_CONVERTER": str(tf)}))
    assert caught.value.key == "imx500" and "a PyTorch model needs imxconv-pt; grant it too" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        imx500_converter(keras, Grants.given(imx500_converter=pt))
    assert "a Keras model needs imxconv-tf" in str(caught.value)
    assert not ran.exists()


@pytest.mark.parametrize("given, words", [(["wrapper.sh"], "is named 'wrapper.sh'"),
                                          (["a/imxconv-tf", "b/imxconv-tf"], "is one of two imxconv-tf granted")])
def test_a_converter_grant_vsq_cannot_tell_apart_is_refused(project, given, words):
    with pytest.raises(OptionError) as caught:
        Grants.given(imx500_converter=[str(project / path) for path in given])
    assert str(caught.value).startswith(f"--imx500-converter {project / given[-1]}: {words}"), str(caught.value)
    done = vsq_run(project, tiny.write_config(project, imx500={}), *[f"--imx500-converter={project / p}" for p in given])
    assert done.returncode == 4 and words in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr


NAME = "cfg\x1b[2J\x01<b>x"


def test_a_file_name_that_is_no_configuration_name_is_refused(project):
    """Without a "name" key the name was the file name, unchecked: `cfg\\x1b[2J\\x01<b>x.json` sent an escape
    sequence to the terminal and broke `--junit`'s XML (issue 31.10). One rule for every name."""
    config = tiny.write_config(project, f"{NAME}.json")
    with pytest.raises(ConfigError) as caught:
        prepare(config)
    assert caught.value.key == "name" and "holds a character other than letters, digits" in str(caught.value)
    done = vsq_run(project, config, "--junit", project / "junit.xml")
    assert done.returncode == 4 and "name: is not given, and the file name" in done.stderr, done.stderr
    assert not any(char in done.stdout + done.stderr for char in "\x1b\x01")
    assert prepare(tiny.write_config_dict(project, tiny.config_dict(name="fine"), f"{NAME}.json")).name == "fine"
    for name in ("a" * 101, "x y"):
        with pytest.raises(ConfigError) as caught:
            prepare(tiny.write_config_dict(project, tiny.config_dict(name=name)))
        assert caught.value.key == "name"


def test_names_reach_junit_and_progress_lines_escaped():
    """Names from elsewhere (a results.json, a failure) are escaped where they are written, whatever checked them."""
    import io
    import xml.etree.ElementTree as ET

    from vsq.reporting.junit import checks_xml
    from vsq.pipeline.progress import progress

    suite = ET.fromstring(checks_xml([], {NAME: "failed \x1b[31m"}))
    assert suite.find(".//testcase").get("name") == "run[cfg[2J<b>x]"
    log = io.StringIO()
    with progress(False, total=2, desc=f"{NAME}: calibration", file=log) as bar:
        bar.set_postfix_str("\x1b]0;title\x07")
        bar.update(2)
    assert "\x1b" not in log.getvalue() and "cfg\\x1b[2J\\x01<b>x: calibration: 2/2" in log.getvalue(), log.getvalue()
