"""The registries and the names written in two layers agree: what a lower layer has to know of a higher one's
vocabulary is checked here, not trusted."""

from importlib import import_module

from vsq.configuration.config import DEFAULT_RECIPE_NAME, REFERENCE_KEYS
from vsq.configuration.file import schema
from vsq.core.reference import BY_KEY
from vsq.frameworks import FRAMEWORKS


def test_the_configuration_reserves_exactly_the_reference_models_keys():
    assert set(REFERENCE_KEYS) == set(BY_KEY)


def test_the_default_recipe_name_is_no_reference_model_key():
    assert DEFAULT_RECIPE_NAME not in BY_KEY


def test_every_source_key_of_the_schema_has_a_framework_and_each_entry_resolves():
    assert set(FRAMEWORKS) == {key for key in schema()["properties"] if key.startswith("source_")}
    for target in FRAMEWORKS.values():
        module, _, name = target.partition(":")
        framework = getattr(import_module(module), name)
        assert framework.models and framework.models[0].role == "float"


def test_every_variant_kind_has_a_runtime_whose_predictor_storage_and_weight_checks_resolve():
    from vsq.configuration.config import VARIANT_KINDS
    from vsq.runtimes import kinds

    for kind in VARIANT_KINDS:
        runtime = kinds.for_kind(kind)
        assert kinds.for_file(f"model_x{runtime.suffix}") is runtime
        for target in (runtime.predictor, runtime.describe, runtime.weights):
            assert callable(kinds._call(target)), (kind, target)


def test_one_suffix_one_runtime():
    from vsq.runtimes.kinds import FILE_RUNTIMES

    suffixes = [runtime.suffix for runtime in FILE_RUNTIMES]
    assert len(suffixes) == len(set(suffixes))


def test_a_variants_runtime_choices_are_the_registrys_and_each_resolves():
    """The schema's variants[].runtime enum is every runtime of the registry, whose targets import."""
    from vsq.configuration.file import properties
    from vsq.runtimes import kinds

    assert properties("variants")["runtime"]["enum"] == list(kinds.BY_KEY)
    for runtime in kinds.BY_KEY.values():
        for target in (runtime.predictor, runtime.describe, runtime.weights):
            assert callable(kinds._call(target)), (runtime.key, target)
        assert kinds.for_file(f"model_x{runtime.suffix}").suffix == runtime.suffix


def test_the_schemas_tasks_are_the_registrys_and_each_implements_the_task_protocol():
    from vsq.tasks import TASKS
    from vsq.tasks.base import Task

    task_key = schema()["properties"]["task"]
    assert set(task_key["enum"]) == set(TASKS) and task_key["default"] in TASKS
    methods = [name for name in vars(Task) if not name.startswith("_")]
    for name, task in TASKS.items():
        assert task.name == name and task.stored and task.checks
        assert [method for method in methods if not hasattr(task, method)] == []
