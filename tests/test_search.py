"""search (vsq.sections.search): candidates tried smallest expected file first, the first that passes recommended, a
budget; on the outlier model of tests/test_calibrations.py, whose calibration draw holds the white image."""

import json
import re

import pytest

import tiny
from test_calibrations import QUIET, outlier_project, run

pytestmark = pytest.mark.slow

CANDIDATES = ["tf_float16", {"name": "noclip", "kind": "mct_ptq", "options": {"activation_error_method": "NOCLIPPING"}}]


def test_the_search_stops_at_the_first_passing_candidate_and_a_budget_that_stops_it_first_fails(tmp_path):
    """MCT without clipping (8 bits, tried first) keeps the white image's range and fails; TensorFlow's float16 (16
    bits, no calibration) passes and is recommended with its fragment. With max_candidates 1 the budget stops the
    search after the first: search_found_a_passing_recipe fails and says so."""
    root, seed = outlier_project(tmp_path)
    cache = tmp_path / "cache"
    config = tiny.write_config(root, source_keras_model="outlier.h5", seed=seed + 1,  # this draw holds the white image
                               search={"candidates": CANDIDATES}, **QUIET)
    result = run(config, cache)
    part = result.document["search"]
    assert part["order"] == ["noclip", "tf_float16"] and [row["name"] for row in part["tried"]] == part["order"]
    noclip, float16 = part["tried"]
    assert noclip["verdict"] == "FAIL" and noclip["top_1_accuracy"] <= 0.5, noclip
    # the order is by expected size; the table records the real ones (MCT's INT8 export of so small a model is larger)
    assert float16["passes"] and float16["file_size_bytes"] == (root / "output" / "model_tf_float16.tflite").stat().st_size
    assert part["recommended"] == "tf_float16" and json.loads(part["fragment"]) == "tf_float16"
    assert result.checks["search_found_a_passing_recipe"].ok
    # the recommended recipe's own checks judge tf_float16
    for name in ("search_recommended_top1_drop_within_threshold", "search_recommended_top1_above_minimum"):
        assert result.checks[name].ok and result.checks[name].figures["candidate"] == "tf_float16", name
    # one decode of the evaluation images for the run: the candidates' passes reuse the first pass's images
    assert part["decodes_of_the_evaluation_images"] == 1 and part["stopped_by"] is None
    from vsq.pipeline.results import read
    from vsq.reporting.html import summary_section
    from vsq.reporting.summary import blocks

    read(root / "results" / "results.json")  # checked against results.schema.json
    documents = {"configuration": result.document}
    text = "\n".join(line for _, lines in blocks(documents, {"configuration": result.verdict}, {}) for line in lines)
    assert "configuration: search: tried noclip (mct_ptq): " in text and \
        'configuration: search: recommended tf_float16: paste into "variants": "tf_float16"' in text, text
    page = summary_section(documents, {"configuration": result.verdict}, [])
    assert "<th>candidate</th>" in page and "<pre>&quot;tf_float16&quot;</pre>" in page
    assert "quantized_top1_drop_within_threshold" in result.failures()  # the default recipe fails on this draw

    budget = tiny.write_config(root, source_keras_model="outlier.h5", seed=seed + 1,
                               search={"candidates": CANDIDATES, "max_candidates": 1}, **QUIET)
    stopped = run(budget, cache)
    message = stopped.failures()["search_found_a_passing_recipe"]
    assert message.startswith("configuration: no search candidate passed: noclip (mct_ptq): "), message
    assert message.endswith("the budget (search.max_candidates 1) stopped it before tf_float16: raise it"), message
    assert stopped.document["search"]["tried"][0]["cache"] == "hit"  # the build is reused through the cache
    assert stopped.document["search"]["stopped_by"] == "max_candidates"
    # the recommended recipe's checks judge the nearest candidate and fail: noclip scores every class the same
    nearest = "configuration: no candidate passed; the nearest noclip (mct_ptq) Top-1 0.3333"
    assert stopped.failures()["search_recommended_top1_drop_within_threshold"].startswith(nearest), stopped.failures()
    assert stopped.failures()["search_recommended_top1_above_minimum"] == (
        f"{nearest} is no better than chance (0.3333)"), stopped.failures()

    # the minutes budget: checked before each candidate after the first, said in results.json, terminal and HTML
    timed = run(tiny.write_config(root, source_keras_model="outlier.h5", seed=seed + 1,
                                  search={"candidates": CANDIDATES, "max_minutes": 1e-5}, **QUIET), cache)
    part = timed.document["search"]
    assert part["stopped_by"] == "max_minutes" and [row["name"] for row in part["tried"]] == ["noclip"], part
    message = timed.failures()["search_found_a_passing_recipe"]
    # the seconds are the run's own (a loaded machine takes longer): the words around them are the claim
    assert re.search(r"; the budget \(search\.max_minutes 1e-05\) stopped it after \d+ s before tf_float16: raise it",
                     message), message
    documents = {"configuration": timed.document}
    text = "\n".join(line for _, lines in blocks(documents, {"configuration": timed.verdict}, {}) for line in lines)
    assert "no candidate passed; the budget (search.max_minutes 1e-05) stopped it" in text, text
    assert "the budget (search.max_minutes 1e-05) stopped it" in summary_section(
        documents, {"configuration": timed.verdict}, [])


