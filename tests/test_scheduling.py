"""The order xdist hands the tests out in (tests/conftest.py): slow tests that share nothing start before the
quick ones, so no worker waits at the end of the run for a minutes-long test the other began last."""

from types import SimpleNamespace

from conftest import slow_singletons_first


def _item(name: str, *marks: str):
    return SimpleNamespace(name=name, get_closest_marker=lambda mark: mark if mark in marks else None)


def test_slow_single_tests_move_first_and_the_others_keep_their_order():
    items = [_item("a1"), _item("a2", "slow", "xdist_group"), _item("a3", "xdist_group"), _item("b1"),
             _item("b2", "slow"), _item("c1", "xdist_group"), _item("c2", "slow")]
    assert [item.name for item in slow_singletons_first(items)] == ["b2", "c2", "a1", "a2", "a3", "b1", "c1"]


def test_in_this_run_slow_tests_of_no_group_come_before_the_quick_ones_and_modules_stay_whole(request):
    items = request.session.items
    moved = [bool(item.get_closest_marker("slow") and not item.get_closest_marker("xdist_group")) for item in items]
    assert moved == sorted(moved, reverse=True), [item.nodeid for item, m in zip(items, moved) if m][-3:]
    modules = [item.module.__name__ for item, m in zip(items, moved) if not m]
    runs = [name for index, name in enumerate(modules) if index == 0 or modules[index - 1] != name]
    assert len(runs) == len(set(runs)), "a module's tests are split: its module fixtures would be built twice"
