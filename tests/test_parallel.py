"""--jobs: roots scanned in worker processes give the report --jobs 1 gives, in the same order."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from validator import parallel, redact
from validator.cli import FORMATS, main
from validator.rootscan import RootScan, ScanOptions, scan_root

REPO = Path(__file__).resolve().parent.parent
REFERENCES = [REPO / "reference" / "terraform", REPO / "reference" / "terraform-bedrock"]


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Seven roots: variations of both references, a root with a file that does not parse, a missing path."""
    base = tmp_path_factory.mktemp("monorepo")
    out = []
    for n in range(5):
        root = base / f"svc{n}"
        shutil.copytree(REFERENCES[n % 2], root)
        for tf in root.rglob("*.tf"):
            text = tf.read_text().replace('"16.4"', f'"{["16.4", "13.15", "15.7"][n % 3]}"')
            tf.write_text(text.replace("max_capacity = 5", f"max_capacity = {n + 1}"))
        out.append(str(root))
    broken = base / "broken"
    shutil.copytree(REFERENCES[0], broken)
    (broken / "extra.tf").write_text('resource "aws_db_subnet_group" "x" {\n  name = = "a"\n}\n')
    out.insert(2, str(broken))
    out.append(str(base / "missing"))
    return out


# ASFF and OCSF stamp every finding with the time of the run: reports are compared without it.
_STAMPS = re.compile(
    r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z|("(?:time|created_time|first_seen_time|last_seen_time)"): \d+'
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, _STAMPS.sub(lambda m: f"{m.group(1)}: 0" if m.group(1) else "TIME", out), err


@pytest.mark.parametrize("fmt", FORMATS)
def test_workers_report_what_one_process_reports(
    fmt: str, roots: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCOUNT_ID", "123456789012")  # ASFF names an account; a static scan has none
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    one = run(capsys, *roots, "--format", fmt, "--jobs", "1", "--show-passed")
    assert one[0] == 2 and "extra.tf:2: parse error" in one[2] and "missing" in one[2]
    assert one[1].strip()
    assert run(capsys, *roots, "--format", fmt, "--jobs", "2", "--show-passed") == one
    assert run(capsys, *roots, "--format", fmt, "--jobs", "3", "--no-cache", "--show-passed") == one


def test_workers_keep_suppressions_baselines_and_profiles(
    roots: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    args = [*roots[:4], "--format", "json", "--profile", "bedrock-kb"]
    assert run(capsys, *args, "--jobs", "1", "--write-baseline", str(baseline))[0] in (0, 1, 2)
    one = run(capsys, *args, "--jobs", "1", "--baseline", str(baseline))
    assert run(capsys, *args, "--jobs", "2", "--baseline", str(baseline)) == one


def test_the_scans_come_from_worker_processes(roots: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def tagged(root: Path, options: ScanOptions, cache: object) -> RootScan:
        scan = scan_root(root, options, cache)  # type: ignore[arg-type]
        scan.root = f"{os.getpid()}"
        return scan

    monkeypatch.setattr(parallel, "scan_root", tagged)  # workers are forked: they inherit the patch
    scans = list(parallel.scan_roots([Path(r) for r in roots[:4]], ScanOptions(), jobs=2))
    pids = {int(scan.root) for scan in scans}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert [scan.deployment.root if scan.deployment else None for scan in scans] == roots[:4]


def test_worker_count() -> None:
    assert parallel.worker_count(8, 3) == 1  # too few roots to pay for workers
    assert parallel.worker_count(2, 10) == 2
    assert parallel.worker_count(16, parallel.MIN_ROOTS) == parallel.MIN_ROOTS
    assert parallel.worker_count(1, 100) == 1
    assert parallel.worker_count(None, 100) == min(parallel.default_jobs(), 100)


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_bad_jobs_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([str(REFERENCES[0]), "--jobs", value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--jobs" in err and "Traceback" not in err


def test_jobs_auto(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, str(REFERENCES[0]), "--jobs", "auto", "--format", "json")[0] == 0


def test_a_root_that_cannot_be_read_is_reported_in_its_place(
    roots: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*roots[:5], "--format", "json", "--var-file", str(tmp_path / "absent.tfvars")]
    one = run(capsys, *args, "--jobs", "1")
    assert one[0] == 2 and "absent.tfvars: error: variable file not found" in one[2]
    assert run(capsys, *args, "--jobs", "2") == one


# --------------------------------------------------------------------------- #
# What the parent keeps of each root


def test_a_root_is_kept_in_outline_unless_a_report_draws_it(tmp_path: Path) -> None:
    from validator.findings import Report
    from validator.suppressions import apply_suppressions

    root = tmp_path / "svc"
    shutil.copytree(REFERENCES[0], root)
    tf = root / "modules" / "aurora" / "aurora.tf"
    tf.write_text(tf.read_text().replace(
        "  publicly_accessible", "  # aurora-validate:ignore=AV303 lab account only\n  publicly_accessible", 1))
    whole = scan_root(root, ScanOptions(cache=False), None)
    kept = scan_root(root, ScanOptions(cache=False, keep_models=False), None)
    assert whole.deployment is not None and kept.deployment is not None
    assert whole.deployment.clusters and not kept.deployment.clusters  # the rules' model is let go
    assert (kept.deployment.kind, kept.deployment.root, kept.deployment.provider) == (
        whole.deployment.kind, whole.deployment.root, whole.deployment.provider)
    # The text report still hides the password's line and value (the article hard-codes one).
    lines, texts = redact.sensitive_places(whole.deployment)
    assert lines and texts
    assert (kept.sensitive_lines, kept.sensitive_texts) == (frozenset(lines), frozenset(texts))
    # The outline keeps the root's inline comments and the spans they are matched on.
    assert kept.findings == whole.findings
    outlined = Report(findings=list(kept.findings), deployments=[kept.deployment])
    apply_suppressions(outlined)
    full = Report(findings=list(whole.findings), deployments=[whole.deployment])
    apply_suppressions(full)
    assert outlined.findings == full.findings
    assert any(f.suppressed_by and f.rule_id == "AV303" for f in outlined.findings)


def test_only_the_html_report_keeps_whole_deployments() -> None:
    from validator.arguments import build_parser
    from validator.commands.static import draws_deployments

    def args(*argv: str) -> object:
        parsed = build_parser().parse_args(["x", *argv])
        parsed.reports = [tuple(r.split("=", 1)) for r in parsed.report]
        return parsed

    assert not draws_deployments(args("--format", "json"))  # type: ignore[arg-type]
    assert draws_deployments(args("--format", "html"))  # type: ignore[arg-type]
    assert draws_deployments(args("--report", "html=out.html"))  # type: ignore[arg-type]


def test_scrubbing_rebuilds_only_findings_that_hold_a_secret(tmp_path: Path) -> None:
    from validator.findings import Report

    scan = scan_root(REFERENCES[0], ScanOptions(cache=False), None)
    report = Report(findings=list(scan.findings))
    before = list(report.findings)
    saved = redact.remembered()
    redact.remember("aurora_sg")  # a name some messages hold, taken for a secret
    try:
        redact.scrub_report(report)
    finally:
        redact.forget()
        redact.remember(list(saved))
    changed = [(a, b) for a, b in zip(before, report.findings, strict=True) if a is not b]
    assert changed and all("aurora_sg" not in repr(b) for _a, b in changed)
    assert len(changed) == sum("aurora_sg" in repr(a) for a in before)
