"""README for users, docs/ for the rest: the configuration reference cannot drift from the schema, README stays
short, and every page a document links to is there."""

import re
from pathlib import Path

from vsq.configuration.file import schema
from vsq.configuration.reference import markdown

REPO = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)#\s]+\.md)\)")


def test_the_configuration_reference_is_the_schemas():
    page = (REPO / "docs" / "configuration-reference.md").read_text()
    assert page == markdown(), "regenerate: python -m vsq.configuration.reference > docs/configuration-reference.md"


def test_the_reference_shows_no_default_for_a_required_key():
    required = set(schema()["required"])
    rows = [line.split(" | ") for line in markdown().splitlines() if line.startswith("| `")]
    shown = {row[0].strip("| `"): row for row in rows}
    assert required <= set(shown)
    for key in required:
        assert shown[key][1] == "required" and shown[key][3] == "", key
        assert "Example: " in shown[key][4]  # the spec's value, as an example
    assert shown["seed"][3] == "`0`"  # an optional key shows its default


def test_readme_is_short_and_starts_with_the_five_minute_path():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    headings = [line for line in readme.splitlines() if line.startswith("## ")]
    assert headings[:2] == ["## Quick start (fresh machine, Python 3.11)", "## Your own model in five minutes"]


def test_every_linked_page_exists():
    documents = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    missing = [(page.name, target) for page in documents for target in LINK.findall(page.read_text())
               if not (page.parent / target).is_file()]
    assert missing == []
