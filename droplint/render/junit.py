"""`--format junit`: JUnit XML, read by CI servers (GitLab, Jenkins, Azure) as test results.

    <testsuites name="droplint" tests="2" failures="2">
      <testsuite name="m.py" tests="2" failures="2">
        <testcase name="DL101 m.py:4:5" classname="m.py" file="m.py" line="4">
          <failure type="DL101" message="...">m.py:4:5: DL101 [info] ...</failure>

One testsuite per file with findings, one failed testcase per finding; with no findings, one
passing testcase per checked run, so that the report is never empty. Built with xml.etree, so
names and messages are escaped.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ..report import Report
from .escape import safe_text
from .plain import finding_line, location, summary_sentence


def _s(text) -> str:
    return safe_text(str(text), keep_newlines=False)


def to_junit(report: Report) -> ET.Element:
    n = len(report.findings)
    root = ET.Element("testsuites", name="droplint",
                      tests=str(max(n, 1) + len(report.errors)), failures=str(n),
                      errors=str(len(report.errors)))
    by_path: dict[str, list] = {}
    for f in report.findings:
        by_path.setdefault(f.path, []).append(f)
    if not by_path:
        suite = ET.SubElement(root, "testsuite", name="droplint", tests="1", failures="0",
                              errors="0")
        ET.SubElement(suite, "testcase", name="droplint", classname="droplint")
        ET.SubElement(suite, "system-out").text = _s(summary_sentence(report))
    for path, findings in by_path.items():
        suite = ET.SubElement(root, "testsuite", name=_s(path), tests=str(len(findings)),
                              failures=str(len(findings)), errors="0")
        for f in findings:
            case = ET.SubElement(suite, "testcase", name=_s(f"{f.code} {location(f)}"),
                                 classname=_s(path), file=_s(path))
            if f.line is not None and f.cell is None:
                case.set("line", str(f.line))
            failure = ET.SubElement(case, "failure", type=f.code,
                                    message=_s(" ".join(f.message.split())))
            body = finding_line(f) + (f"\n{f.help}" if f.help else "")
            failure.text = safe_text(body)
    if report.errors:  # a path that could not be checked: an error, not a failure
        suite = ET.SubElement(root, "testsuite", name="droplint errors",
                              tests=str(len(report.errors)), failures="0",
                              errors=str(len(report.errors)))
        for error in report.errors:
            case = ET.SubElement(suite, "testcase", name=_s(error)[:200], classname="droplint")
            ET.SubElement(case, "error", message=_s(error))
    return root


def render(report: Report) -> str:
    root = to_junit(report)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
