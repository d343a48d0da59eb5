"""Every test reads and writes the parse cache in a temporary directory, never the user's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def _session_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def isolated_cache(_session_cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``XDG_CACHE_HOME`` for the test (and the processes it starts): one temporary directory per session.

    pip's download cache stays where it was, so the tests that install environments (pre-commit) do not
    download everything again.
    """
    if "PIP_CACHE_DIR" not in os.environ:
        home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        monkeypatch.setenv("PIP_CACHE_DIR", str(Path(home) / "pip"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(_session_cache_home))
    monkeypatch.delenv("AURORA_VALIDATE_CACHE_DIR", raising=False)
    monkeypatch.delenv("AURORA_VALIDATE_NO_CACHE", raising=False)
    yield _session_cache_home
