"""Property-based tests: any configuration or labels.json gives a result or a ConfigError, nothing else."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tiny
from vsq.config import Config, load_config, schema
from vsq.datasets import parse_labels
from vsq.errors import ConfigError

KEYS = list(schema()["properties"]) + ["evaluate_ground_truth_file", "batch_sise", ""]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 500), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["images", "model.h5", "evaluate/labels.json", "JPEG",
                                                           "[0,1]", "imx500", "../", "/", "."]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=8)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(KEYS), values, max_size=5), drop=st.sets(st.sampled_from(KEYS)))
def test_any_mapping_is_a_config_or_a_config_error(project, changes, drop):
    data = {key: value for key, value in {**tiny.config_dict(), **changes}.items() if key not in drop}
    path = project / "fuzz.json"
    path.write_text(json.dumps(data))
    try:
        assert isinstance(load_config(path), Config)
    except ConfigError as error:
        assert str(error).startswith(f"{path}: ")


@FUZZ
@given(text=st.one_of(st.text(max_size=60), st.binary(max_size=60).map(lambda b: b.decode("latin-1"))))
def test_any_file_content_is_a_config_or_a_config_error(project, text):
    path = project / "fuzz.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(path)
    except ConfigError:
        pass


@FUZZ
@given(labels=values)
def test_any_labels_json_is_labels_or_a_config_error(project, labels):
    config = load_config(tiny.write_config(project))
    config.evaluate_label_file.write_text(json.dumps(labels))
    try:
        parsed = parse_labels(config)
    except ConfigError as error:
        assert error.key == "evaluate_label_file"
    else:
        assert sorted(parsed.values()) == list(range(len(parsed)))