def test_a_candidate_named_like_a_variant_or_with_a_bad_option_is_one_line(project):
    from vsq.configuration.config import load_config
    from vsq.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_config(tiny.write_config(project, variants=["tf_float16"], search={"candidates": ["tf_float16"]}))
    assert caught.value.key == "search.candidates" and "also the name of a variant" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_config(tiny.write_config(project, search={"candidates": [{"kind": "mct_ptq", "options": {"z": 1}}]}))
    assert caught.value.key == "search.candidates.0.options.z" and "\n" not in str(caught.value), str(caught.value)


def test_the_bundled_example_recommends_mixed_precision_after_one_build(tmp_path, shared_cache):
    """README: the search on configuration.json builds one candidate, mixed precision at 0.75, which passes with a
    file smaller than the default model's (the README's 55.8 KB against 74.1 KB are one measurement: the sizes
    move with MCT's version, and its exports are not byte-identical between processes). The figures are the
    files' own sizes."""
    from pathlib import Path

    from runs import relocated

    config = relocated(Path(__file__).resolve().parents[1] / "configuration.json", tmp_path / "example")
    data = json.loads(config.read_text())
    data["search"] = {"candidates": [{"kind": "mct_mixed_precision", "weights_memory_fraction": 0.75},
                                     "tf_dynamic_range", "tf_float16"], "max_candidates": 5}
    config.write_text(json.dumps(data))
    result = run(config, shared_cache)
    part = result.document["search"]
    assert [row["name"] for row in part["tried"]] == ["mct_mixed_precision"] and part["tried"][0]["passes"]
    mixed, default = part["tried"][0], result.document["models"]["tflite_quantized"]
    assert [model["file_size_bytes"] for model in (mixed, default)] == [Path(model["file"]).stat().st_size
                                                                         for model in (mixed, default)]
    assert mixed["file_size_bytes"] < default["file_size_bytes"]
    assert json.loads(part["fragment"]) == {"kind": "mct_mixed_precision", "weights_memory_fraction": 0.75}


def test_a_mixed_precision_space_is_tried_smallest_budget_first_with_real_mct_builds(tmp_path, tiny_model):
    """{"space": "mixed_precision", "weights_memory": [...]} expands to one MCT mixed-precision recipe per budget,
    tried smallest first (whatever order they are written in). At half the 8-bit weights MCT chooses 4-bit weights
    whose INT8 export TFLite refuses to prepare (a convolution's weight zero point is not 0): that candidate is an
    ERROR, not a pass, and the search goes on to 0.75, which passes; 1.0 is never built. The fragment is the expanded
    recipe, pasteable as a variant."""
    from vsq.configuration.config import load_config

    tiny.write_data(tmp_path)
    space = {"space": "mixed_precision", "weights_memory": [1.0, 0.5, 0.75]}
    config = tiny.write_config(tmp_path, source_keras_model=str(tiny_model), search={"candidates": [space]}, **QUIET)
    result = run(config, tmp_path / "cache")
    part = result.document["search"]
    assert part["order"] == ["mixed_precision_50", "mixed_precision_75", "mixed_precision_100"], part["order"]
    half, three_quarters = part["tried"]
    assert half["verdict"] == "ERROR" and "failed to prepare" in half["error"] and not half["passes"], half
    assert three_quarters["name"] == "mixed_precision_75" and three_quarters["passes"], three_quarters
    assert three_quarters["cache"] == "built" and (tmp_path / "output" / "model_mixed_precision_75.tflite").is_file()
    assert not (tmp_path / "output" / "model_mixed_precision_100.tflite").exists()
    fragment = json.loads(part["fragment"])
    assert fragment == {"name": "mixed_precision_75", "kind": "mct_mixed_precision", "weights_memory_fraction": 0.75}
    assert result.checks["search_found_a_passing_recipe"].ok
    pasted = load_config(tiny.write_config(tmp_path, source_keras_model=str(tiny_model), variants=[fragment]))
    assert pasted.variants[0].weights_memory_fraction == 0.75


