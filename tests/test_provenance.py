"""Provenance: which commit, model, configuration and images a run's figures are of, in results.json, the
history line, the HTML page and JUnit XML."""

import hashlib
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import tiny
from vsq.pipeline.artifacts import Fingerprints
from vsq.pipeline.job import prepare
from vsq.provenance import flat, git_state, image_list_digest


def git(folder, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=folder, check=True,
                   capture_output=True)


def test_git_state_gives_the_commit_and_whether_tracked_files_changed(tmp_path):
    assert git_state(tmp_path) is None  # not a repository
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("1")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-qm", "one")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    (tmp_path / "untracked.txt").write_text("outputs of a run")
    assert git_state(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "a.txt").write_text("2")
    assert git_state(tmp_path) == {"commit": head, "dirty": True}


def test_the_image_list_digest_is_the_documented_recipe(tmp_path):
    tiny.write_data(tmp_path, per_class=2)
    root = tmp_path / "evaluate" / "images"
    paths = sorted(root.rglob("*.JPEG"), reverse=True)  # any order in: the list is sorted
    rows = sorted([p.relative_to(root).as_posix(), p.stat().st_size] for p in paths)
    expected = hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()
    assert image_list_digest(paths, root) == {"count": 6, "total_bytes": sum(r[1] for r in rows),
                                              "list_sha256": expected}


def test_flat_takes_only_the_shape_vsq_writes():
    assert flat("not an object") == {}
    assert flat({"git": None, "model_files": [1]}) == {"git_commit": "none", "git_dirty": "none"}


@pytest.mark.slow
def test_a_run_records_its_provenance_in_results_history_html_and_junit(tmp_path, tiny_model, shared_cache):
    tiny.write_data(tmp_path)
    config = tiny.write_config(tmp_path, source_keras_model=str(tiny_model))
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "configuration.json")
    git(tmp_path, "commit", "-qm", "configuration")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    done = subprocess.run([sys.executable, "-m", "vsq", "run", config, "--html", "page.html", "--junit", "junit.xml",
                           f"--cache-dir={shared_cache}"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads((tmp_path / "results" / "results.json").read_text())
    provenance = document["provenance"]
    assert provenance["git"] == {"commit": head, "dirty": False}
    assert provenance["model_files"]["source_keras_model"]["sha256"] == hashlib.sha256(
        tiny_model.read_bytes()).hexdigest()
    assert provenance["configuration"]["sha256"] == hashlib.sha256(config.read_bytes()).hexdigest()
    assert provenance["evaluation_images"]["count"] == document["images"]["found"] == 36
    # the image files' contents and the labels file, as the cache keys evaluations: what a baseline entry records
    assert provenance["evaluation_digest"] == Fingerprints.of(prepare(config)).evaluation
    line = json.loads((tmp_path / "results" / "history.jsonl").read_text().splitlines()[-1])
    assert line["provenance"] == flat(provenance) and line["provenance"]["git_commit"] == head
    page = (tmp_path / "page.html").read_text()
    assert "<h2>Provenance and versions</h2>" in page and provenance["configuration"]["sha256"] in page
    assert "<h2>Per-class Top-1</h2>" in page and "<td>blue</td><td>12</td><td>1.0000</td>" in page
    assert f"<td>tensorflow</td><td>{document['environment']['tensorflow']}</td>" in page
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    facts = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert facts["configuration_git_commit"] == head
    assert facts["configuration_evaluation_images_sha256"] == provenance["evaluation_images"]["list_sha256"]
