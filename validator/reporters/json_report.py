"""JSON: the public contract that CI systems and the acceptance checks read.

    {"version", "profile", "roots",
     "findings": [{"rule_id", "title", "severity", "status", "message", "resource",
                   "location": {"file", "line"} | {"api_call", "arn"}, "root", "doc_url",
                   "account"}],  # "account": live findings, the AWS account (12 digits)
     "suppressed": [... same, with "suppressed_by"],
     "summary": {"error", "warning", "info", "unresolved", "passed", "suppressed", "input_errors"},
     "suppressed_by": {"inline": n, "baseline": n, ...},
     "errors": [{"where", "kind", "message"}],
     "denied": ["rds:DescribeDBEngineVersions", ...],   # AWS calls refused (exit 3)
     "failed_calls": ["ec2:DescribeSecurityGroups", ...],  # AWS calls that failed otherwise (exit 3)
     "accounts": ["123456789012", ...]}  # live audits: the AWS accounts audited

``findings`` holds failures and unresolved checks; passed checks join them
(``status: pass``) with ``--show-passed``.
"""

from __future__ import annotations

import json

from validator import __version__
from validator.findings import Report
from validator.reporters.common import error_dict, finding_dict, ordered, sort_key


def render(report: Report, show_passed: bool = False, color: bool = False) -> str:
    doc = {
        "version": __version__,
        "profile": report.profile,
        "roots": report.roots,
        "findings": [finding_dict(f) for f in ordered(report, show_passed)],
        "suppressed": [finding_dict(f) for f in sorted(report.suppressed(), key=sort_key)],
        "summary": report.summary(),
        "suppressed_by": report.suppression_counts(),
        "errors": [error_dict(e) for e in report.errors],
        "denied": list(report.denied),
        "failed_calls": list(report.failed_calls),
    }
    if report.accounts:
        doc["accounts"] = list(report.accounts)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
