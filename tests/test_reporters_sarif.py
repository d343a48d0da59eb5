"""SARIF 2.1.0 output: valid against the OASIS schema, one descriptor per rule, stable fingerprints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from validator import facts
from validator.cli import main
from validator.findings import Finding, Report
from validator.model import Deployment, Location
from validator.reporters import sarif
from validator.rules import Result, Severity, Status, all_rules, get_rule

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
ARTICLE = REPO / "tests" / "fixtures" / "article_as_published"
SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


UNRESOLVED_TF = """\
variable "engine_version" {}

resource "aws_rds_cluster" "db" {
  cluster_identifier                  = "kb-store"
  engine                              = "aurora-postgresql"
  engine_version                      = var.engine_version
  storage_encrypted                   = true
  iam_database_authentication_enabled = true
  enable_http_endpoint                = true
  manage_master_user_password         = true
  master_username                     = "postgres"
  serverlessv2_scaling_configuration {
    min_capacity = 0.5
    max_capacity = 4
  }
}

resource "aws_rds_cluster_instance" "writer" {
  cluster_identifier = aws_rds_cluster.db.id
  identifier         = "kb-store-1"
  instance_class     = "db.serverless"
  engine             = aws_rds_cluster.db.engine
}
"""


def sarif_of(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--format", "sarif"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out)


def failing_rules(capsys: pytest.CaptureFixture[str], *argv: str) -> set[str]:
    """The rules that fail in the same scan, read from its JSON report (whose output tests/snapshots pins)."""
    main([*argv, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    return {f["rule_id"] for f in doc["findings"] if f["status"] == "fail"}


def assert_valid(doc: dict) -> None:
    errors = sorted(jsonschema.Draft7Validator(SCHEMA).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def results(doc: dict) -> list[dict]:
    return doc["runs"][0]["results"]


def line_of(path: Path, needle: str) -> int:
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in text:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def replace_line(path: Path, needle: str, new: str) -> None:
    """Replace the one line holding ``needle``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    (index,) = [n for n, text in enumerate(lines) if needle in text]
    lines[index] = new
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture()
def reference_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the reference under the current directory, scanned as ``terraform``."""
    shutil.copytree(REFERENCE, tmp_path / "terraform")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "terraform"


def test_the_schema_copy_is_the_oasis_schema() -> None:
    assert SCHEMA["$id"].endswith("/sarif-spec/master/Schemata/sarif-schema-2.1.0.json")
    assert "oasis-tcs" in SCHEMA["$id"]


def test_reference_is_valid_sarif_with_one_descriptor_per_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = sarif_of(capsys, str(REFERENCE))
    assert code == 0
    assert_valid(doc)
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids == [r.id for r in all_rules()]  # the whole catalogue, once each, in id order
    assert len(ids) == len(set(ids))
    for descriptor in rules:
        rule = get_rule(descriptor["id"])
        assert rule is not None
        assert descriptor["shortDescription"]["text"] == rule.title
        assert descriptor["fullDescription"]["text"] == rule.rationale
        assert descriptor["helpUri"] == rule.doc_url
        assert rule.fix in descriptor["help"]["markdown"] and rule.fix in descriptor["help"]["text"]
        assert descriptor["defaultConfiguration"]["level"] == sarif.LEVELS[rule.severity]
        assert descriptor["name"]
    for res in results(doc):
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    assert run["invocations"][0]["executionSuccessful"] is True
    expected = failing_rules(capsys, str(REFERENCE))
    assert {"AV301", "AV303", "AV401"} <= expected  # the reference's dev warnings and notes
    assert {r["ruleId"] for r in results(doc)} == expected


def test_results_are_the_failures_and_unresolved_checks_of_a_hand_built_report() -> None:
    """Independent of the catalogue's verdicts on the reference: one finding of each status."""
    rules = [get_rule(i) for i in ("AV106", "AV301", "AV402")]
    assert all(rules)
    av106, av301, av402 = rules
    where = Location(file="main.tf", line=3)
    report = Report(
        findings=[
            Finding(av301, Severity.WARNING, Result(Status.FAIL, "open to all", "aws_security_group.db", where), "."),
            Finding(av106, Severity.ERROR, Result(Status.UNRESOLVED, "not known", "aws_rds_cluster.db", where), "."),
            Finding(av402, Severity.INFO, Result(Status.PASS, "min_capacity is 0", "aws_rds_cluster.db", where), "."),
        ],
        roots=["."],
    )
    doc = json.loads(sarif.render(report))
    assert_valid(doc)
    assert sorted((r["ruleId"], r["kind"], r["level"]) for r in results(doc)) == [
        ("AV106", "open", "none"),
        ("AV301", "fail", "warning"),
    ]
    full = json.loads(sarif.render(report, show_passed=True))
    assert_valid(full)
    assert ("AV402", "pass", "none") in [(r["ruleId"], r["kind"], r["level"]) for r in results(full)]
    assert [r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]] == [r.id for r in all_rules()]


