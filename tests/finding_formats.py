"""Checks of the security-finding formats against their owners' definitions.

ASFF: botocore's own parameter validator on ``securityhub:BatchImportFindings``'s
input shape (what boto3 checks before it sends), plus the lengths the API reference
documents and botocore does not check. OCSF: the required attributes and enums of the
Compliance Finding class recorded from the OCSF schema in
``tests/data/ocsf-1.5.0-compliance-finding.json``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

OCSF_RECORD = json.loads(
    (Path(__file__).resolve().parent / "data" / "ocsf-1.5.0-compliance-finding.json").read_text(encoding="utf-8")
)
# https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html
ASFF_MAX_LENGTHS = {"Title": 256, "Description": 1024}
ASFF_BATCH = 100  # BatchImportFindings takes 1 to 100 findings


@functools.cache
def import_shape() -> Any:
    import botocore.session

    model = botocore.session.get_session().get_service_model("securityhub")
    return model.operation_model("BatchImportFindings").input_shape


def asff_problems(findings: list[dict[str, Any]]) -> list[str]:
    """What botocore's validator (and the documented lengths) reject; [] when Security Hub's API takes them."""
    from botocore.validate import ParamValidator

    shape = import_shape()
    problems: list[str] = []
    for start in range(0, len(findings), ASFF_BATCH):
        batch = findings[start : start + ASFF_BATCH]
        report = ParamValidator().validate({"Findings": batch}, shape)
        if report.has_errors():
            problems.append(report.generate_report())
    problems += _enum_problems([dict(f) for f in findings], shape.members["Findings"], "Findings")
    for n, f in enumerate(findings):
        if not f.get("Resources"):
            problems.append(f"[{n}].Resources: at least one resource is required")
        for key, limit in ASFF_MAX_LENGTHS.items():
            if len(f.get(key, "")) > limit:
                problems.append(f"[{n}].{key}: longer than {limit}")
        text = f.get("Remediation", {}).get("Recommendation", {}).get("Text", "")
        if len(text) > 512:
            problems.append(f"[{n}].Remediation.Recommendation.Text: longer than 512")
        if len(f.get("ProductFields", {})) > 50:
            problems.append(f"[{n}].ProductFields: more than 50 pairs")
    return problems


def _enum_problems(value: Any, shape: Any, where: str) -> list[str]:
    """Values outside the enums of botocore's model (botocore's validator checks types, not enums)."""
    out: list[str] = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, member in shape.members.items():
            if key in value:
                out += _enum_problems(value[key], member, f"{where}.{key}")
    elif shape.type_name == "list" and isinstance(value, list):
        for n, item in enumerate(value):
            out += _enum_problems(item, shape.member, f"{where}[{n}]")
    elif shape.type_name == "string" and getattr(shape, "enum", None) and value not in shape.enum:
        out.append(f"{where}: {value!r} is not one of {list(shape.enum)}")
    return out


def _get(event: dict[str, Any], path: str) -> Any:
    node: Any = event
    for part in path.split(".") if path else []:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def ocsf_problems(events: list[dict[str, Any]]) -> list[str]:
    """Missing required attributes, values outside the class's enums, a wrong type_uid or time."""
    problems: list[str] = []
    for n, event in enumerate(events):
        for path, names in OCSF_RECORD["required"].items():
            node = _get(event, path)
            if node is None:
                if path == "" or path in ("metadata", "metadata.product", "finding_info", "compliance"):
                    problems.append(f"[{n}]: no {path or 'event'}")
                continue  # an optional object left out (cloud)
            for name in names:
                if node.get(name) in (None, "", [], {}):
                    problems.append(f"[{n}].{path + '.' if path else ''}{name}: required, missing")
        for path, allowed in OCSF_RECORD["enums"].items():
            value = _get(event, path)
            if value is not None and value not in allowed:
                problems.append(f"[{n}].{path}: {value!r} not in {allowed}")
        if event.get("type_uid") != event.get("class_uid", 0) * 100 + event.get("activity_id", 0):
            problems.append(f"[{n}].type_uid: not class_uid * 100 + activity_id")
        if not isinstance(event.get("time"), int) or isinstance(event.get("time"), bool):
            problems.append(f"[{n}].time: not a timestamp_t (integer milliseconds)")
    return problems
