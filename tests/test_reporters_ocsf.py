"""OCSF Compliance Finding (class 2003): the schema's required attributes, on every source."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest
from finding_formats import OCSF_RECORD, ocsf_problems
from test_reporters_asff import ACCOUNT, ARN, NOW, live_finding, report_of, static_finding

from validator.cli import main
from validator.reporters import asff, ocsf
from validator.rules import Status

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
NO_ENV: dict[str, str] = {}


def test_the_record_names_the_schema_version_the_reporter_writes() -> None:
    assert OCSF_RECORD["ocsf_version"] == ocsf.OCSF_VERSION
    assert all(
        source.startswith("the OCSF server") or "github.com/ocsf/" in source
        for source in OCSF_RECORD["sources"].values()
    )


def test_every_result_is_a_valid_compliance_finding() -> None:
    report = report_of(
        live_finding(Status.PASS, message="IAM auth is on"),
        live_finding(Status.FAIL),
        live_finding(Status.UNRESOLVED, message="IAM auth cannot be determined: not reported"),
        static_finding(),
    )
    events = ocsf.events(report, show_passed=True, now=NOW, environ=NO_ENV)
    assert len(events) == 4 and ocsf_problems(events) == []
    for event in events:
        for path, names in OCSF_RECORD["also_written"].items():
            assert all(event[path].get(name) not in (None, "", []) for name in names), (path, names)
    statuses = {e["status_code"]: (e["compliance"]["status_id"], e["compliance"]["status"]) for e in events}
    assert statuses == {"PASS": (1, "Pass"), "FAIL": (3, "Fail"), "UNRESOLVED": (2, "Warning")}
    (unresolved,) = [e for e in events if e["status_code"] == "UNRESOLVED"]
    assert unresolved["compliance"]["status_details"] == ["IAM auth cannot be determined: not reported"]
    assert {e["time"] for e in events} == {int(NOW.timestamp() * 1000)}


def test_a_live_event_names_its_account_region_and_arn() -> None:
    (event,) = ocsf.events(report_of(live_finding()), now=NOW, environ=NO_ENV)
    assert event["cloud"] == {
        "provider": "AWS",
        "region": "eu-west-1",
        "account": {"uid": ACCOUNT, "type_id": 10, "type": "AWS Account"},
    }
    (resource,) = event["resources"]
    assert resource["uid"] == ARN and resource["type"] == "AwsRdsDbCluster" and resource["name"] == "kb-store"
    assert event["finding_info"]["uid"] == asff.findings(report_of(live_finding()), environ=NO_ENV)[0]["Id"]
    assert event["severity_id"] == 3 and event["severity"] == "Medium"


def test_a_static_event_without_an_account_leaves_it_out() -> None:
    (event,) = ocsf.events(report_of(static_finding()), now=NOW, environ=NO_ENV)
    assert ocsf_problems([event]) == []
    assert event["cloud"] == {"provider": "AWS"}
    assert event["resources"][0]["data"] == {
        "source": "hcl",
        "root": "infra",
        "terraform_address": "module.net.aws_security_group.db",
        "terraform_type": "aws_security_group",
        "file": "infra/net/main.tf",
        "line": 7,
    }


def test_suppressed_findings_have_the_suppressed_status() -> None:
    f = dataclasses.replace(live_finding(), suppressed_by="baseline")
    (event,) = ocsf.events(report_of(f), environ=NO_ENV)
    assert (event["status_id"], event["status"]) == (3, "Suppressed")
    assert event["unmapped"]["aurora-validate"]["suppressed_by"] == "baseline"


def test_the_check_catches_what_the_schema_rejects() -> None:
    (good,) = ocsf.events(report_of(live_finding()), now=NOW, environ=NO_ENV)
    broken = []
    for mutate in (
        lambda e: e.pop("compliance"),
        lambda e: e.pop("finding_info"),
        lambda e: e["finding_info"].pop("uid"),
        lambda e: e["metadata"].pop("version"),
        lambda e: e["metadata"]["product"].pop("name"),
        lambda e: e["cloud"].pop("provider"),
        lambda e: e.update(class_uid=2004),
        lambda e: e.update(type_uid=200300),
        lambda e: e.update(time="2026-01-02T03:04:05Z"),
        lambda e: e["compliance"].update(status_id=4),
    ):
        event = copy.deepcopy(good)
        mutate(event)
        broken.append(ocsf_problems([event]))
    assert all(broken), broken


def test_the_reference_as_ocsf(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AWS_ACCOUNT_ID", raising=False)
    code = main([str(REFERENCE), "--format", "ocsf", "--show-passed"])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err
    events = json.loads(out)
    assert events and ocsf_problems(events) == []
    assert {e["cloud"]["region"] for e in events} == {"ap-northeast-1"}
    assert {e["compliance"]["status"] for e in events} == {"Pass", "Fail"}


def test_the_finding_formats_load_neither_boto3_nor_botocore() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import validator.reporters.asff, validator.reporters.ocsf, validator.commands.export; "
        "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert out.strip() == "[]"