@pytest.mark.parametrize("candidates, key", [
    ([{"space": "mixed_precision", "weights_memory": [0]}], "search.candidates.0.weights_memory.0"),
    ([{"space": "layers", "weights_memory": [0.5]}], "search.candidates.0.space"),
    ([{"space": "mixed_precision", "weights_memory": [0.5, 0.75]}, {"kind": "mct_ptq", "options": {"z": 1}}],
     "search.candidates.1.options.z"),  # the index as written, not as expanded
])
def test_a_bad_space_is_one_line_naming_the_key_as_written(project, candidates, key):
    from vsq.configuration.config import load_config
    from vsq.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_config(tiny.write_config(project, search={"candidates": candidates}))
    assert caught.value.key == key and "\n" not in str(caught.value), str(caught.value)


def test_with_an_imx500_section_the_sensor_is_a_constraint_and_least_memory_is_an_objective(tmp_path, tiny_model):
    """The real converter on each candidate whose accuracy passes: tf_float16 passes on accuracy but is not an MCT
    export the converter reads, so it does not pass; the MCT candidates convert, and least_imx500_memory recommends
    the one with the least memory usage after trying all. Under a max_memory_utilization nothing meets, no candidate
    passes and the message gives each one's memory (the conversions come from the cache)."""
    tiny.write_data(tmp_path)
    candidates = ["tf_float16", {"name": "ptq8", "kind": "mct_ptq"},
                  {"kind": "mct_mixed_precision", "weights_memory_fraction": 0.75}]
    config = tiny.write_config(tmp_path, source_keras_model=str(tiny_model), imx500={},
                               search={"candidates": candidates, "objective": "least_imx500_memory"}, **QUIET)
    result = run(config, tmp_path / "cache")
    part = result.document["search"]
    rows = {row["name"]: row for row in part["tried"]}
    assert list(rows) == part["order"] == ["mct_mixed_precision", "ptq8", "tf_float16"], part["order"]
    assert rows["tf_float16"]["within_threshold"] and not rows["tf_float16"]["passes"]
    assert rows["tf_float16"]["imx500"]["error"] == "the IMX500 converter reads MCT's exports; tf_float16 makes none"
    memory = {name: rows[name]["imx500"]["memory_usage_bytes"] for name in ("mct_mixed_precision", "ptq8")}
    assert all(rows[name]["passes"] and rows[name]["imx500"]["fits"] for name in memory), rows
    assert part["recommended"] == min(memory, key=memory.get) and result.checks["search_found_a_passing_recipe"].ok
    assert (tmp_path / "output" / "imx500_ptq8").is_dir() and (tmp_path / "output" / "imx500_converter_ptq8.log").is_file()

    strict = tiny.write_config(tmp_path, source_keras_model=str(tiny_model), imx500={"max_memory_utilization": 0.01},
                               search={"candidates": candidates}, **QUIET)
    failed = run(strict, tmp_path / "cache")
    assert failed.document["search"]["recommended"] is None
    assert {row["imx500"]["cache"] for row in failed.document["search"]["tried"] if row["kind"] != "tf_float16"} == {"hit"}
    message = failed.failures()["search_found_a_passing_recipe"]
    assert "does NOT fit (max_memory_utilization 0.01 %)" in message and "tf_float16 makes none" in message, message
    assert "below min_top1" not in message, message  # the accuracy passed: the sensor kept them out


def test_least_imx500_memory_without_an_imx500_section_is_one_line(project):
    from vsq.configuration.config import load_config
    from vsq.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_config(tiny.write_config(project, search={"candidates": ["tf_float16"],
                                                       "objective": "least_imx500_memory"}))
    assert caught.value.key == "search.objective" and "add an \"imx500\" section" in str(caught.value)
