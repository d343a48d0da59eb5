"""The HTML report: one self-contained page, escaped, filtered in a real browser."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from validator.cli import main
from validator.engine import evaluate
from validator.findings import Finding, Report
from validator.model import Location
from validator.reporters import FORMATS, html, render
from validator.rules import Result, Severity, Status, get_rule
from validator.sources.terraform.hcl import load_root

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
PASSWORD = "tiger111!"  # the reference's plaintext default (AV302)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


class Page(HTMLParser):
    """The elements of a page: (tag, attributes, text inside up to the next tag)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self.scripts += tag == "script"

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def rows(self) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements if t == "tr" and "data-rule" in a]

    def boxes(self, kind: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements if a.get("data-kind") == kind]


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def hostile_report() -> Report:
    """The reference with a cluster address and a message an attacker chose."""
    dep = load_root(REFERENCE).deployment
    (cluster,) = dep.clusters
    dep.clusters = [dataclasses.replace(cluster, address=HOSTILE)]
    report = Report(roots=[dep.root], deployments=[dep], findings=evaluate(dep))
    rule = get_rule("AV106")
    assert rule is not None
    report.findings.append(
        Finding(rule, Severity.ERROR, Result(Status.FAIL, HOSTILE, HOSTILE, Location(file="main.tf", line=3)), dep.root)
    )
    return report


def test_html_is_registered_for_the_cli() -> None:
    from validator.cli import FORMATS as CLI_FORMATS

    assert "html" in FORMATS and "html" in CLI_FORMATS


def test_a_hand_built_report_is_escaped_and_draws_the_deployment() -> None:
    text = render(hostile_report(), "html")
    page = parse(text)
    assert page.scripts == 1  # only the page's own script: the hostile one is text
    assert "<script>alert" not in text and "<img" not in text
    assert not [a for t, a in page.elements if t == "img"]
    assert HOSTILE in "".join(page.text)  # shown, as text
    assert PASSWORD not in text  # the plaintext master password is never printed
    rows = page.rows()
    assert {"AV106", "AV301", "AV302", "AV303"} <= {r["data-rule"] for r in rows}
    assert [r["data-severity"] for r in rows if r["data-rule"] == "AV106"] == ["error"]
    (cluster,) = page.boxes("cluster")
    assert cluster["class"] == "box fail"
    assert {"AV106", "AV302"} <= set((cluster["data-fails"] or "").split())
    (instance,) = page.boxes("instance")
    assert "AV303" in (instance["data-fails"] or "")
    (group,) = page.boxes("security group")
    assert "AV301" in (group["data-fails"] or "")
    assert "0.0.0.0/0" in "".join(page.text) and "5432" in "".join(page.text)
    zones = [a["data-az"] for t, a in page.elements if "data-az" in a]
    assert zones == ["ap-northeast-1a", "ap-northeast-1c"]


def test_the_knowledge_base_and_its_secret_are_drawn(tmp_path: Path) -> None:
    fixture = REPO / "tests/fixtures/rules/AV203/fail/missing_fields.tf"
    shutil.copy(fixture, tmp_path / "main.tf")
    dep = load_root(tmp_path).deployment
    page = parse(render(Report(roots=[dep.root], deployments=[dep], findings=evaluate(dep)), "html"))
    (kb,) = page.boxes("knowledge base")
    assert kb["class"] == "box fail" and "AV203" in (kb["data-fails"] or "").split()
    assert len(page.boxes("secret")) == 1
    assert "aws_secretsmanager_secret.kb" in "".join(page.text)


def test_the_page_needs_no_network() -> None:
    text = render(hostile_report(), "html")
    page = parse(text)
    (csp,) = [a for t, a in page.elements if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in (csp["content"] or "")
    assert not [a for t, a in page.elements if "src" in a or t == "link"]


def test_a_secret_value_shows_as_stars() -> None:
    from validator.model import Secret, Value

    assert html._show(Value(Secret(PASSWORD))) == "****"
    assert html._show(Value([Secret(PASSWORD), "x"])) == "****, x"


# --------------------------------------------------------------------------- #
# In a real browser (Chromium from the Debian packages; `make browser` installs it).

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (make browser installs it where apt-get is available)"
)


