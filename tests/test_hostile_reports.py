"""Forged results.json files given to `python -m vsq report` (they come from other CI jobs' artifacts): each is
refused with exit code 2 and one line naming the file and the key (vsq.pipeline.results_check), or rendered
safely: no raw markup in the HTML, no control character on the terminal, well-formed JUnit XML, charts drawn
whatever the labels, thumbnails only of images under the folders given with --images.

The documents start from tests/data/results-format2.json, a real run with every section (variants, IMX500,
explanation, baseline), and tests/data/results-format1.json, what vsq wrote before the verdicts map.
"""

import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import hostile
from vsq.__main__ import main
from vsq.pipeline import results_check

DATA = Path(__file__).parent / "data"
FORMAT2, FORMAT1 = DATA / "results-format2.json", DATA / "results-format1.json"
PYTORCH = DATA / "results-pytorch.json"  # the PyTorch example's, as written by a run
SCRIPT = "<script>alert(1)</script>"
CONTROL = "\x1b]0;pwned\x07\x1b[2J\r"  # retitle the terminal, clear it, return to the line's start


def document(path=FORMAT2) -> dict:
    return json.loads(path.read_text())


def report(tmp_path, capsys, *documents, args=()):
    """`python -m vsq report` on the documents (dicts, or raw text), with every output; (exit code, stdout,
    stderr, the HTML page, the JUnit file)."""
    files = []
    for i, item in enumerate(documents):
        folder = tmp_path / f"run{i}"
        folder.mkdir(exist_ok=True)
        files.append(folder / "results.json")
        files[-1].write_text(item if isinstance(item, str) else json.dumps(item), encoding="utf-8", errors="surrogatepass")
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    code = main(["report", *map(str, files), "--html", str(out / "report.html"), "--junit", str(out / "gate.xml"),
                 *map(str, args)])
    said = capsys.readouterr()
    page = (out / "report.html").read_text() if (out / "report.html").exists() else None
    junit = (out / "gate.xml").read_bytes() if (out / "gate.xml").exists() else None
    return code, said.out, said.err, page, junit


def refused(tmp_path, capsys, item, key: str | None) -> str:
    code, out, err, page, junit = report(tmp_path, capsys, item)
    assert code == 2 and out == "" and page is None and junit is None, (code, err)
    [line] = err.splitlines()
    assert line.startswith(f"ERROR: {tmp_path / 'run0' / 'results.json'}: {key + ': ' if key else ''}"), line
    assert line.endswith("; give the results.json a vsq run wrote"), line
    return line


def leaves(value, path=()):
    """(path, value) of every string, number and boolean in the document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def put(doc, path, value):
    for part in path[:-1]:
        doc = doc[part]
    doc[path[-1]] = value


def errors(doc) -> list[tuple]:
    """The paths at which the schema (and the limits) refuse the document."""
    from vsq.pipeline.results_check import _check_limits, _validator

    _check_limits(doc, "results.json")
    return [tuple(error.absolute_path) for error in _validator().iter_errors(doc)]


def refused_and_kept(original: dict, changed: dict, paths: list[tuple]) -> tuple[dict, list[tuple]]:
    """`changed` with every value at `paths` put back as in `original` where the schema refuses it, until the
    schema accepts the whole: (the document, the paths put back)."""
    reverted = []
    for _ in range(20):
        found = errors(changed)
        if not found:
            return changed, reverted
        for path in paths:
            if any(path[:len(error)] == error or error[:len(path)] == path for error in found) and path not in reverted:
                value = original
                for part in path:
                    value = value[part]
                put(changed, path, value)
                reverted.append(path)
    raise AssertionError(f"still refused: {errors(changed)[:3]}")


def test_real_files_of_both_formats_are_accepted(tmp_path, capsys):
    code, out, err, page, junit = report(tmp_path, capsys, document(FORMAT2), document(FORMAT1))
    assert code == 1 and err == "" and "vsq report: 2 configuration(s), 2 failed" in out
    assert page.count("data:image/png;base64,") >= 7


def test_a_fifo_or_a_link_as_results_json_is_refused_without_reading_it(tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("password=hunter2\n")
    fifo, link = tmp_path / "fifo" / "results.json", tmp_path / "link" / "results.json"
    fifo.parent.mkdir()
    link.parent.mkdir()
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    link.symlink_to(secret)  # its first bytes would show in "is not JSON (...)"
    for path, words in ((fifo, "is not a regular file"), (link, "is a symbolic link")):
        assert main(["report", str(path)]) == 2
        err = capsys.readouterr().err
        assert words in err and "hunter2" not in err and len(err.strip().splitlines()) == 1


def test_a_pytorch_results_json_is_accepted_and_read_by_its_roles(tmp_path, capsys):
    """The PyTorch example's own results.json (PyTorch, quantized ONNX, quantized PyTorch; no Keras keys)."""
    pytorch = document(PYTORCH)
    code, out, err, page, junit = report(tmp_path, capsys, pytorch)
    assert code == 0 and err == "" and "vsq report: 1 configuration(s), 0 failed" in out
    assert out.splitlines()[0].split()[1:4] == ["PyTorch", "quantized", "q."]
    assert "Top-1 PyTorch" in page and "Top-1 quantized ONNX" in page and "keras" not in junit.decode().lower()
    without = {key: value for key, value in pytorch.items() if key != "top_1_accuracy_pytorch"}
    code, out, err, *_ = report(tmp_path, capsys, without)
    assert code == 2 and "top_1_accuracy_pytorch" in err and "\n" not in err.strip()


