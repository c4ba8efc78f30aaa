"""README's claims about the library face, each with a test (issue 37): RunResult.flipped() and use_cache=False, and
no TensorFlow while the configurations are checked."""

import pytest

import tiny
from test_gallery import write_flipping_project

pytestmark = pytest.mark.slow


def test_flipped_lists_the_images_the_quantized_file_classifies_differently_and_no_cache_rebuilds_them(
        tmp_path, tiny_model, shared_cache):
    import vsq

    config = write_flipping_project(tmp_path, tiny_model)
    warm = vsq.run(config, cache_dir=shared_cache, progress=False)
    flipped = warm.flipped()
    assert len(flipped) > 24 and flipped == warm.document["models"]["tflite_quantized"]["flipped"]
    for row in flipped:  # each row: the two models disagree, and its kind says who was right
        keras, model, truth = row["keras"]["class"], row["model"]["class"], row["true"]
        assert keras != model, row
        assert row["kind"] == ("loss" if keras == truth else "gain" if model == truth else "both_wrong"), row

    rebuilt = vsq.run(config, cache_dir=shared_cache, use_cache=False, progress=False)
    assert set(rebuilt.document["cache"].values()) == {"built"}, rebuilt.document["cache"]
    assert rebuilt.flipped() == flipped  # seeded and sorted: building again flips the same images


def test_checking_a_configuration_imports_no_tensorflow(tmp_path, tiny_model):
    """README: every configuration is checked before anything heavy starts, without importing TensorFlow; a call
    of prepare() on a real Keras project (its model file, images and labels.json checked), not only the import."""
    import subprocess
    import sys

    tiny.write_data(tmp_path)
    config = tiny.write_config(tmp_path, source_keras_model=str(tiny_model))
    script = ("import sys; from vsq.pipeline.job import prepare; job = prepare(sys.argv[1]); "
              "print(len(job.calibration_images), sorted(m for m in ('tensorflow', 'keras', 'model_compression_toolkit')"
              " if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script, str(config)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split(maxsplit=1) == ["36", "[]\n"], done.stdout


def test_plain_log_lines_come_at_most_every_15_seconds_and_at_the_end():
    """docs/nightly.md: off a terminal, progress is plain lines at most every 15 s; a thousand updates made
    within the interval write one line, when the work ends (with no interval: a line per update)."""
    import io

    from vsq.pipeline.progress import LOG_INTERVAL_SECONDS, LineProgress

    assert LOG_INTERVAL_SECONDS == 15.0
    lines = {}
    for interval in (LOG_INTERVAL_SECONDS, 0.0):
        log = io.StringIO()
        bar = LineProgress(total=1000, desc="configuration: evaluating", unit="img", interval=interval, file=log)
        for _ in range(1000):
            bar.update()
        bar.close()
        lines[interval] = [line for line in log.getvalue().splitlines() if line]
    assert [line.split(",")[0] for line in lines[LOG_INTERVAL_SECONDS]] == [
        "configuration: evaluating: 1000/1000 img (100 %)"], lines[LOG_INTERVAL_SECONDS]
    assert len(lines[0.0]) == 1001 and "\r" not in "".join(lines[0.0]) + "".join(lines[LOG_INTERVAL_SECONDS])


ACCEPTER = """
import json, sys
from pathlib import Path
from vsq.sections.baseline import accept
document = json.loads(Path(sys.argv[2]).read_text())
print("ready", flush=True)
sys.stdin.readline()  # all start together
for i in range(int(sys.argv[4])):
    accept(Path(sys.argv[1]), f"{sys.argv[3]}-{i}", document)
"""


def test_baselines_accepted_at_once_by_several_processes_keep_every_entry(tmp_path):
    """docs/security.md: baselines are written under a lock. Six processes each accept 15 configurations into one
    file at once (read, add, rewrite): without the lock, a rewrite drops what another process added meanwhile."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    baseline, document = tmp_path / "baseline.json", Path(__file__).parent / "data" / "results-format2.json"
    writers = [subprocess.Popen([sys.executable, "-c", ACCEPTER, str(baseline), str(document), f"w{w}", "15"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for w in range(6)]
    assert [writer.stdout.readline() for writer in writers] == ["ready\n"] * 6
    for writer in writers:
        writer.stdin.write("go\n")
        writer.stdin.flush()
    assert [writer.wait(timeout=120) for writer in writers] == [0] * 6
    names = set(json.loads(baseline.read_text())["configurations"])
    assert names == {f"w{w}-{i}" for w in range(6) for i in range(15)}, len(names)