def test_profile_sets_the_default_level(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = sarif_of(capsys, str(REFERENCE), "--ruleset", "bedrock-kb")
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["AV201"]["defaultConfiguration"]["level"] == "error"
    av201 = next(r for r in results(doc) if r["ruleId"] == "AV201")
    assert av201["level"] == "error"


def test_locations_are_relative_to_srcroot_with_one_based_lines(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = sarif_of(capsys, str(REFERENCE))
    by_rule = {r["ruleId"]: r for r in results(doc)}
    av303 = by_rule["AV303"]["locations"][0]["physicalLocation"]
    assert av303["artifactLocation"]["uri"].endswith("terraform/modules/aurora/aurora.tf")
    assert av303["region"]["startLine"] == line_of(REFERENCE / "modules/aurora/aurora.tf", "publicly_accessible = true")
    logical = by_rule["AV303"]["locations"][0]["logicalLocations"][0]
    assert logical["fullyQualifiedName"] == "module.aurora.aws_rds_cluster_instance.aurora_instance"


def test_relative_root_gives_root_slash_file_uri(reference_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = sarif_of(capsys, "terraform")
    assert_valid(doc)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results(doc)}
    assert uris == {
        "terraform/modules/aurora/aurora.tf",
        "terraform/modules/network/network.tf",
        "terraform/variables.tf",
    }
    for r in results(doc):
        assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    base = doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file://") and base.endswith("/")


def test_article_fixture_levels(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = sarif_of(capsys, str(ARTICLE))
    assert code == 1
    assert_valid(doc)
    levels = {(r["ruleId"], r["level"]) for r in results(doc)}
    assert ("AV108", "error") in levels
    assert ("AV303", "warning") in levels
    assert ("AV402", "note") in levels
    assert all(r["kind"] == "fail" for r in results(doc))


def test_unresolved_checks_are_open_with_level_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "main.tf").write_text(UNRESOLVED_TF, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _, doc = sarif_of(capsys, ".")
    assert_valid(doc)
    open_results = [r for r in results(doc) if r["kind"] == "open"]
    assert {r["ruleId"] for r in open_results} >= {"AV107"}
    assert all(r["level"] == "none" for r in open_results)
    av107 = next(r for r in open_results if r["ruleId"] == "AV107")
    assert "var.engine_version" in av107["message"]["text"]


def test_passed_checks_only_with_show_passed(capsys: pytest.CaptureFixture[str]) -> None:
    _, plain = sarif_of(capsys, str(REFERENCE))
    _, full = sarif_of(capsys, str(REFERENCE), "--show-passed")
    assert_valid(full)
    assert not [r for r in results(plain) if r["kind"] == "pass"]
    passes = [r for r in results(full) if r["kind"] == "pass"]
    assert passes and all(r["level"] == "none" for r in passes)
    assert {r["ruleId"] for r in passes} >= {"AV101", "AV102", "AV106"}


def test_inline_suppression_is_in_source_with_its_reason(
    reference_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replace_line(
        reference_copy / "modules/aurora/aurora.tf",
        "publicly_accessible = true",
        "  publicly_accessible = true # aurora-validate:ignore=AV303 lab account only",
    )
    _, doc = sarif_of(capsys, "terraform")
    assert_valid(doc)
    av303 = [r for r in results(doc) if r["ruleId"] == "AV303"]
    assert len(av303) == 1
    assert av303[0]["suppressions"] == [{"kind": "inSource", "justification": "lab account only"}]
    others = [r for r in results(doc) if r["ruleId"] != "AV303"]
    assert all("suppressions" not in r for r in others)
    assert doc["runs"][0]["properties"]["suppressedBy"] == {"inline": 1}
    assert doc["runs"][0]["properties"]["summary"]["suppressed"] == 1


def test_baseline_suppression_is_external(reference_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["terraform", "--write-baseline", "baseline.json"]) == 0
    capsys.readouterr()
    _, doc = sarif_of(capsys, "terraform", "--baseline", "baseline.json")
    assert_valid(doc)
    assert results(doc)
    for r in results(doc):
        assert r["suppressions"][0]["kind"] == "external"
    assert doc["runs"][0]["properties"]["suppressedBy"] == {"baseline": len(results(doc))}


def test_input_errors_are_tool_execution_notifications(
    reference_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (reference_copy / "broken.tf").write_text('resource "aws_rds_cluster" "x" {\n  engine = \n', encoding="utf-8")
    code, doc = sarif_of(capsys, "terraform", "missing-dir")
    assert code == 2
    assert_valid(doc)
    invocation = doc["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    texts = [n["message"]["text"] for n in notes]
    assert any("missing-dir" in t for t in texts)
    assert all(n["level"] == "error" for n in notes)
    where = {
        n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: n["locations"][0]["physicalLocation"]
        for n in notes
    }
    assert set(where) == {"missing-dir", "terraform/broken.tf"}
    assert where["terraform/broken.tf"]["region"] == {"startLine": 2}
    assert "region" not in where["missing-dir"]


def test_fingerprints_are_stable_and_survive_moved_lines(
    reference_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def prints(doc: dict) -> dict[tuple[str, str], str]:
        return {
            (r["ruleId"], r["properties"]["resource"]): r["partialFingerprints"][sarif.FINGERPRINT_KEY]
            for r in results(doc)
        }

    _, first = sarif_of(capsys, "terraform")
    _, again = sarif_of(capsys, "terraform")
    assert prints(first) == prints(again)
    assert len(set(prints(first).values())) == len(prints(first))
    for name in ("variables.tf", "modules/aurora/aurora.tf", "modules/network/network.tf"):
        path = reference_copy / name
        path.write_text("# moved\n\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    _, moved = sarif_of(capsys, "terraform")
    assert prints(moved) == prints(first)
    lines = {r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results(moved)}
    assert lines["AV303"] == line_of(reference_copy / "modules/aurora/aurora.tf", "publicly_accessible = true")


def test_live_findings_use_logical_locations() -> None:
    rule = get_rule("AV106")
    assert rule is not None
    arn = "arn:aws:rds:ap-northeast-1:123456789012:cluster:kb-store"
    finding = Finding(
        rule,
        Severity.ERROR,
        Result(
            Status.FAIL,
            "IAM database authentication is disabled",
            arn,
            Location(api_call="rds:DescribeDBClusters", arn=arn),
        ),
        "ap-northeast-1",
    )
    doc = json.loads(sarif.render(Report(findings=[finding], roots=[arn], profile="default")))
    assert_valid(doc)
    (res,) = results(doc)
    (location,) = res["locations"]
    assert "physicalLocation" not in location
    assert location["logicalLocations"] == [{"fullyQualifiedName": arn, "kind": "resource"}]
    assert "rds:DescribeDBClusters" in location["message"]["text"]


def test_denied_calls_make_execution_unsuccessful() -> None:
    report = Report(roots=["ap-northeast-1"], denied=["rds:DescribeDBClusters"])
    doc = json.loads(sarif.render(report))
    assert_valid(doc)
    invocation = doc["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert "rds:DescribeDBClusters" in invocation["toolExecutionNotifications"][0]["message"]["text"]


# --------------------------------------------------------------------------- #
# What GitHub code scanning ingests (validator.facts.URL_GITHUB_SARIF).


def _github_problems(doc: dict) -> list[str]:
    """Every way a log breaks GitHub's documented limits and required fields."""
    problems: list[str] = []
    runs = doc.get("runs", [])
    if doc.get("version") != "2.1.0":
        problems.append("version is not 2.1.0")
    if not 1 <= len(runs) <= facts.GITHUB_SARIF_MAX_RUNS:
        problems.append(f"{len(runs)} runs")
    for run in runs:
        driver = run.get("tool", {}).get("driver", {})
        if not driver.get("name"):
            problems.append("tool.driver.name missing")
        rules = driver.get("rules", [])
        if len(rules) > facts.GITHUB_SARIF_MAX_RULES_PER_RUN:
            problems.append("too many rules")
        for rule in rules:
            props = rule.get("properties", {})
            score = props.get("security-severity")
            if not isinstance(score, str) or not 0.0 < float(score) <= 10.0:
                problems.append(f"{rule['id']}: security-severity {score!r}")
            if "security" not in props.get("tags", []):
                problems.append(f"{rule['id']}: no security tag")
            if len(props.get("tags", [])) > facts.GITHUB_SARIF_MAX_TAGS_PER_RULE:
                problems.append(f"{rule['id']}: too many tags")
        results_ = run.get("results", [])
        if len(results_) > facts.GITHUB_SARIF_MAX_RESULTS_PER_RUN:
            problems.append("too many results")
        for res in results_:
            if not res.get("ruleId"):
                problems.append("result without ruleId")
            if not res.get("message", {}).get("text"):
                problems.append(f"{res.get('ruleId')}: no message.text")
            if not res.get("partialFingerprints"):
                problems.append(f"{res.get('ruleId')}: no partialFingerprints")
            locations = res.get("locations", [])
            if len(locations) > facts.GITHUB_SARIF_MAX_LOCATIONS_PER_RESULT:
                problems.append("too many locations")
            for location in locations:
                physical = location.get("physicalLocation")
                if physical is None:
                    continue
                uri = physical["artifactLocation"]["uri"]
                if "://" in uri or uri.startswith("/"):
                    problems.append(f"{res.get('ruleId')}: absolute uri {uri}")
                if physical.get("region", {}).get("startLine", 1) < 1:
                    problems.append(f"{res.get('ruleId')}: startLine < 1")
    return problems


def test_github_limits_and_required_fields_hold_on_the_reference(
    reference_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, doc = sarif_of(capsys, "terraform", "--show-passed")
    assert results(doc)
    assert _github_problems(doc) == []
    # Every result GitHub can show has a physical location (static results all do).
    assert all("physicalLocation" in r["locations"][0] for r in results(doc))


def test_the_github_check_catches_what_github_rejects() -> None:
    """The checker above is not vacuous: each defect it looks for is reported."""
    doc = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"rules": [{"id": "AV301", "properties": {"tags": []}}]}},
                "results": [
                    {
                        "message": {},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "/abs/main.tf"},
                                    "region": {"startLine": 0},
                                }
                            }
                        ],
                    }
                ],
            }
        ],
    }
    problems = " | ".join(_github_problems(doc))
    for needle in (
        "tool.driver.name",
        "security-severity",
        "security tag",
        "ruleId",
        "message.text",
        "partialFingerprints",
        "absolute uri",
        "startLine",
    ):
        assert needle in problems
    assert _github_problems({"version": "2.1.0", "runs": [{}] * 21})[0] == "21 runs"


def _band(score: float) -> str:
    return next(name for name, low in facts.GITHUB_SECURITY_SEVERITY_BANDS if score >= low)


def test_security_severity_ranks_security_above_correctness_above_notes() -> None:
    for rule in all_rules():
        for profile in ("default", "bedrock-kb"):
            descriptor = sarif.rule_descriptor(rule, profile)
            score = float(descriptor["properties"]["security-severity"])
            severity = rule.severity_for(profile)
            if rule.id.startswith("AV3"):
                expected = {"error": "high", "warning": "medium", "info": "low"}[severity.value]
            elif rule.id.startswith("AV4"):
                expected = "low"
            else:
                expected = {"error": "medium", "warning": "medium", "info": "low"}[severity.value]
            assert _band(score) == expected, (rule.id, profile, score)
    # The same severity scores higher in the security family than elsewhere.
    av301, av401 = get_rule("AV301"), get_rule("AV401")
    assert av301 is not None and av401 is not None
    assert sarif.SECURITY_SEVERITY["security"][Severity.WARNING] > sarif.SECURITY_SEVERITY["other"][Severity.WARNING]
    assert float(sarif.SECURITY_SEVERITY["note"][Severity.ERROR]) < 4.0


def test_live_results_point_at_the_terraform_block_when_a_configuration_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses

    from validator.sources.terraform.hcl import load_root

    monkeypatch.chdir(REPO)
    baseline = load_root(Path("reference/terraform")).deployment
    (tf_cluster,) = baseline.clusters
    arn = "arn:aws:rds:ap-northeast-1:123456789012:cluster:" + str(tf_cluster.identifier.value)
    live_cluster = dataclasses.replace(
        tf_cluster, address=arn, arn=arn, origin=Location(api_call="rds:DescribeDBClusters", arn=arn)
    )
    live = Deployment(kind="live", root="123456789012/ap-northeast-1", clusters=[live_cluster], declared=baseline)
    rule = get_rule("AV106")
    assert rule is not None
    api = Result(
        Status.FAIL,
        "IAM database authentication is disabled",
        arn,
        Location(api_call="rds:DescribeDBClusters", arn=arn),
    )
    drift = Result(Status.FAIL, "drift", arn, Location(file="modules/aurora/aurora.tf", line=7, arn=arn))
    report = Report(
        findings=[Finding(rule, Severity.ERROR, r, live.root) for r in (api, drift)],
        roots=[live.root],
        deployments=[live],
    )
    doc = json.loads(sarif.render(report))
    assert_valid(doc)
    assert _github_problems(doc) == []
    by_message = {r["message"]["text"]: r["locations"][0] for r in results(doc)}
    root = baseline.root.rstrip("/")
    api_loc = by_message["IAM database authentication is disabled"]
    assert api_loc["logicalLocations"][0] == {"fullyQualifiedName": arn, "kind": "resource"}
    assert api_loc["physicalLocation"]["artifactLocation"]["uri"].endswith(f"{tf_cluster.origin.file}")
    assert api_loc["physicalLocation"]["region"]["startLine"] == tf_cluster.origin.line
    drift_loc = by_message["drift"]["physicalLocation"]["artifactLocation"]["uri"]
    assert drift_loc.endswith("modules/aurora/aurora.tf") and "123456789012" not in drift_loc
    assert root.split("/")[-1] in drift_loc
    # Without the configuration, the API result keeps only its logical location.
    report.deployments = [dataclasses.replace(live, declared=None)]
    alone = json.loads(sarif.render(report))
    assert "physicalLocation" not in results(alone)[0]["locations"][0]
