"""The registries and the names written in two layers agree: what a lower layer has to know of a higher one's
vocabulary is checked here, not trusted."""

from vsq.configuration.config import DEFAULT_RECIPE_NAME, REFERENCE_KEYS
from vsq.core.reference import BY_KEY


def test_the_configuration_reserves_exactly_the_reference_models_keys():
    assert set(REFERENCE_KEYS) == set(BY_KEY)


def test_the_default_recipe_name_is_no_reference_model_key():
    assert DEFAULT_RECIPE_NAME not in BY_KEY
