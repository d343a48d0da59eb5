"""``aurora-validate export checkov``: the policies, and checkov agreeing with aurora-validate.

checkov lives in a separate virtual environment (its bc-python-hcl2 replaces the
``hcl2`` module this project imports), created once under
~/.cache/aurora-validate-test/checkov-venv and reused; creating it installs
checkov from the package index (about 40 s on a warm cache).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from validator.cli import main
from validator.exporters import checkov
from validator.rules import all_rules
from validator.sources import TERRAFORM_KINDS

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
HARDENED = REPO / "reference" / "terraform-bedrock"
ARTICLE = REPO / "tests" / "fixtures" / "article_as_published"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aurora-validate-test"
VENV = CACHE / "checkov-venv"
# Categories a checkov YAML policy may name (checkov's CheckCategories).
CATEGORIES = {
    "GENERAL_SECURITY",
    "LOGGING",
    "ENCRYPTION",
    "NETWORKING",
    "IAM",
    "BACKUP_AND_RECOVERY",
    "CONVENTION",
    "SECRETS",
    "KUBERNETES",
    "APPLICATION_SECURITY",
    "SUPPLY_CHAIN",
    "API_SECURITY",
}
NETWORK_TROUBLE = (
    "Could not find a version that satisfies",
    "No matching distribution found",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
)

# The hardened variant with every exported rule broken, one attribute each.
BREAKAGES = (
    ('engine             = "aurora-postgresql"', 'engine             = "aurora-mysql"'),
    ('engine_mode        = "provisioned"', 'engine_mode        = "serverless"'),
    ('instance_class       = "db.serverless"', 'instance_class       = "db.r6g.large"'),
    ("iam_database_authentication_enabled = true", "iam_database_authentication_enabled = false"),
    ("enable_http_endpoint                = true", "enable_http_endpoint                = false"),
    ("storage_encrypted   = true", "storage_encrypted   = false"),
    ("publicly_accessible  = false", "publicly_accessible  = true"),
    ('identifier           = "${var.project_prefix}-${var.env}-kb-aurora-1"', 'identifier           = "Writer_1"'),
    ('name        = "${var.project_prefix}-${var.env}-aurora-subnet-group"', 'name        = "default"'),
    ('final_snapshot_identifier = "${var.project_prefix}-${var.env}-kb-aurora-final"', ""),
)


# --------------------------------------------------------------------------- #
# The export itself (fast)


def test_export_writes_one_parsable_policy_per_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "policies"
    assert main(["export", "checkov", str(out)]) == 0
    printed = capsys.readouterr().out
    files = sorted(out.glob("*.yaml"))
    assert [f.stem for f in files] == sorted(p.policy_id for p in checkov.POLICIES)
    for policy in checkov.POLICIES:
        doc = yaml.safe_load((out / f"{policy.policy_id}.yaml").read_text(encoding="utf-8"))
        assert doc == checkov.policy_document(policy)
        meta = doc["metadata"]
        assert re.fullmatch(r"CKV2_[A-Z]+_\d+", meta["id"])
        assert meta["name"].startswith(f"{policy.rule_id}: ")
        assert meta["category"] in CATEGORIES
        assert meta["severity"] in {"LOW", "MEDIUM", "HIGH"}
        assert f"{out / policy.policy_id}.yaml: {policy.rule_id}" in printed
    assert "AV301: needs the cluster's port" in printed
    assert "checkov -d TERRAFORM_DIR --external-checks-dir" in printed


def test_policy_ids_are_unique_and_rules_known() -> None:
    ids = [p.policy_id for p in checkov.POLICIES]
    assert len(ids) == len(set(ids))
    known = {r.id for r in all_rules()}
    assert {p.rule_id for p in checkov.POLICIES} <= known
    assert set(checkov.NOT_EXPRESSIBLE) <= known


def test_every_terraform_rule_is_exported_or_says_why_not() -> None:
    exported = {p.rule_id for p in checkov.POLICIES}
    reasons = checkov.unexpressible()
    for rule in all_rules():
        assert (rule.id in exported) != (rule.id in reasons), rule.id
        if rule.id in reasons and rule.sources & TERRAFORM_KINDS:
            assert rule.id in checkov.NOT_EXPRESSIBLE, f"{rule.id} reads Terraform: export it or say why not"


def test_yaml_writer_round_trips() -> None:
    value = {"a": [{"b": "x: y", "c": [1, 2.5, True]}, "plain", {"d": 'quote"d'}], "e": "^(?!.*--)[a-z]$"}
    assert yaml.safe_load(checkov.to_yaml(value)) == value


def test_identifier_regex_agrees_with_the_facts() -> None:
    from validator import facts

    for value in ("a", "kb-store-1", "a" * 63, "a" * 64, "Kb", "1kb", "kb--x", "kb-", "kb_x", "", "k-b"):
        ok = re.match(checkov.IDENTIFIER_REGEX, value) is not None
        assert ok == (value != "" and not facts.identifier_problems(value)), value
    for value in ("project_name-dev-aurora-subnet-group", "default", "Default", "a b.c", "a/b", "x" * 256):
        ok = re.match(checkov.SUBNET_GROUP_REGEX, value) is not None
        assert ok == (not facts.subnet_group_name_problems(value)), value


def test_export_into_a_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    assert main(["export", "checkov", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a directory" in err


def test_unknown_export_target_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["export", "tflint", "out"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# --------------------------------------------------------------------------- #
# checkov agrees (slow: a separate environment with checkov)


def _works(exe: Path) -> bool:
    if not exe.exists():
        return False
    done = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=300)
    return done.returncode == 0


@pytest.fixture(scope="module")
def checkov_exe() -> Path:
    exe = VENV / "bin" / "checkov"
    if _works(exe):
        return exe
    CACHE.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(VENV, ignore_errors=True)  # a half-built environment from an interrupted run
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, timeout=300)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "checkov"]
    done = subprocess.run(pip, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        shutil.rmtree(VENV, ignore_errors=True)
        if any(sign in done.stdout + done.stderr for sign in NETWORK_TROUBLE):
            pytest.skip("pip could not install checkov (no package index reachable)")
        pytest.fail(f"pip install checkov failed:\n{(done.stdout + done.stderr)[-3000:]}")
    print(f"checkov environment created in {time.monotonic() - start:.1f} s")
    assert _works(exe)
    return exe


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("checkov-policies")
    checkov.export(out)
    return out


def _ours(directory: Path, capsys: pytest.CaptureFixture[str]) -> dict[tuple[str, str], str]:
    """aurora-validate's status per (rule, resource) for the exported rules."""
    code = main([str(directory), "--format", "json", "--show-passed"])
    out, _ = capsys.readouterr()
    assert code in (0, 1)
    exported = {p.rule_id for p in checkov.POLICIES}
    statuses: dict[tuple[str, str], str] = {}
    for f in json.loads(out)["findings"]:
        if f["rule_id"] in exported:
            key = (f["rule_id"], f["resource"])
            # Several results for one resource: a failure wins, then unresolved.
            rank = {"fail": 2, "unresolved": 1, "pass": 0}
            if rank[f["status"]] >= rank[statuses.get(key, "pass")]:
                statuses[key] = f["status"]
    return statuses


