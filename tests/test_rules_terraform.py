"""The rule fixtures against Terraform itself (AWS provider from the local mirror).

Every pass and fail fixture becomes a child module of one root, so one
``terraform validate`` covers them all. Pass fixtures must be valid; fail fixtures
are valid too, except the few whose problem the provider itself rejects, and there
Terraform must point at the line the rule points at.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import tfsupport
from rulekit import FIXTURES, expectations, of_rule, scan

from validator.rules import Status
from validator.sources.terraform import version as tfversion

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(not tfsupport.terraform_available(), reason=tfsupport.skip_reason() or "no terraform"),
]

MIRRORED_PROVIDER = "5.100.0"
# Fixtures whose problem the provider rejects in terraform validate, with the diagnostic summary.
REJECTED = {
    "AV104/fail/pause_too_short": "seconds_until_auto_pause to be in the range (300 - 86400)",
    "AV108/fail/bad_instance_identifier": 'first character of "identifier" must be a letter',
    "AV108/fail/cluster_identifier_prefix_underscore": (
        'only lowercase alphanumeric characters and hyphens allowed in "cluster_identifier_prefix"'
    ),
    "AV108/fail/bad_subnet_group_name": 'only lowercase alphanumeric characters, hyphens, underscores, periods, and spaces allowed in "name"',  # noqa: E501
    "AV203/fail/missing_fields": "Missing required argument",
}
# Fixtures whose line the provider points at must be our line too (missing arguments point at their block).
SAME_LINE = {
    "AV104/fail/pause_too_short",
    "AV108/fail/cluster_identifier_prefix_underscore",
    "AV108/fail/bad_instance_identifier",
    "AV108/fail/bad_subnet_group_name",
}
# A resource or data source of a provider the mirror does not hold (random_password ...).
OTHER_PROVIDER = re.compile(r'^(?:resource|data) "(?!aws_)', re.MULTILINE)
_PROVIDER_BLOCK = re.compile(r'provider "aws" \{\n  region = "us-east-1"\n\}')


def _key(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}/{path.stem}"


def _module_name(path: Path) -> str:
    return "m_" + _key(path).replace("/", "_")


def _fixtures() -> list[Path]:
    """Pass and fail fixtures whose provider constraint admits the mirrored provider."""
    out = []
    for path in sorted(FIXTURES.glob("AV*/*/*.tf")):
        if path.parent.name == "unresolved":
            continue  # they need variable values Terraform would ask for
        found = re.search(r'version = "([^"]+)"', path.read_text(encoding="utf-8"))
        if found and not tfversion.allows(found.group(1), MIRRORED_PROVIDER):
            continue
        if OTHER_PROVIDER.search(path.read_text(encoding="utf-8")):
            continue  # the mirror holds only the AWS provider
        out.append(path)
    return out


@pytest.fixture(scope="module")
def diagnostics(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """``terraform validate`` diagnostics per fixture key."""
    root = tmp_path_factory.mktemp("fixtures-tf")
    modules = ['provider "aws" {\n  region = "us-east-1"\n}\n']
    for path in _fixtures():
        text = path.read_text(encoding="utf-8")
        # One provider configuration for all: blank the module's own block, keeping line numbers.
        text = _PROVIDER_BLOCK.sub("\n\n", text)
        module = root / _module_name(path)
        module.mkdir()
        (module / path.name).write_text(text, encoding="utf-8")
        modules.append(f'module "{module.name}" {{\n  source = "./{module.name}"\n}}\n')
    (root / "main.tf").write_text("\n".join(modules), encoding="utf-8")
    tfsupport.init(root)
    proc = tfsupport.run(root, "validate", "-json", "-no-color", check=False)
    result = json.loads(proc.stdout)
    by_fixture: dict[str, list[dict[str, Any]]] = {}
    for d in result.get("diagnostics", []):
        filename = d.get("range", {}).get("filename", "")
        by_fixture.setdefault(filename.split("/")[0], []).append(d)
    return {_key(p): by_fixture.get(_module_name(p), []) for p in _fixtures()}


def test_the_mirror_provider_is_covered() -> None:
    assert len(_fixtures()) >= 50


@pytest.mark.parametrize("path", _fixtures(), ids=_key)
def test_terraform_agrees(path: Path, diagnostics: dict[str, list[dict[str, Any]]]) -> None:
    key = _key(path)
    errors = [d for d in diagnostics[key] if d["severity"] == "error"]
    if key not in REJECTED:
        assert not errors, f"{key}: terraform validate rejects the fixture: {[e['summary'] for e in errors]}"
        return
    texts = [f"{e['summary']} {e.get('detail', '')}" for e in errors]
    assert any(REJECTED[key] in t for t in texts), f"{key}: {texts}"
    if key in SAME_LINE:
        rule_id = path.parent.parent.name
        lines = {e["range"]["start"]["line"] for e in errors}
        marked = {x.line for x in expectations(path) if x.rule_id == rule_id}
        assert marked <= lines, f"{key}: terraform points at {sorted(lines)}, the fixture marks {sorted(marked)}"


def test_plan_fails_on_the_article_prefix(tmp_path: Path) -> None:
    """AV108 says plan fails for an underscore in a variable default: terraform plan agrees."""
    path = FIXTURES / "AV108" / "fail" / "underscore_prefix.tf"
    [finding] = [f for f in of_rule(scan(path), "AV108") if f.status is Status.FAIL]
    work = tmp_path / "tf"
    work.mkdir()
    (work / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(tfsupport.TerraformError) as info:
        tfsupport.plan_json(work)
    assert 'only lowercase alphanumeric characters and hyphens allowed in "cluster_identifier"' in info.value.output
    assert f"{path.name} line {finding.result.location.line}" in info.value.output
