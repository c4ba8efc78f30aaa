"""Parity per image (vsq.statistics.parity): the module against an independent computation (scikit-learn's cosine
similarity, numpy by hand), and a real run's results.json and variants table holding it for every pair the gate
compares, beside the agreement_with_* keys it keeps."""

import json

import numpy as np
import pytest

import tiny
from vsq.statistics import parity


def test_per_image_figures_match_scikit_learn_and_a_loop_by_hand():
    from sklearn.metrics.pairwise import cosine_similarity

    rng = np.random.default_rng(3)
    a = rng.normal(size=(40, 7)).astype(np.float32)
    b = a + rng.normal(scale=0.3, size=a.shape).astype(np.float32)
    b[5] = -a[5]  # one image turned around: cosine -1, top-1 differs
    values = parity.per_image(a, b)
    expected_cosine = np.diag(cosine_similarity(a.astype(np.float64), b.astype(np.float64)))
    assert np.allclose(values["cosine"], expected_cosine, atol=1e-12)
    for i in range(len(a)):
        assert values["max_abs_error"][i] == pytest.approx(max(abs(float(x) - float(y)) for x, y in zip(a[i], b[i])))
        assert values["agree"][i] == (int(np.argmax(a[i])) == int(np.argmax(b[i])))
    assert values["cosine"][5] == pytest.approx(-1.0) and not values["agree"][5]
    summary = parity.summary(a, b, [f"img{i}.JPEG" for i in range(len(a))])
    assert summary["images"] == 40
    assert summary["top1_agreement"] == pytest.approx(np.mean(np.argmax(a, 1) == np.argmax(b, 1)), abs=1e-6)
    assert summary["cosine"]["min"] == pytest.approx(expected_cosine.min(), abs=1e-6)
    assert summary["max_abs_error"]["max"] == pytest.approx(np.abs(a.astype(float) - b).max(), abs=1e-6)
    assert summary["worst_images"][0] == {"image": "img5.JPEG", "cosine": -1.0,
                                          "max_abs_error": pytest.approx(2 * np.abs(a[5]).max(), abs=1e-5),
                                          "top1_agrees": False}


def test_identical_scores_are_in_full_parity_and_zero_rows_are_handled():
    a = np.array([[0.1, 0.9], [0.0, 0.0], [0.5, 0.5]])
    summary = parity.summary(a, a.copy())
    assert summary["top1_agreement"] == 1.0 and summary["max_abs_error"]["max"] == 0.0
    assert summary["cosine"]["min"] == 1.0  # two all-zero rows are the same answer
    assert parity.per_image(a, np.array([[0.1, 0.9], [1.0, 0.0], [0.5, 0.5]]))["cosine"][1] == 0.0
    with pytest.raises(ValueError, match="one shape"):
        parity.per_image(a, a[:2])


def test_scores_kept_for_parity_are_bounded():
    assert parity.images_kept(1000) == 4000 and parity.images_kept(3) == parity.SCORE_VALUES // 3


@pytest.fixture(scope="module")
def run_document(tmp_path_factory, tiny_model, shared_cache):
    import vsq

    root = tmp_path_factory.mktemp("parity")
    tiny.write_data(root, mislabelled=4)
    config = tiny.write_config(root, source_keras_model=str(tiny_model), variants=["tf_dynamic_range"])
    result = vsq.run(config, cache_dir=shared_cache, progress=False)
    return result.document, root


@pytest.mark.slow
def test_a_run_records_parity_for_every_pair_the_gate_compares(run_document):
    from vsq.pipeline.results_check import check

    document, root = run_document
    models = document["models"]
    images = document["num_images"]
    for key in ("tflite", "tflite_quantized", "keras_quantized"):
        assert models[key]["parity"]["keras"]["images"] == images
        assert "agreement_with_keras" in models[key]  # kept beside parity
    export = models["tflite_quantized"]["parity"]["keras_quantized"]  # the export against its fake-quant model
    assert export["top1_agreement"] == models["tflite_quantized"]["agreement_with_keras_quantized"]
    float_export = models["tflite"]["parity"]["keras"]
    assert float_export["cosine"]["min"] > 0.999 and float_export["max_abs_error"]["max"] < 1e-3
    variant = document["variants"]["models"]["tf_dynamic_range"]["parity"]["keras"]
    assert variant["images"] == images and len(variant["worst_images"]) == parity.WORST
    assert (root / "evaluate" / "images" / variant["worst_images"][0]["image"]).is_file()
    check(json.loads(json.dumps(document)), root / "results.json")  # the schema of results.json holds it


@pytest.mark.slow
def test_the_variants_table_shows_worst_error_and_min_cosine(run_document):
    from vsq.rendering.html_parts import variants_table

    document, _ = run_document
    html = variants_table(document)
    summary = document["variants"]["models"]["tf_dynamic_range"]["parity"]["keras"]
    assert "parity: worst error / min cosine" in html
    assert f"{summary['max_abs_error']['max']:.4f} / {summary['cosine']['min']:.4f}" in html
