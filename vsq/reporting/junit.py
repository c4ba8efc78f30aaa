"""JUnit XML of a run without pytest (`python -m vsq run`): one testcase per check of each configuration,
named as pytest names it (test_<check>[configuration]), with its figures as properties and a failure
carrying its one-line message, so CI test viewers show the same as for `pytest suites/ --junitxml`. Texts
hold only what XML 1.0 allows (vsq.util.text.xml: an image's file name may hold anything)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from vsq.provenance import flat
from vsq.util.text import xml


def properties(element: ET.Element, values: dict) -> None:
    """A <properties> element of name/value pairs (none when values is empty)."""
    if values:
        holder = ET.SubElement(element, "properties")
        for key, value in values.items():
            ET.SubElement(holder, "property", name=xml(str(key)), value=xml(str(value)))


def checks_xml(results: list, failures: dict[str, str]) -> bytes:
    """results: vsq.pipeline.results.RunResult per configuration; failures: configurations whose run gave
    no results, with why (one failed testcase each)."""
    suite = ET.Element("testsuite", name="vsq")
    properties(suite, {f"{result.name}_{key}": value for result in results
                       for key, value in flat(result.document.get("provenance")).items()})
    tests = failed = 0
    for result in results:
        for name, check in result.checks.items():
            base, bracket, item = name.partition("[")
            case_name = f"test_{base}[{result.name}{'-' + item[:-1] if bracket else ''}]"
            case = ET.SubElement(suite, "testcase", classname=xml(f"vsq.{result.name}"), name=xml(case_name))
            properties(case, {"configuration": result.name, **check.figures})
            if not check.ok:
                ET.SubElement(case, "failure", message=xml(check.message)).text = xml(check.message)
                failed += 1
            tests += 1
    for name, message in failures.items():
        case = ET.SubElement(suite, "testcase", classname=xml(f"vsq.{name}"), name=xml(f"run[{name}]"))
        ET.SubElement(case, "failure", message=xml(message)).text = xml(message)
        tests, failed = tests + 1, failed + 1
    suite.set("tests", str(tests))
    suite.set("failures", str(failed))
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