def test_every_string_field_as_script_is_refused_or_escaped(tmp_path, capsys):
    """Every string becomes <script>...: the schema refuses it where it is pinned (verdicts, rules, statuses) and
    then exit 2; everywhere else none reaches the page raw."""
    original, doc = document(), document()
    paths = [path for path, value in leaves(original) if isinstance(value, str)]
    for path in paths:
        put(doc, path, SCRIPT + doc_value(original, path))
    doc, pinned = refused_and_kept(original, doc, paths)
    assert {path[-1] for path in pinned} <= {"verdict", "rule", "status", "decision_rule", "inconclusive"}, pinned
    code, out, err, page, junit = report(tmp_path, capsys, doc)
    assert code == 1 and err == "", err
    assert "<script" not in page.lower() and page.count("&lt;script&gt;") > 30  # names, reasons, paths, captions
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; ' \
           "style-src 'unsafe-inline'\">" in page
    ET.fromstring(junit)
    refused(tmp_path, capsys, {**document(), "gate": {**document()["gate"], "verdict": SCRIPT}}, "gate.verdict")


def doc_value(doc, path):
    for part in path:
        doc = doc[part]
    return doc


@pytest.mark.parametrize("text, key", [
    ('{"a": ' * 100_000 + "1" + "}" * 100_000, None),
    ("[" * 100_000 + "]" * 100_000, None),
])
def test_deep_nesting_is_refused(tmp_path, capsys, text, key):
    assert "is nested more than 32 levels deep" in refused(tmp_path, capsys, text, key)


def test_nesting_deeper_than_vsq_writes_is_refused_with_its_key(tmp_path, capsys):
    doc = document()
    deep = doc["environment"]
    for _ in range(40):
        deep["x"] = {}
        deep = deep["x"]
    line = refused(tmp_path, capsys, doc, "environment" + ".x" * 31)
    assert "is nested more than 32 levels deep" in line


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_numbers_that_are_not_finite_are_refused(tmp_path, capsys, number):
    text = json.dumps(document()).replace('"top_1_accuracy_keras": 0.8297872340425532',
                                          f'"top_1_accuracy_keras": {number}', 1)
    key = "top_1_accuracy_keras" if number == "1e400" else None
    line = refused(tmp_path, capsys, text, key)
    assert ("is not a finite number" in line) if key else (f"{number.lstrip('-')} is not a JSON number" in line)


def test_every_value_of_the_wrong_type_is_refused_or_rendered(tmp_path, capsys):
    """Every value replaced by one of another type (a number for a string, a string for a number, an object for a
    list's item...): the schema refuses it, or the reports render it; never a traceback."""
    original, doc = document(), document()
    paths = [path for path, _ in leaves(original)]
    for path in paths:
        value = doc_value(original, path)
        put(doc, path, {str: 7, bool: "yes", int: "7", float: "7.5"}.get(type(value), {"x": 1}))
    doc, refused_paths = refused_and_kept(original, doc, paths)
    kept = [path for path in paths if path not in refused_paths]
    assert ("top_1_accuracy_keras",) in refused_paths and ("num_images",) in refused_paths
    assert len(kept) > 100  # the configuration as written, the environment, figures: what no report reads typed
    code, out, err, page, junit = report(tmp_path, capsys, doc)
    assert code in (0, 1) and err == "" and page and junit, err


@pytest.mark.parametrize("path", [("models", "tflite_quantized", "paired", "keras"), ("configuration", "name"),
                                  ("class_names",), ("top_1_accuracy_keras",), ("models", "keras", "top_1_accuracy")])
