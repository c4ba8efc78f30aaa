"""Every vsq name that vsq's docstrings, comments, README and docs/ give (vsq.module.attribute) exists: a reader who
follows one finds it."""

import importlib
import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAME = re.compile(r"\bvsq(?:\.[A-Za-z_]\w*)+")
FILE_SUFFIXES = ("yml", "yaml", "json", "py", "md", "txt", "html")


def _exists(name: str) -> bool:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):  # the longest importable module, then its attributes
        try:
            if importlib.util.find_spec(".".join(parts[:i])):
                break
        except ModuleNotFoundError:  # a parent is a module, not a package: the name goes on with attributes
            continue
    target = importlib.import_module(".".join(parts[:i]))
    for attribute in parts[i:]:
        if not hasattr(target, attribute):
            return False
        target = getattr(target, attribute)
    return True


def test_every_vsq_name_in_the_docs_exists():
    files = [*sorted((REPO / "vsq").rglob("*.py")), REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    named = {(path.relative_to(REPO).as_posix(), name) for path in files for name in NAME.findall(path.read_text())
             if name.rsplit(".", 1)[-1] not in FILE_SUFFIXES}
    assert named
    assert sorted((where, name) for where, name in named if not _exists(name)) == []


def test_the_titles_name_both_frameworks():
    import vsq

    for title in (REPO.joinpath("README.md").read_text().splitlines()[0], vsq.__doc__.splitlines()[0]):
        assert "Keras" in title and "PyTorch" in title, title
