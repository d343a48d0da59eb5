"""Snapshots of whole reports on the reference deployments (cfn-lint style).

A change in any message, location or verdict shows up here as a diff. After an
intended change, refresh them with:  UPDATE_SNAPSHOTS=1 python -m pytest tests/test_snapshots.py
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from validator.cli import main

REPO = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"

CASES = {
    "reference_terraform.txt": ["reference/terraform", "--show-passed"],
    "reference_terraform_bedrock_profile.txt": ["reference/terraform", "--ruleset", "bedrock-kb"],
    "article_as_published.txt": ["tests/fixtures/article_as_published"],
    "terraform_bedrock.txt": ["reference/terraform-bedrock", "--ruleset", "bedrock-kb", "--show-passed"],
    "reference_terraform.json": ["reference/terraform", "--format", "json"],
    # --compact is the one-line-per-finding report of earlier versions, unchanged.
    "reference_terraform_compact.txt": ["reference/terraform", "--ruleset", "bedrock-kb", "--compact"],
    "article_as_published_quiet.txt": ["tests/fixtures/article_as_published", "--quiet", "--show-passed"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_report_matches_snapshot(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(CASES[name])
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(out.getvalue())
    assert path.is_file(), f"no snapshot {path.name}; run with UPDATE_SNAPSHOTS=1"
    assert out.getvalue() == path.read_text()
