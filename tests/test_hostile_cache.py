"""Cache entries poisoned by whoever can write the cache folder (another job, a restored CI cache): each is a
miss, removed and built again, with one line saying why (vsq.cache.store); nothing outside the entry is
read or written, and nothing hangs."""

import json
import os
import subprocess
import sys

import pytest

import hostile
from vsq.cache.store import MANIFEST, Cache, Cached

MODEL = b"a converted model"


@pytest.fixture
def cache(tmp_path):
    """A cache holding one intact entry, tflite/k with model.tflite."""
    cache = Cache(tmp_path / "cache", secret=b"")
    with cache.put("tflite", "k") as folder:
        (folder / "model.tflite").write_bytes(MODEL)
    assert cache.get("tflite", "k") is not None
    return cache


def manifest(cache) -> dict:
    return json.loads((cache.entry("tflite", "k") / MANIFEST).read_text())


def rewrite(cache, files: dict) -> None:
    (cache.entry("tflite", "k") / MANIFEST).write_text(json.dumps({"kind": "tflite", "key": "k", "files": files}))


def refused(cache, needs=("model.tflite",)) -> str:
    """The entry is a miss; the reason, which is also what the run reports."""
    cached = Cached(cache, {})
    assert cached.get("tflite", "k", "model.tflite", needs) is None
    assert not os.path.lexists(cache.entry("tflite", "k"))  # removed, to be built again
    return cached.refused["model.tflite"]


def listed(data: bytes) -> dict:
    import hashlib

    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_a_file_replaced_by_a_link_is_a_miss(cache, tmp_path):
    outside = tmp_path / "outside.tflite"
    outside.write_bytes(MODEL)  # the same bytes: the manifest's digest matches through the link
    entry = cache.entry("tflite", "k")
    (entry / "model.tflite").unlink()
    hostile.link(entry / "model.tflite", outside)
    assert refused(cache) == "model.tflite is a symbolic link"
    assert outside.read_bytes() == MODEL


