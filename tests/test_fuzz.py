"""Property-based tests: any configuration or labels.json gives a result or a ConfigError, nothing else."""

import json
import os

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tiny
from vsq.configuration.config import Config, load_config, schema
from vsq.configuration.datasets import parse_labels
from vsq.errors import ConfigError

KEYS = list(schema()["properties"]) + ["evaluate_ground_truth_file", "batch_sise", ""]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 500), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["images", "model.h5", "evaluate/labels.json", "JPEG",
                                                           "[0,1]", "imx500", "../", "/", "."]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=8)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"]  # Python's json reads all of them
# Where a number can be in a valid configuration, at every depth (a variant's thresholds is the deepest).
NUMBER_PATHS = [("batch_size",), ("seed",), ("thresholds", "max_top1_drop"), ("thresholds", "min_top1"),
                ("thresholds", "max_latency_ms", "keras"), ("preprocessing", "normalization", "mean", 1),
                ("tflite_runtime", "num_threads"), ("variants", 0, "weights_memory_fraction"),
                ("variants", 0, "thresholds", "max_top1_drop")]
# Pieces of YAML: anchors, aliases, merge keys, non-finite numbers, YAML-only types, deep brackets.
YAML_PIECES = ["&a ", "*a", "&b ", "*b", "<<: ", "<<: *a", ".nan", ".inf", "-.inf", "[", "]", "{", "}", ", ", ": ",
               "- ", "\n", "  ", "? ", "'", '"', "#", "---\n", "batch_size", "thresholds", "max_top1_drop",
               "variants", "kind", "mct_ptq", "1", "0.5", "2024-01-31", "2024-13-31", "!!binary aGk=", "!!set {a}",
               "[" * 40, "9" * 5000]


def load_or_refuse(path):
    """load_config gives a Config of finite JSON values, or a ConfigError naming the file; nothing else."""
    try:
        config = load_config(path)
    except ConfigError as error:
        assert str(error).startswith(f"{path}: ")
    else:
        assert isinstance(config, Config)
        json.dumps(config.raw, allow_nan=False)  # raises on NaN, infinities and YAML-only types


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(KEYS), values, max_size=5), drop=st.sets(st.sampled_from(KEYS)))
def test_any_mapping_is_a_config_or_a_config_error(project, changes, drop):
    data = {key: value for key, value in {**tiny.config_dict(), **changes}.items() if key not in drop}
    path = project / "fuzz.json"
    path.write_text(json.dumps(data))  # floats(allow_nan=True) are written as NaN, Infinity, -Infinity
    load_or_refuse(path)


@FUZZ
@given(where=st.sampled_from(NUMBER_PATHS), literal=st.sampled_from(NON_FINITE))
def test_non_finite_number_anywhere_is_refused_by_key(project, where, literal):
    data = tiny.config_dict(thresholds={"max_latency_ms": {}}, tflite_runtime={},
                            preprocessing={"normalization": {"mean": [0, 0, 0], "std": [1, 1, 1]}},
                            variants=[{"kind": "mct_mixed_precision", "thresholds": {}}])
    parent = data
    for part in where[:-1]:
        parent = parent[part]
    parent[where[-1]] = "__here__"
    path = project / "fuzz.json"
    path.write_text(json.dumps(data).replace('"__here__"', literal))
    try:
        load_config(path)
    except ConfigError as error:
        assert error.key == ".".join(map(str, where)) and "is not a finite number" in error.message
    else:
        raise AssertionError(f"{literal} at {where} was accepted")


@FUZZ
@given(text=st.one_of(st.text(max_size=60), st.binary(max_size=60).map(lambda b: b.decode("latin-1"))))
def test_any_file_content_is_a_config_or_a_config_error(project, text):
    path = project / "fuzz.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    load_or_refuse(path)


@FUZZ
@given(pieces=st.lists(st.sampled_from(YAML_PIECES), max_size=30), valid_start=st.booleans())
def test_any_yaml_is_a_config_or_a_config_error(project, pieces, valid_start):
    path = project / "fuzz.yaml"
    path.write_text((yaml.safe_dump(tiny.config_dict()) if valid_start else "") + "".join(pieces))
    load_or_refuse(path)


class_names = st.one_of(st.text(max_size=8), st.sampled_from(["", ".", "..", "a/b", "/", "a\\b", "../blue"]))


@FUZZ
@given(labels=st.one_of(values, st.dictionaries(class_names, st.integers(0, 3), max_size=4)))
def test_any_labels_json_is_labels_or_a_config_error(project, labels):
    config = load_config(tiny.write_config(project))
    config.evaluate_label_file.write_text(json.dumps(labels))
    try:
        parsed = parse_labels(config)
    except ConfigError as error:
        assert error.key == "evaluate_label_file"
    else:
        assert sorted(parsed.values()) == list(range(len(parsed)))
        root = config.evaluate_image_dir  # each class is one folder right under it
        assert all(os.path.dirname(os.path.normpath(root / name)) == str(root) for name in parsed)
