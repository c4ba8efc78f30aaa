"""vsq as a library, as a notebook uses it: a configuration built as a dict, a short repr, the errors exported."""

import os

import pytest

import tiny
import vsq


@pytest.fixture(scope="module")
def library_run(tmp_path_factory, tiny_model):
    """One run of a tiny project, its configuration given as a dict with paths relative to the working folder."""
    root = tmp_path_factory.mktemp("library")
    tiny.write_data(root, mislabelled=2)
    config = tiny.config_dict(source_keras_model=str(tiny_model))
    before = os.getcwd()
    os.chdir(root)
    try:
        run = vsq.run(config, cache_dir=root / "cache", progress=False)
    finally:
        os.chdir(before)
    return root, run


@pytest.mark.slow
def test_run_takes_a_dict_whose_paths_are_relative_to_the_working_folder(library_run):
    root, run = library_run
    assert run.name == "configuration"
    assert run.document["configuration"]["evaluate_image_dir_resolved"] == str(root / "evaluate" / "images")
    assert (root / "results" / "results.json").is_file()


@pytest.mark.slow
def test_repr_is_one_short_line_with_the_verdict_and_top1(library_run):
    _, run = library_run
    text = repr(run)
    assert "\n" not in text and len(text) < 400
    assert text.startswith(f"<RunResult 'configuration' {run.verdict}: Top-1 ")
    assert f"keras {run.top1['keras']:.4f}" in text


def test_a_bad_dict_raises_the_exported_config_error_naming_the_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tiny.write_data(tmp_path)
    with pytest.raises(vsq.ConfigError) as raised:
        vsq.run(tiny.config_dict(batch_size="eight"))
    assert raised.value.key == "batch_size" and isinstance(raised.value, vsq.VsqError)
    assert str(raised.value).startswith(f"{tmp_path / 'configuration'}: batch_size: ")
