"""The CI examples in ci/: valid YAML, options the CLI has, and scripts that work on the reference."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml

from validator.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
ARTICLE = REPO / "tests" / "fixtures" / "article_as_published"
GITHUB = REPO / "ci" / "github-actions.yml"
GITLAB = REPO / "ci" / "gitlab-ci.yml"
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
DISTRIBUTION, VERSION = PROJECT["name"], PROJECT["version"]


def load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def github_job() -> dict:
    doc = load(GITHUB)
    (job,) = doc["jobs"].values()
    return job


def gitlab_job() -> dict:
    (job,) = [v for k, v in load(GITLAB).items() if isinstance(v, dict) and "script" in v]
    return job


def command_lines(script: str) -> list[str]:
    """The aurora-validate invocations of a shell script, without shell operators after them."""
    out = []
    for raw in script.splitlines():
        line = raw.strip()
        if line.startswith("aurora-validate"):
            out.append(re.split(r"\s+\|\||\s+&&|\s*;", line)[0])
    return out


def argv_of(line: str, env: dict[str, str]) -> list[str]:
    expanded = re.sub(r"\$\{?(\w+)\}?", lambda m: env[m.group(1)], line)
    argv = shlex.split(expanded)
    assert argv[0] == "aurora-validate"
    return argv[1:]


def github_scripts() -> list[str]:
    return [step["run"] for step in github_job()["steps"] if "run" in step]


def reports_of(args) -> dict[str, str]:
    """Every report a parsed command line writes to a file: {format: file}."""
    from validator.cli import _report_targets

    out = dict(_report_targets(args.report))
    if args.output:
        out[args.format or "text"] = args.output
    return out


def scans_of(scripts: list[str], env: dict[str, str]) -> list:
    return [build_parser().parse_args(argv_of(line, env)) for script in scripts for line in command_lines(script)]


def test_install_lines_name_the_project_with_one_placeholder() -> None:
    for spec in (github_job()["env"]["AURORA_VALIDATE_SPEC"], gitlab_job()["variables"]["AURORA_VALIDATE_SPEC"]):
        assert spec == f"git+https://github.com/OWNER/{DISTRIBUTION}@v{VERSION}"
    for path in (GITHUB, GITLAB):
        assert "OWNER/aurora-validate" in path.read_text(encoding="utf-8").split("AURORA_VALIDATE_SPEC:")[0]


def test_github_workflow_structure() -> None:
    doc = load(GITHUB)
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert "pull_request" in triggers
    job = github_job()
    assert doc["permissions"]["security-events"] == "write"
    uses = [step.get("uses", "") for step in job["steps"]]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert DISTRIBUTION == "aurora-validate"  # the command's name: one name to install and to run
    installs = [s for s in github_scripts() if "pip install" in s]
    assert installs == ['python -m pip install "$AURORA_VALIDATE_SPEC"']


def test_github_scans_once_and_uploads_the_sarif_it_writes() -> None:
    job = github_job()
    upload = next(s for s in job["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    (scan,) = scans_of(github_scripts(), job["env"])
    assert scan.format == "github" and scan.output is None  # annotations on standard output
    assert reports_of(scan) == {"sarif": upload["with"]["sarif_file"]}
    assert upload["with"]["sarif_file"] in upload["if"] and "!cancelled()" in upload["if"]


def test_gitlab_scans_once_and_reports_the_junit_file_it_writes() -> None:
    job = gitlab_job()
    (scan,) = scans_of(job["script"], job["variables"])
    assert scan.format is None and scan.output is None  # the text report in the job log
    assert reports_of(scan) == {"junit": job["artifacts"]["reports"]["junit"]}
    assert job["artifacts"]["when"] == "always"


@pytest.mark.parametrize("path", [GITHUB, GITLAB])
def test_every_command_parses_with_the_cli(path: Path) -> None:
    job = github_job() if path == GITHUB else gitlab_job()
    env = job.get("env") or job.get("variables")
    scripts = github_scripts() if path == GITHUB else job["script"]
    lines = [line for script in scripts for line in command_lines(script)]
    assert len(lines) == 1  # one scan writes every report
    for line in lines:
        argv = argv_of(line, env)
        args = build_parser().parse_args(argv)  # exits (a failure here) on an unknown option
        assert args.paths == env["AURORA_VALIDATE_PATHS"].split()


def _shell(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bindir = Path(sys.executable).parent
    if not (bindir / "aurora-validate").exists():
        pytest.skip("the aurora-validate console script is not installed beside this Python")
    full_env = {**os.environ, **env, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=full_env, capture_output=True, text=True)


@pytest.mark.parametrize(("fixture", "gate_code"), [(REFERENCE, 0), (ARTICLE, 1)])
def test_github_steps_run_on_a_checkout(tmp_path: Path, fixture: Path, gate_code: int) -> None:
    job = github_job()
    shutil.copytree(fixture, tmp_path / job["env"]["AURORA_VALIDATE_PATHS"])
    steps = {step.get("name"): step["run"] for step in job["steps"] if "run" in step}
    scan = _shell(steps["Scan"], tmp_path, job["env"])
    assert scan.returncode == gate_code, scan.stderr
    assert scan.stdout.startswith("::") and "Traceback" not in scan.stderr
    doc = json.loads((tmp_path / "aurora-validate.sarif").read_text(encoding="utf-8"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    assert not list(jsonschema.Draft7Validator(schema).iter_errors(doc))
    results = doc["runs"][0]["results"]
    assert results
    # The annotations and the SARIF come from the same scan: the same findings.
    annotated = {line.split("title=")[1].split("::")[0] for line in scan.stdout.splitlines() if "title=" in line}
    assert annotated == {r["ruleId"] for r in results if not r.get("suppressions")}


def test_github_scan_fails_on_input_errors_and_still_writes_sarif(tmp_path: Path) -> None:
    job = github_job()
    steps = {step.get("name"): step["run"] for step in job["steps"] if "run" in step}
    done = _shell(steps["Scan"], tmp_path, job["env"])  # no terraform/ directory
    assert done.returncode == 2
    assert "terraform: error: no such file or directory" in done.stderr
    doc = json.loads((tmp_path / "aurora-validate.sarif").read_text(encoding="utf-8"))
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is False


@pytest.mark.parametrize(("fixture", "job_code"), [(REFERENCE, 0), (ARTICLE, 1)])
def test_gitlab_script_runs_on_a_checkout(tmp_path: Path, fixture: Path, job_code: int) -> None:
    job = gitlab_job()
    shutil.copytree(fixture, tmp_path / job["variables"]["AURORA_VALIDATE_PATHS"])
    script = [line for line in job["script"] if "pip install" not in line]
    assert len(script) == len(job["script"]) - 1
    done = _shell("\n".join(script), tmp_path, job["variables"])
    assert done.returncode == job_code, done.stderr
    assert "root module" in done.stdout and "\033[" in done.stdout  # text in the log, coloured (FORCE_COLOR)
    root = ET.parse(tmp_path / job["artifacts"]["reports"]["junit"]).getroot()
    assert root.tag == "testsuites" and int(root.get("tests", "0")) > 0
    assert int(root.get("failures", "0")) > 0


def test_install_lines_in_the_readme_work_as_written() -> None:
    """Every pip install line names this project as pip can find it: a checkout or the git URL."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    lines = [ln.strip() for ln in readme.splitlines() if re.match(r"\s*(python -m )?pip install ", ln)]
    assert lines
    url = f'"git+https://github.com/OWNER/{DISTRIBUTION}@v{VERSION}"'
    for line in lines:
        command = line.split("#")[0].split()
        assert command[:2] == ["pip", "install"], line
        assert command[2] in (".", url), line
    assert "aurora-validator" not in readme
    for path in (GITHUB, GITLAB):
        assert "aurora-validator" not in path.read_text(encoding="utf-8")


def test_the_license_is_an_spdx_expression_for_a_setuptools_that_reads_it() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == "Apache-2.0"  # PEP 639; a table is deprecated since setuptools 77
    assert "setuptools>=77" in pyproject["build-system"]["requires"]
    assert not any("License ::" in c for c in pyproject["project"].get("classifiers", []))
    assert pyproject["project"]["scripts"] == {DISTRIBUTION: "validator.cli:main"}
