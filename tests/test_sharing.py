"""What the tests share is built once: under `--dist loadgroup` (README's test command) the tests that use one
session- or module-scoped fixture of tests/ run on one xdist worker (tests/conftest.py marks their group), and the
tiny model is one file for the whole run."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _shared_fixtures(item) -> set[tuple[str, str]]:
    """(fixture, module for a module-scoped one) for each session/module fixture defined in tests/ the item uses."""
    found = set()
    for name, definitions in item._fixtureinfo.name2fixturedefs.items():
        definition = definitions[-1]
        code = getattr(definition.func, "__code__", None)
        if definition.scope in ("session", "module") and code and TESTS in Path(code.co_filename).parents:
            found.add((name, item.module.__name__ if definition.scope == "module" else ""))
    return found


def test_the_users_of_one_module_or_session_fixture_are_in_one_xdist_group(request):
    groups, ungrouped = {}, []
    for item in request.session.items:
        mark = item.get_closest_marker("xdist_group")
        fixtures = _shared_fixtures(item) - {("tiny_model", ""), ("shared_cache", "")}  # one per run already
        if fixtures and mark is None:
            ungrouped.append(item.nodeid)
        for fixture in fixtures:
            groups.setdefault(fixture, set()).add(mark and mark.args[0])
    assert not ungrouped, ungrouped[:5]
    split = {fixture: names for fixture, names in groups.items() if len(names) > 1}
    assert not split, split
    assert request.node.get_closest_marker("xdist_group") is None  # a test that shares nothing is spread freely


def test_the_tiny_model_is_one_file_for_the_run(tiny_model, tmp_path_factory):
    """Both workers read the same file (the cache keys a model by its bytes, and Keras writes other bytes at each
    save): it lies in the run's folder, above each worker's own."""
    import os

    base = tmp_path_factory.getbasetemp()
    run = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    assert tiny_model.is_file() and tiny_model.parent.parent == run
