"""The pre-commit hook, run by the real ``pre-commit try-repo`` on a copy of the reference.

``try-repo`` clones this repository at its committed HEAD and installs it into
a fresh hook environment (about half a minute with a warm pip cache, more on
a cold one), so the hook tested is the committed one. Each test pays that
install once: try-repo keeps its hook environments in a temporary store.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
HOOK_ID = "aurora-validate"
NETWORK_TROUBLE = (
    "Could not find a version that satisfies",
    "No matching distribution found",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
)


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def head() -> str:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    try:
        sha = _git(REPO, "rev-parse", "HEAD")
        hooks = _git(REPO, "show", f"{sha}:.pre-commit-hooks.yaml")
    except subprocess.CalledProcessError:
        pytest.skip("this checkout is not a git repository with .pre-commit-hooks.yaml committed")
    assert any(h["id"] == HOOK_ID for h in yaml.safe_load(hooks))
    return sha


@pytest.fixture(scope="module")
def precommit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture()
def user_repo(tmp_path: Path) -> Path:
    """A user's repository holding the reference as infra/, committed."""
    repo = tmp_path / "user-repo"
    shutil.copytree(REFERENCE, repo / "infra")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "infra")
    return repo


def try_repo(repo: Path, head: str, home: Path, *files: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["PRE_COMMIT_HOME"] = str(home)
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), HOOK_ID, "--ref", head, "--files", *files]
    start = time.monotonic()
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.monotonic() - start
    output = done.stdout + done.stderr
    if done.returncode not in (0, 1) or "An unexpected error has occurred" in output:
        if any(sign in output for sign in NETWORK_TROUBLE):
            pytest.skip("pre-commit could not install the hook's dependencies (no package index reachable)")
        pytest.fail(f"pre-commit try-repo failed ({done.returncode}):\n{output[-4000:]}")
    print(f"pre-commit try-repo {' '.join(files)}: {elapsed:.1f} s (including the hook environment install)")
    return done, elapsed


def set_attribute(path: Path, name: str, value: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    (index,) = [n for n, text in enumerate(lines) if text.strip().startswith(f"{name} ")]
    lines[index] = f"  {name} = {value}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_hook_fails_on_serverless_v1_and_validates_the_root_once(
    user_repo: Path, head: str, precommit_home: Path
) -> None:
    set_attribute(user_repo / "infra/modules/aurora/aurora.tf", "engine_mode", '"serverless"')
    files = ("infra/modules/aurora/aurora.tf", "infra/main.tf", "infra/variables.tf")
    done, _ = try_repo(user_repo, head, precommit_home, *files)
    output = done.stdout
    assert done.returncode == 1, output
    assert "Failed" in output and f"- hook id: {HOOK_ID}" in output
    lines = output.splitlines()
    av102 = [i for i, line in enumerate(lines) if line.strip().startswith("error AV102 ")]
    assert len(av102) == 1  # three changed files, one root module, one scan
    assert lines[av102[0] + 1].strip().startswith("--> infra/modules/aurora/aurora.tf:")
    assert "in 1 root module" in output


@pytest.mark.slow
def test_hook_passes_on_a_good_change(user_repo: Path, head: str, precommit_home: Path) -> None:
    aurora = user_repo / "infra/modules/aurora/aurora.tf"
    set_attribute(aurora, "max_capacity", "8")
    done, _ = try_repo(user_repo, head, precommit_home, "infra/modules/aurora/aurora.tf")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout


def test_hook_definition_selects_terraform_files() -> None:
    (hook,) = [h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text()) if h["id"] == HOOK_ID]
    assert hook["entry"] == "aurora-validate" and hook["language"] == "python"
    assert hook["pass_filenames"] is True
    assert hook["require_serial"] is True  # one process sees every file, so each root is scanned once
    pattern = re.compile(hook["files"])
    for name in (
        "main.tf",
        "modules/aurora/aurora.tf",
        "env/dev.tfvars",
        "terraform.tfvars.json",
        "prod.auto.tfvars.json",
    ):
        assert pattern.search(name), name
    for name in ("README.md", "main.tf.json", "plan.tfplan", "terraform.tfstate"):
        assert not pattern.search(name), name
