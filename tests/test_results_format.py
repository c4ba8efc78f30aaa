"""docs/results-format.md describes every top-level key of results.json's schema, and no key the schema lacks."""

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_results_format_page_describes_exactly_the_schemas_keys():
    schema = json.loads((REPO / "vsq/pipeline/schema/results.schema.json").read_text())
    page = (REPO / "docs/results-format.md").read_text()
    described = set(re.findall(r"^\| `([a-z0-9_]+)` \|", page, flags=re.MULTILINE))
    assert described == set(schema["properties"])
