"""calibration_repeats (vsq.sections.calibrations): the default recipe built once per seeded calibration draw, every
build evaluated on the same images, the spread and the gate per draw in results.json, the terminal and the HTML."""

from pathlib import Path

import numpy as np
import pytest

import tiny
from make_outlier import write_outlier_model

pytestmark = pytest.mark.slow

QUIET = {"explanation": {"when": "never"}, "screen": {"enabled": False}}


def run(config_file, cache, **options):
    import vsq

    return vsq.run(config_file, cache_dir=cache, progress=False, **options)


def outlier_project(root: Path) -> tuple[Path, int]:
    """The tiny project with one white calibration image and the outlier model; the seed whose draw leaves the white
    image out while the next seed's draw holds it (found from the draws themselves)."""
    from PIL import Image

    from vsq.configuration.datasets import calibration_indices, scan_calibration
    from vsq.configuration.config import load_config

    tiny.write_data(root)
    Image.new("RGB", (20, 20), (255, 255, 255)).save(root / "images" / "red" / "white.jpg")
    write_outlier_model(root / "outlier.h5")
    config = load_config(tiny.write_config(root, source_keras_model="outlier.h5"))
    paths = scan_calibration(config)
    white = next(i for i, path in enumerate(paths) if path.name == "white.jpg")

    def holds(seed):
        return white in np.concatenate(calibration_indices(len(paths), config.batch_size, config.iteration_count, seed))

    return root, next(seed for seed in range(100) if not holds(seed) and holds(seed + 1))


def test_a_verdict_that_flips_with_the_calibration_draw_fails_the_stability_check(tmp_path):
    """The outlier model over two draws: the draw without the white image passes the gate, the one with it fails;
    the check fails naming both seeds, results.json holds each draw's real figures and their spread. Asked to, the
    calibrated variant (MCT without clipping) is repeated on the same seeds and flips the same way; tf_float16 reads
    no calibration and is built once."""
    from vsq.pipeline.results import read

    root, seed = outlier_project(tmp_path)
    variants = [{"name": "noclip", "kind": "mct_ptq", "options": {"activation_error_method": "NOCLIPPING"}},
                "tf_float16"]
    config = tiny.write_config(root, source_keras_model="outlier.h5", seed=seed, variants=variants,
                               calibration_repeats={"count": 2, "variants": True}, **QUIET)
    result = run(config, tmp_path / "cache")
    failures = result.failures()
    assert "verdict_is_stable_across_calibrations" in failures, failures
    message = failures["verdict_is_stable_across_calibrations"]
    assert message.startswith("configuration: the default recipe's gate depends on the calibration draw: "
                              f"seed {seed}: PASS"), message
    assert f"seed {seed + 1}: FAIL" in message and "\n" not in message, message
    assert f"noclip's gate depends on the calibration draw: seed {seed}: PASS" in message, message
    doc = read(root / "results" / "results.json")  # checked against results.schema.json
    part = doc["calibration_draws"]
    assert part["seeds"] == [seed, seed + 1] and part["stable"] is False
    first, second = part["draws"]
    assert first["top_1_accuracy"] == doc["models"]["tflite_quantized"]["top_1_accuracy"] == 1.0, first
    assert second["top_1_accuracy"] <= 0.5 and second["within_threshold"] is False, second  # every class ties
    assert part["spread"]["top_1_accuracy"]["min"] == second["top_1_accuracy"]
    assert part["spread"]["top_1_accuracy"]["std"] > 0.3
    assert (root / "output" / "model_quantized.draw2.tflite").is_file()
    assert list(part["variants"]) == ["noclip"] and [row["within_threshold"] for row in
                                                     part["variants"]["noclip"]["draws"]] == [True, False]
    assert (root / "output" / "model_noclip.draw2.tflite").is_file()
    assert part["cost"] == {"builds": 4, "decodes_of_the_evaluation_images": 1, "evaluations": 4}
    assert second["agreement_with_keras"] < 0.5 < first["agreement_with_keras"] == 1.0
    # the forest plot draws each draw's interval, red while the stability check fails
    from vsq.rendering.charts import _forest_words, drop_forest
    from vsq.rendering.drops import draw_drops

    rows = draw_drops(doc)
    assert [(row.label, row.verdict) for row in rows] == [(f"quantized draw 2 (seed {seed + 1})", "FAIL"),
                                                          (f"noclip draw 2 (seed {seed + 1})", "FAIL")], rows
    assert rows[0].interval_points == tuple(second["drop_interval_points"]) and rows[0].limit_points == 1.0
    assert _forest_words(rows[0]).endswith("]  draw: NOT stable"), _forest_words(rows[0])
    assert drop_forest({"configuration": doc}).startswith(b"\x89PNG")
    # the default draw's own gate is today's: it passes
    assert "quantized_top1_drop_within_threshold" not in failures, failures