def chromium(*args: str) -> str:
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=/tmp/av-chromium", *args],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("html")
    page = out / "report.html"
    assert main([str(REFERENCE), "--format", "html", "-o", str(page)]) == 0
    as_json = out / "report.json"
    main([str(REFERENCE), "--format", "json", "-o", str(as_json)])
    return page, json.loads(as_json.read_text(encoding="utf-8"))


def visible(dom: str) -> list[dict[str, str | None]]:
    return [r for r in parse(dom).rows() if "hidden" not in r]


@needs_browser
def test_the_browser_shows_every_finding_and_filters_by_severity_and_rule(written: tuple[Path, dict]) -> None:
    page, report = written
    failures = [f for f in report["findings"] if f["status"] == "fail"]
    warnings = {f["rule_id"] for f in failures if f["severity"] == "warning"}
    assert warnings, "the reference has warnings"

    dom = chromium("--dump-dom", page.as_uri())
    assert 'data-ready="1"' in dom  # the page's script ran
    assert len(visible(dom)) == len(failures)
    assert re.search(rf'id="shown">{len(failures)}<', dom)

    dom = chromium("--dump-dom", page.as_uri() + "#severity=warning")
    shown = visible(dom)
    assert {r["data-rule"] for r in shown} == warnings
    assert {r["data-severity"] for r in shown} == {"warning"}
    assert len(parse(dom).rows()) == len(failures)  # the others are hidden, not gone

    dom = chromium("--dump-dom", page.as_uri() + "#rule=AV301")
    assert [r["data-rule"] for r in visible(dom)] == ["AV301"]
    dom = chromium("--dump-dom", page.as_uri() + "#severity=error")
    assert visible(dom) == []  # the reference has no errors in the default profile
    assert re.search(r'id="shown">0<', dom)
    dom = chromium("--dump-dom", page.as_uri() + "#rule=AV999")
    assert visible(dom) == []


@needs_browser
def test_the_browser_draws_the_failing_cluster(written: tuple[Path, dict], tmp_path: Path) -> None:
    page, _ = written
    dom = chromium("--dump-dom", page.as_uri())
    (cluster,) = parse(dom).boxes("cluster")
    assert cluster["class"] == "box fail" and "AV302" in (cluster["data-fails"] or "")
    assert PASSWORD not in dom
    shot = tmp_path / "report.png"
    chromium("--window-size=1280,1400", f"--screenshot={shot}", page.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_a_live_cluster_is_marked_by_its_arn() -> None:
    from validator.model import Deployment

    (tf,) = load_root(REFERENCE).deployment.clusters
    arn = "arn:aws:rds:ap-northeast-1:123456789012:cluster:kb-store"
    live = Deployment(
        kind="live",
        root="123456789012/ap-northeast-1",
        clusters=[dataclasses.replace(tf, address="kb-store", arn=arn, origin=Location(api_call="rds:X", arn=arn))],
    )
    rule = get_rule("AV106")
    assert rule is not None
    finding = Finding(
        rule, Severity.ERROR, Result(Status.FAIL, "off", arn, Location(api_call="rds:X", arn=arn)), live.root
    )
    page = parse(render(Report(roots=[live.root], deployments=[live], findings=[finding]), "html"))
    (cluster,) = page.boxes("cluster")
    assert cluster["class"] == "box fail" and cluster["data-fails"] == "AV106"
    (section,) = [a for t, a in page.elements if t == "section"]
    assert section["data-root"] == live.root


def test_report_option_writes_the_page_next_to_the_text_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    assert main([str(REFERENCE), "--report", f"html={page}"]) == 0
    out, err = capsys.readouterr()
    assert "AV301" in out and "Traceback" not in err  # the text report stays on the terminal
    assert {"AV301", "AV302", "AV303"} <= {r["data-rule"] for r in parse(page.read_text(encoding="utf-8")).rows()}
