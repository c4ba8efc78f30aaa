"""docs/results-format.md describes every top-level key of results.json's schema."""

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_results_format_page_describes_every_key_of_the_schema():
    schema = json.loads((REPO / "vsq/pipeline/schema/results.schema.json").read_text())
    page = (REPO / "docs/results-format.md").read_text()
    described = set(re.findall(r"^\| `([a-z0-9_]+)` \|", page, flags=re.MULTILINE))
    assert set(schema["properties"]) - described == set()