def test_stable_draws_pass_and_the_cost_is_said_before_the_builds(tmp_path, tiny_model, capsys):
    """Three draws of the tiny model: one gate for all, the spread beside Top-1 in the terminal and the HTML, and the
    cost line written before the first build (the default recipe's calibration)."""
    from vsq.reporting.html import summary_section
    from vsq.reporting.summary import blocks

    tiny.write_data(tmp_path)
    config = tiny.write_config(tmp_path, source_keras_model=str(tiny_model), calibration_repeats=3, **QUIET)
    result = run(config, tmp_path / "cache")
    assert result.checks["verdict_is_stable_across_calibrations"].ok
    err = capsys.readouterr().err
    said = err.index("configuration: calibration_repeats 3: 3 builds of the default recipe, one decode of the "
                     "evaluation images, 3 evaluations")
    assert said < err.index("configuration: calibration:") < err.index("configuration: calibration draws:"), err
    part = result.document["calibration_draws"]
    assert [row["seed"] for row in part["draws"]] == [0, 1, 2] and part["stable"] is True
    assert part["cost"] == {"builds": 3, "decodes_of_the_evaluation_images": 1, "evaluations": 3}
    assert [row["cache"] for row in part["draws"][1:]] == ["built", "built"]
    documents = {"configuration": result.document}
    text = "\n".join(line for _, lines in blocks(documents, {"configuration": result.verdict}, {}) for line in lines)
    assert "configuration: quantized: Top-1 1.0000 (draws 1.0000 to 1.0000, sd 0.0000)" in text, text
    assert "configuration: quantized: gate per draw: PASS, PASS, PASS: stable across calibrations" in text
    page = summary_section(documents, {"configuration": result.verdict}, [])
    assert "gate per draw: PASS, PASS, PASS" in page and "<th>seed</th>" in page
    from vsq.rendering.drops import draw_drops

    assert [(row.label, row.verdict, row.note) for row in draw_drops(result.document)] == [
        (f"quantized draw {draw} (seed {draw - 1})", "", "draw: stable") for draw in (2, 3)]


def test_one_repeat_is_todays_run_and_more_repeats_reuse_its_build(tmp_path, tiny_model):
    """calibration_repeats 1 (the default): no draws part, no check; with 2 the first draw is the same cache entry as
    the default build (hit), the second its own (built, seed + 1)."""
    tiny.write_data(tmp_path)
    cache = tmp_path / "cache"
    first = run(tiny.write_config(tmp_path, source_keras_model=str(tiny_model), **QUIET), cache)
    assert "calibration_draws" not in first.document
    assert "verdict_is_stable_across_calibrations" not in first.checks
    again = run(tiny.write_config(tmp_path, source_keras_model=str(tiny_model), calibration_repeats=2, **QUIET), cache)
    draws = again.document["calibration_draws"]["draws"]
    assert [row["cache"] for row in draws] == ["hit", "built"], draws
    assert again.document["cache"]["model_quantized.tflite"] == "hit"


def test_repeating_variants_without_variants_is_one_line(project):
    from vsq.configuration.config import load_config
    from vsq.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_config(tiny.write_config(project, calibration_repeats={"count": 3, "variants": True}))
    assert caught.value.key == "calibration_repeats.variants" and "\n" not in str(caught.value)


@pytest.mark.parametrize("value", [0, 11, 2.5, {"count": 0}, {"variants": True}])
def test_calibration_repeats_out_of_range_is_one_line(project, value):
    from vsq.configuration.config import load_config
    from vsq.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_config(tiny.write_config(project, calibration_repeats=value))
    assert caught.value.key.startswith("calibration_repeats") and "\n" not in str(caught.value), str(caught.value)


def test_the_bundled_example_gives_one_top1_on_five_draws(tmp_path, shared_cache):
    """README: examples/stability.json (5 draws) gives Top-1 0.9400 on every draw (sd 0), five different files."""
    import hashlib

    from runs import relocated

    result = run(relocated(Path(__file__).resolve().parents[1] / "examples" / "stability.json", tmp_path / "example"),
                 shared_cache)
    part = result.document["calibration_draws"]
    assert [row["top_1_accuracy"] for row in part["draws"]] == [0.94] * 5 and part["spread"]["top_1_accuracy"]["std"] == 0
    assert result.checks["verdict_is_stable_across_calibrations"].ok
    assert len({hashlib.sha256(Path(row["file"]).read_bytes()).hexdigest() for row in part["draws"]}) == 5