def _theirs(exe: Path, directory: Path, policies: Path) -> dict[tuple[str, str], str]:
    """checkov's verdict per (rule, resource) for our policies."""
    command = [
        str(exe),
        "-d",
        str(directory),
        "--external-checks-dir",
        str(policies),
        "--framework",
        "terraform",
        "--check",
        ",".join(p.policy_id for p in checkov.POLICIES),
        "--skip-download",
        "-o",
        "json",
    ]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    doc = json.loads(done.stdout)
    if isinstance(doc, list):
        (doc,) = [d for d in doc if d.get("check_type") == "terraform"]
    rule_of = {p.policy_id: p.rule_id for p in checkov.POLICIES}
    verdicts: dict[tuple[str, str], str] = {}
    results = doc.get("results", {})  # an empty scan has a summary only
    for kind, status in (("passed_checks", "pass"), ("failed_checks", "fail")):
        for check in results.get(kind, []):
            key = (rule_of[check["check_id"]], check["resource"])
            if verdicts.get(key) != "fail":  # AV108 on one resource: any failing policy fails it
                verdicts[key] = status
    return verdicts


def _broken_hardened(tmp_path: Path) -> Path:
    target = tmp_path / "broken"
    shutil.copytree(HARDENED, target)
    aurora = target / "modules" / "aurora" / "aurora.tf"
    text = aurora.read_text(encoding="utf-8")
    for old, new in BREAKAGES:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    aurora.write_text(text, encoding="utf-8")
    return target


@pytest.mark.slow
def test_checkov_agrees_resource_by_resource(
    checkov_exe: Path, policies: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copies = {}
    for name, source in (("reference", REFERENCE), ("article", ARTICLE), ("hardened", HARDENED)):
        shutil.copytree(source, tmp_path / name)
        copies[name] = tmp_path / name
    copies["broken"] = _broken_hardened(tmp_path)
    seen: dict[str, set[str]] = {p.policy_id: set() for p in checkov.POLICIES}
    timings: list[str] = []
    for name, directory in copies.items():
        start = time.monotonic()
        theirs = _theirs(checkov_exe, directory, policies)
        timings.append(f"checkov on {name}: {time.monotonic() - start:.1f} s, {len(theirs)} verdicts")
        ours = _ours(directory, capsys)
        assert theirs, f"checkov gave no verdict on {name}"
        for key, verdict in theirs.items():
            assert ours.get(key) == verdict, f"{name}: {key}: checkov {verdict}, aurora-validate {ours.get(key)}"
        for policy in checkov.POLICIES:
            for (rule_id, resource), verdict in theirs.items():
                if rule_id == policy.rule_id and f".{policy.resource_type}." in f".{resource}":
                    seen[policy.policy_id].add(verdict)
    print("\n".join(timings))
    # Each policy both passed and failed somewhere, so the agreement above is not vacuous.
    assert {pid: verdicts for pid, verdicts in seen.items() if verdicts != {"pass", "fail"}} == {}


def test_broken_variant_fails_every_exported_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ours = _ours(_broken_hardened(tmp_path), capsys)
    failed = {rule_id for (rule_id, _), status in ours.items() if status == "fail"}
    assert failed == {p.rule_id for p in checkov.POLICIES}
