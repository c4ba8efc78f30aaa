"""The IMX500 section on the bundled detector (examples/detection-imx500.json), with Sony's real converter (no mocks).

The converter reads MCT's Keras export of the whole fake-quant detector, its SSDPostProcess included: the figures
land in results.json as a classifier's do, the sensor's outputs are the post-processing's four, the tables show the
memory, and a max_memory_utilization below what the detector uses fails imx500_fits_in_memory (the conversion is the
cached one: the limit is a verdict on the converter's figures, not an input to it).
"""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from runs import relocated
from vsq.api import run_options
from vsq.pipeline.job import prepare
from vsq.pipeline.pipeline import Pipeline
from vsq.pipeline.results import read

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[1] / "examples"
IMX500_CHECKS = ("imx500_converts", "imx500_fits_in_memory", "imx500_input_has_the_configured_size")
DETECTION_CHECKS = ("annotations_match_the_data", "float_map_beats_chance", "map_drop_within_threshold")


def _run(root: Path, cache: Path, name: str, **imx500) -> Pipeline:
    """The example's run in root (its folders absolute, its outputs under root), imx500 updated."""
    example = EXAMPLE / "detection-imx500.json"
    path = relocated(example, root, f"{name}.json", name=name, evaluate_result_dir=name,
                     imx500={**json.loads(example.read_text())["imx500"], **imx500})
    made = Pipeline(prepare(path), run_options(cache, progress=False))
    made.result  # the whole run: builds, conversion, evaluation, document, checks, results.json
    return made


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_cache):
    return _run(tmp_path_factory.mktemp("detection-imx500"), shared_cache, "detection-imx500")


def test_the_detector_converts_and_fits_with_its_figures_in_results_json(run):
    checks = run.result.checks
    assert all(checks[name].ok for name in (*IMX500_CHECKS, *DETECTION_CHECKS)), \
        {name: check.message for name, check in checks.items() if not check.ok}
    document = read(Path(run.result.document["results_file"]))  # through the results schema
    section = document["imx500"]
    assert document["task"] == "detection" and section["fits"] is True and section["exit_code"] == 0
    assert section["input_shape"] == [64, 64, 3]
    output = Path(section["out_dir"])
    assert {path.name for path in output.iterdir()} == set(section["files"])
    # the figures are the converter's own, whatever its version: its memory report (in bytes, as vsq asks) and
    # the on-chip memory dnnParams.xml describes
    [report] = [json.loads(path.read_text())["Memory Report"] for path in output.glob("*_MemoryReport.json")]
    l2memory = ET.parse(output / "dnnParams.xml").find(".//l2memory")
    used, total = section["memory_usage_bytes"], section["memory_available_bytes"]
    assert total == _bytes(report["Total Memory Available On Chip"]) == int(l2memory.get("totalSize"))
    assert used == _bytes(report["Memory Usage"]) == (section["runtime_memory_bytes"] + section["model_memory_bytes"]
                                                      + _bytes(report["Reserved Memory"]))
    assert 0 < used < total and abs(section["utilization_percent"] - 100 * used / total) < 1  # a whole percent
    assert checks["imx500_fits_in_memory"].figures["imx500_memory_usage_bytes"] == section["memory_usage_bytes"]


def _bytes(size: str) -> int:
    """A size of the converter's report in bytes ("403904B": vsq runs it with --report-size-unit B)."""
    assert size.endswith("B") and size[:-1].isdigit(), size
    return int(size[:-1])


def test_the_sensor_runs_the_post_processing(run):
    # dnnParams.xml lists the converted network's outputs: SSDPostProcess's boxes, scores, classes and count, not
    # the network's box codes and class scores (what the TFLite file holds).
    params = ET.parse(Path(run.result.document["imx500"]["out_dir"]) / "dnnParams.xml")
    names = [tensor.get("name") for tensor in params.iter("outputTensor")]
    assert len(names) == 4 and all("ssd_post_process" in name for name in names), names


def test_the_tables_show_the_sensor_for_a_detector(run):
    from vsq.reporting.html import summary_section
    from vsq.reporting.summary import table_rows

    document = run.result.document
    header, row = table_rows({run.name: document}, {run.name: "PASS"})
    assert row[header.index("IMX500")] == f"{document['imx500']['utilization_percent']:g} %"
    page = summary_section({run.name: document}, {run.name: "PASS"}, [], details=False)
    assert "<th>IMX500 memory</th>" in page and "<h3>IMX500 memory</h3>" in page
    assert 'alt="IMX500 memory used against on-chip memory' in page


def test_a_limit_below_what_the_detector_uses_fails_the_fit_check(run, tmp_path, shared_cache):
    used = run.result.document["imx500"]
    limit = used["utilization_percent"] / 2
    strict = _run(tmp_path, shared_cache, "strict", max_memory_utilization=limit)
    checks = strict.result.checks
    assert [name for name, check in checks.items() if not check.ok] == ["imx500_fits_in_memory"]
    assert strict.result.verdict == "FAIL" and strict.result.document["imx500"]["cache"] == "hit"
    megabytes = f"{used['memory_usage_bytes'] / 2**20:.2f} MB of {used['memory_available_bytes'] / 2**20:.2f} MB"
    assert checks["imx500_fits_in_memory"].message.startswith(
        f"strict: model_quantized.keras uses {used['utilization_percent']:g} % of the IMX500's memory ({megabytes}); "
        f"imx500.max_memory_utilization is {limit:g} %; try a smaller model (the variants, mct_mixed_precision among "
        "them, do not run for task 'detection' yet)")