def test_an_entry_that_is_a_link_is_a_miss(cache, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    os.rename(cache.entry("tflite", "k"), elsewhere)
    hostile.link(cache.entry("tflite", "k"), elsewhere)
    assert refused(cache) == "it is not a folder (a symbolic link or a file)"
    assert (elsewhere / "model.tflite").read_bytes() == MODEL  # the link went, not what it pointed at


def test_an_unlisted_file_is_a_miss(cache):
    (cache.entry("tflite", "k") / "evaluation.npz").write_bytes(b"forged")
    assert refused(cache) == "it holds 'evaluation.npz', which its manifest does not list"


def test_an_empty_manifest_is_a_miss(cache):
    rewrite(cache, {})
    assert refused(cache) == "it holds 'model.tflite', which its manifest does not list"
    # and an empty entry lacks what its reader needs
    (cache.entry("tflite", "k")).mkdir(parents=True)
    rewrite(cache, {})
    assert refused(cache) == "it lacks model.tflite"


@pytest.mark.parametrize("name", ["../../outside.tflite", "/dev/zero", "sub/model.tflite", ".", MANIFEST])
def test_a_name_that_leaves_the_entry_is_a_miss(cache, tmp_path, name):
    rewrite(cache, {"model.tflite": listed(MODEL), name: listed(b"")})
    assert refused(cache) == f"its manifest lists {name!r}, which is not a plain file name"


def test_a_manifest_naming_dev_zero_hangs_nothing(cache, tmp_path):
    """A link to /dev/zero, listed with any size: vsq used to read it for ever, in every later run."""
    entry = cache.entry("tflite", "k")
    hostile.link(entry / "zero", "/dev/zero")
    rewrite(cache, {"model.tflite": listed(MODEL), "zero": {"bytes": 1 << 40, "sha256": "0" * 64}})
    code = ("import sys; from pathlib import Path; from vsq.cache.store import Cache\n"
            "cache = Cache(Path(sys.argv[1]), secret=b'')\n"
            "print(cache.get('tflite', 'k'), cache.refused[('tflite', 'k')])")
    done = subprocess.run([sys.executable, "-c", code, str(cache.root)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "None zero is a symbolic link", done.stderr


def test_a_fifo_in_an_entry_hangs_nothing(cache):
    os.mkfifo(cache.entry("tflite", "k") / "pipe")
    rewrite(cache, {"model.tflite": listed(MODEL), "pipe": listed(b"")})
    assert refused(cache) == "pipe is not a regular file"


def test_a_file_of_another_size_is_not_read(cache):
    with open(cache.entry("tflite", "k") / "model.tflite", "ab") as out:
        out.write(b"\0" * 1000)
    assert refused(cache) == f"model.tflite has {len(MODEL) + 1000:,} bytes, its manifest says {len(MODEL):,}"


def test_an_entry_moved_under_another_key_is_a_miss(cache):
    os.rename(cache.entry("tflite", "k"), cache.entry("tflite", "other"))
    cached = Cached(cache, {})
    assert cached.get("tflite", "other", "model.tflite") is None
    assert cached.refused["model.tflite"] == "its manifest is not one of this kind and key"


def test_with_a_key_only_signed_entries_are_used(tmp_path):
    """$VSQ_CACHE_KEY: a forged entry (its manifest rewritten to match forged bytes) carries no valid signature."""
    signed = Cache(tmp_path / "cache", secret=b"the nightly's key")
    with signed.put("evaluation", "k") as folder:
        (folder / "evaluation.npz").write_bytes(b"real predictions")
    assert signed.get("evaluation", "k") is not None
    entry = signed.entry("evaluation", "k")
    forged = b"predictions that pass the gate"
    (entry / "evaluation.npz").write_bytes(forged)
    (entry / MANIFEST).write_text(json.dumps({"kind": "evaluation", "key": "k",
                                              "files": {"evaluation.npz": listed(forged)}}))
    assert Cache(tmp_path / "cache", secret=b"").get("evaluation", "k") is not None  # no key: trusted as found
    assert signed.get("evaluation", "k") is None
    assert signed.refused[("evaluation", "k")] == "its manifest is not signed with $VSQ_CACHE_KEY"


def test_the_key_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VSQ_CACHE_KEY", "secret")
    with Cache(tmp_path).put("tflite", "k") as folder:
        (folder / "model.tflite").write_bytes(MODEL)
    assert Cache(tmp_path).get("tflite", "k") is not None
    monkeypatch.setenv("VSQ_CACHE_KEY", "another")
    assert Cache(tmp_path).get("tflite", "k") is None


def test_the_run_reports_the_refusal_in_one_line():
    from pathlib import Path

    from vsq.pipeline.results import read
    from vsq.reporting.summary import blocks

    document = read(Path(__file__).parent / "data" / "results-format2.json")  # as every renderer gets it: migrated
    document["cache_refused"] = {"evaluation of tflite": "it holds 'x.npz', which its manifest does not list"}
    [(_, lines)] = blocks({"full": document}, {"full": "PASS"}, {})[:1]
    assert ("full: the cache entry of evaluation of tflite was not used (it holds 'x.npz', which its manifest does "
            "not list); built again") in lines


@pytest.mark.parametrize("name", ["../../../outside.json", "/etc/passwd", "model_MemoryReport.json/..", 7])
def test_an_imx500_result_naming_files_outside_its_entry_is_a_miss(tmp_path, name):
    """The IMX500 entry's result.json lists the converter's files, which a hit copies to output_dir/imx500."""
    from vsq.sections.imx500 import LOG_FILE, RESULT_FILE, stored_problem

    cache = Cache(tmp_path / "cache", secret=b"")
    result = {"converter_version": "3.19.2", "memory_report_only": True, "exit_code": 0, "seconds": 1.0, "fits": True,
              "memory_usage_bytes": 1, "memory_available_bytes": 2, "utilization_percent": 50.0,
              "runtime_memory_bytes": 1, "model_memory_bytes": 1, "input_shape": [16, 16, 3], "out_dir": "o",
              "files": ["model_MemoryReport.json", name], "log": "l", "error": None}
    with cache.put("imx500", "k") as folder:
        (folder / "model_MemoryReport.json").write_text("{}")
        (folder / LOG_FILE).write_text("")
        (folder / RESULT_FILE).write_text(json.dumps(result))
    assert cache.get("imx500", "k", (RESULT_FILE, LOG_FILE), stored_problem) is None
    assert cache.refused[("imx500", "k")] == f"its result.json names {str(name)!r}, which is not a file of the entry"


@pytest.mark.parametrize("signature", ["é" * 64, "\ud800" * 64, "", 7, None, ["a"], {"a": 1}, "0" * 10_000],
                         ids=["non-ascii", "surrogates", "empty", "number", "null", "list", "object", "long"])
def test_a_malformed_signature_is_a_miss_not_a_crash(tmp_path, signature):
    """With $VSQ_CACHE_KEY, hmac.compare_digest raised TypeError on a signature that is not ASCII: the run
    crashed instead of building the entry again (issue 31)."""
    signed = Cache(tmp_path / "cache", secret=b"the nightly's key")
    with signed.put("evaluation", "k") as folder:
        (folder / "evaluation.npz").write_bytes(b"real predictions")
    path = signed.entry("evaluation", "k") / MANIFEST
    written = json.loads(path.read_text())
    path.write_text(json.dumps({**written, "signature": signature}))
    assert signed.get("evaluation", "k") is None
    assert signed.refused[("evaluation", "k")] == "its manifest is not signed with $VSQ_CACHE_KEY"
    assert not os.path.lexists(signed.entry("evaluation", "k"))
