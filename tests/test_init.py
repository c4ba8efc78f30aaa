"""`vsq init IMAGES_DIR [--model FILE]`: labels.json and a configuration vsq accepts, from what it can read."""

import json
import subprocess
import sys

import hostile
import tiny
from vsq.pipeline.job import prepare


def vsq(folder, *args):
    return subprocess.run([sys.executable, "-m", "vsq", *map(str, args)], cwd=folder, capture_output=True, text=True)


def test_init_writes_labels_and_a_configuration_vsq_accepts(tmp_path):
    tiny.write_data(tmp_path)
    hostile.write_h5(tmp_path / "model.h5", hostile.model_config(hostile.layer("Dense", "dense", units=3)))
    done = vsq(tmp_path, "init", "evaluate/images", "--model", "model.h5", "--calibration", "images")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "labels.json").read_text()) == {"blue": 0, "green": 1, "red": 2}
    config = json.loads((tmp_path / "configuration.json").read_text())
    assert config["input_tensor_size"] == 16  # read from the model's own configuration
    assert config["evaluate_image_extension"] == "JPEG"
    assert config["source_keras_model"] == "./model.h5"
    assert "vsq run configuration.json" in done.stdout.splitlines()[-1]
    job = prepare(tmp_path / "configuration.json")  # every check of the configuration and its data passes
    assert job.evaluation_set.class_names == ("blue", "green", "red") and len(job.calibration_images) == 36


def test_init_refuses_to_overwrite_without_force(tmp_path):
    tiny.write_data(tmp_path)
    (tmp_path / "configuration.json").write_text("{\"mine\": 1}")
    done = vsq(tmp_path, "init", "evaluate/images")
    assert done.returncode == 2
    assert done.stderr.strip() == (f"ERROR: configuration.json exists; vsq init does not overwrite it: give --force to "
                                   "replace it, or run vsq init in another folder")
    assert (tmp_path / "configuration.json").read_text() == "{\"mine\": 1}"
    assert not (tmp_path / "labels.json").exists()  # nothing written when anything is refused
    forced = vsq(tmp_path, "init", "evaluate/images", "--force")
    assert forced.returncode == 0, forced.stderr
    config = json.loads((tmp_path / "configuration.json").read_text())
    assert config["input_tensor_size"] == 224 and "input_tensor_size is 224" in forced.stdout
    assert "set source_keras_model" in forced.stdout


def test_init_says_what_is_wrong_with_the_folder_in_one_line(tmp_path):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.jpg").write_bytes(b"")
    for folder, expected in (("missing", "no such folder"), ("flat", "holds no class folder")):
        done = vsq(tmp_path, "init", folder)
        assert done.returncode == 2 and expected in done.stderr and len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "configuration.json").exists()