def test_missing_keys_are_refused_with_their_name(tmp_path, capsys, path):
    doc = document()
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    key = ".".join(path[:-1]) or None
    assert f"lacks the key {path[-1]}" in refused(tmp_path, capsys, doc, key)


def test_a_file_over_the_size_cap_is_refused_before_it_is_parsed(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(results_check, "MAX_BYTES", 1000)
    assert "is larger than 0 MiB" in refused(tmp_path, capsys, document(), None)


def test_control_characters_never_reach_the_terminal_or_the_junit_file(tmp_path, capsys):
    doc = document()
    doc["configuration"]["name"] = f"full{CONTROL}"
    doc["gate"]["failures"][0]["message"] = f"lost{CONTROL}\x00\x0b\ufffe"
    doc["class_names"][0] += CONTROL
    code, out, err, page, junit = report(tmp_path, capsys, doc)
    assert code == 1 and err == ""
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", out), [line for line in out.splitlines() if "\\x1b" in line]
    assert "full\\x1b]0;pwned\\x07\\x1b[2J\\r" in out  # shown, harmless
    ET.fromstring(junit)
    assert not re.search(b"&#(x0*(1b|0|b|7)|0*(27|0|11|7));", junit)  # no escaped control character either


def test_lone_surrogates_are_written_as_replacement_characters(tmp_path, capsys):
    text = json.dumps(document()).replace('"name": "full"', '"name": "full\\ud800"', 1) \
                                 .replace('"message": "full: INCONCLUSIVE', '"message": "\\udfff full: INCONCLUSIVE', 1)
    code, out, err, page, junit = report(tmp_path, capsys, text)
    assert code == 1 and err == "" and "full\ufffd" in out
    assert "full\ufffd" in page
    ET.fromstring(junit)


def test_dollar_signs_in_labels_do_not_break_the_charts(tmp_path, capsys):
    """matplotlib reads $...$ as mathtext: an unbalanced `$` in a class name used to leave no HTML at all."""
    doc = document()
    names = {"blue": "$", "green": "a$b$c$", "red": r"$\frac{1}{0"}
    doc["class_names"] = [names[name] for name in doc["class_names"]]
    for model in doc["models"].values():
        model["per_class_top_1"] = {names[name]: value for name, value in model["per_class_top_1"].items()}
    doc["configuration"]["name"] = "$full"
    doc["explanation"]["layers"][0]["name"] = "$^{$"
    code, out, err, page, junit = report(tmp_path, capsys, doc)
    assert code == 1 and err == ""
    assert page.count("data:image/png;base64,") >= 5  # drop, IMX500, per-class, confusion, SQNR


def gallery_document(tmp_path, *paths) -> dict:
    doc = document()
    rows = doc["models"]["tflite_quantized"]["flipped"]
    doc["models"]["tflite_quantized"]["flipped"] = [{**rows[0], "path": str(path)} for path in paths]
    return doc


def jpeg(path: Path) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (30, 30), (200, 0, 0)).save(path, format="JPEG")
    return path


def test_the_gallery_embeds_only_images_under_the_folders_given(tmp_path, capsys):
    from vsq.reporting.gallery import gallery_html

    images = tmp_path / "images"
    inside, secret = jpeg(images / "red" / "a.JPEG"), jpeg(tmp_path / "secret" / "private.JPEG")
    escaping = images / "red" / ".." / ".." / "secret" / "private.JPEG"
    linked = hostile.link(images / "red" / "link.JPEG", secret)
    doc = gallery_document(tmp_path, inside, secret, escaping, linked)
    page = gallery_html("full", doc)
    assert "data:image/jpeg" not in page and page.count("no image folder was given") == 4
    page = gallery_html("full", doc, [images])
    assert page.count("data:image/jpeg") == 1 and page.count("outside the image folders given") == 3
    code, out, err, page, junit = report(tmp_path, capsys, doc, args=["--images", images])  # the option grants it
    assert code == 1 and page.count("data:image/jpeg") == 1


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's own, as it opens the header
def test_a_pixel_bomb_or_an_eps_file_in_the_gallery_is_a_caption(tmp_path):
    from vsq.reporting.gallery import gallery_html

    images = tmp_path / "images"
    bomb = hostile.pixel_bomb_png(images / "red" / "bomb.JPEG")
    eps = images / "red" / "x.JPEG"
    eps.write_bytes(hostile.EPS)
    page = gallery_html("full", gallery_document(tmp_path, bomb, eps), [images])
    assert page.count("image not available here") == 2 and "data:image/jpeg" not in page
