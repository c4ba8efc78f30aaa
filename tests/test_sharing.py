"""What the tests share is built once: under `--dist loadgroup` (README's test command) the tests that use one
session- or module-scoped fixture of tests/ run on one xdist worker (tests/conftest.py marks their group), and the
tiny model is one file for the whole run. The rule is conftest's own, run here on this session's tests and on a
small project on two real workers."""

from pathlib import Path

import pytest

from conftest import TESTS, shared_fixtures

# A small project run on two workers with tests/conftest.py's rules: `built` (a session fixture of the project)
# records each worker that builds it; `tiny_model` is a run-wide file (its name is one of RUN_WIDE, so its users
# are spread), each of its users records which worker saw which file with which content.
PROJECT_CONFTEST = '''
import importlib.util
import os
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("vsq_tests_conftest", {conftest!r})
rules = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rules)
RECORD = Path(__file__).parent / "record.txt"


def record(*words):
    with open(RECORD, "a") as out:
        out.write(" ".join(str(word) for word in words) + "\\n")


if {grouped!r}:
    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(items):
        rules.group_by_shared_fixtures(items, Path(__file__).parent)


@pytest.fixture(scope="session")
def built(tiny_model):
    record("built", os.environ["PYTEST_XDIST_WORKER"])
    record("file", os.environ["PYTEST_XDIST_WORKER"], tiny_model, tiny_model.read_text())


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    def make(path):
        path.write_text(os.environ["PYTEST_XDIST_WORKER"])
        return path

    return rules.run_wide_file(tmp_path_factory, "one/file.txt", make)
'''
# In this order, xdist 3's first two units for each worker are one user of each fixture: without the rule both
# workers build `built`.
USERS = '''
import os

from conftest import record


def test_{n}_uses_built(built):
    pass


def test_{n}_uses_built_too(built):
    pass


def test_{n}_uses_the_run_wide_file(tiny_model):
    record("file", os.environ["PYTEST_XDIST_WORKER"], tiny_model, tiny_model.read_text())


def test_{n}_uses_the_run_wide_file_too(tiny_model):
    record("file", os.environ["PYTEST_XDIST_WORKER"], tiny_model, tiny_model.read_text())
'''


def test_the_users_of_one_module_or_session_fixture_are_in_one_xdist_group(request):
    groups, ungrouped = {}, []
    for item in request.session.items:
        mark = item.get_closest_marker("xdist_group")
        fixtures = shared_fixtures(item)
        if fixtures and mark is None:
            ungrouped.append(item.nodeid)
        for name, scope in fixtures.items():
            fixture = (name, item.module.__name__ if scope == "module" else "")
            groups.setdefault(fixture, set()).add(mark and mark.args[0])
    assert not ungrouped, ungrouped[:5]
    split = {fixture: names for fixture, names in groups.items() if len(names) > 1}
    assert not split, split
    assert request.node.get_closest_marker("xdist_group") is None  # a test that shares nothing is spread freely


@pytest.mark.parametrize("grouped", [True, False])
def test_on_two_workers_a_shared_fixture_is_built_once_and_a_run_wide_file_is_one(pytester, monkeypatch, grouped):
    """With the rule, `built`'s eight users run on one worker and it is built once; without it (the control),
    xdist spreads them and both workers build it. The run-wide file's users run on both workers either way, and
    all of them see one file, made by one worker."""
    pytester.makeconftest(PROJECT_CONFTEST.format(conftest=str(TESTS / "conftest.py"), grouped=grouped))
    pytester.makepyfile(**{f"test_users_{n}": USERS.format(n=n) for n in range(4)})
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # xdist only: the others take seconds to load
    result = pytester.runpytest_subprocess("-p", "xdist.plugin", "-n", "2", "--dist", "loadgroup",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(passed=16)
    lines = [line.split() for line in (pytester.path / "record.txt").read_text().splitlines()]
    builders = [words[1] for words in lines if words[0] == "built"]
    assert len(builders) == (1 if grouped else 2), builders
    files = {tuple(words[2:]) for words in lines if words[0] == "file"}
    assert len({words[1] for words in lines if words[0] == "file"}) == 2  # spread: tiny_model is run-wide
    assert len(files) == 1, files
    [(path, maker)] = files
    assert Path(path).name == "file.txt" and maker in ("gw0", "gw1")
