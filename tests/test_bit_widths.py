"""weights_n_bits (an option of mct_ptq, mct_gptq and the default recipe's quantization.options): only a width the
recipe's target platform offers, refused in one line otherwise before any heavy work; a derived platform makes
MCT quantize every kernel to it, in the file and in the cache key (vsq.frameworks.mct, vsq.configuration.recipes)."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest

import tiny
from test_recipe_options import _load, _refusal as refusal  # one line, no traceback, as every option's refusal
from vsq.configuration.recipes import WEIGHTS_BITS


def _refusal(project, **overrides) -> str:
    return str(refusal(project, **overrides))


def test_the_widths_vsq_allows_are_the_ones_mcts_platforms_offer():
    from vsq.frameworks.mct import kernel_bit_widths

    assert {platform: kernel_bit_widths(platform) for platform in WEIGHTS_BITS} == WEIGHTS_BITS


def test_a_width_the_platform_does_not_offer_is_refused_in_one_line(project):
    config = _load(project, quantization={"options": {"weights_n_bits": 4}},
                   variants=[{"name": "w2", "kind": "mct_gptq", "options": {"weights_n_bits": 2}},
                             {"name": "t8", "kind": "mct_ptq", "target_platform": "tflite",
                              "options": {"weights_n_bits": 8}}])
    assert config.quantization.options == {"weights_n_bits": 4}
    assert [variant.options["weights_n_bits"] for variant in config.variants] == [2, 8]
    refused = _refusal(project, variants=[{"kind": "mct_ptq", "target_platform": "tflite",
                                           "options": {"weights_n_bits": 4}}])
    assert "variants.0.options.weights_n_bits: 4 bits is not a width target platform tflite offers; it offers 8" \
        in refused
    refused = _refusal(project, target_platform="qnnpack", quantization={"options": {"weights_n_bits": 8}})
    assert "quantization.options.weights_n_bits" in refused and "sets no kernel width of its own" in refused
    refused = _refusal(project, target_platform="tflite",
                       search={"candidates": [{"kind": "mct_ptq", "options": {"weights_n_bits": 2}}]})
    assert "search.candidates.0.options.weights_n_bits" in refused
    refused = _refusal(project, variants=[{"kind": "mct_mixed_precision", "options": {"weights_n_bits": 4}}])
    assert "is not an option of mct_mixed_precision" in refused  # mixed precision chooses the widths itself
    assert "takes one of 2, 4, 8" in _refusal(project, variants=[{"kind": "mct_ptq", "options": {"weights_n_bits": 3}}])


def test_the_width_is_in_the_recipes_cache_key(project):
    from vsq.configuration.config import Variant
    from vsq.frameworks.recipe_options import default_recipe
    from vsq.pipeline.artifacts import Fingerprints, recipe_key
    from vsq.pipeline.job import prepare

    prints = Fingerprints(model="m", calibration="c", evaluation="e", stack={"model_compression_toolkit": "2.6.1"},
                          framework={"tensorflow": "2.15.1"})
    job = prepare(tiny.write_config(project))
    keys = {bits: recipe_key(job, prints, Variant("v", "mct_ptq", options={"weights_n_bits": bits}))
            for bits in (2, 4, 8)}
    assert len(set(keys.values())) == 3 and recipe_key(job, prints, Variant("v", "mct_ptq")) not in keys.values()
    four = prepare(tiny.write_config(project, quantization={"options": {"weights_n_bits": 4}}))
    assert recipe_key(four, prints, default_recipe(four.config)) != recipe_key(job, prints, default_recipe(job.config))


@pytest.mark.slow
def test_four_bits_changes_the_file_and_every_kernel_is_quantized_to_four_bits(tmp_path, tiny_model):
    from vsq.configuration.config import Variant
    from vsq.data.calibration import decode_calibration
    from vsq.frameworks.keras.models import load_keras_model
    from vsq.frameworks.keras.recipes import build_variant
    from vsq.pipeline.job import prepare

    tiny.write_data(tmp_path)
    job = prepare(tiny.write_config(tmp_path, source_keras_model=str(tiny_model)))
    model, batches = load_keras_model(job.config), decode_calibration(job).iterate
    made = {}
    for bits in (None, 4):
        variant = Variant(f"b{bits}", "mct_ptq", options={} if bits is None else {"weights_n_bits": bits})
        path = build_variant(variant, model, batches, job.config, job.config.output_dir / variant.file_name)
        with zipfile.ZipFile(path.with_name(variant.keras_file_name)) as archive:
            layers = json.loads(archive.read("config.json"))["config"]["layers"]
        made[bits] = (hashlib.sha256(path.read_bytes()).hexdigest(),
                      [layer["config"]["weights_quantizer"]["kernel"]["config"]["num_bits"] for layer in layers
                       if layer["class_name"] == "KerasQuantizationWrapper"])
    assert made[None][0] != made[4][0]
    assert made[None][1] == [8] * 4 and made[4][1] == [4] * 4, made
