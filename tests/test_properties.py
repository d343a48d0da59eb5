"""Properties that must hold for any input: no tracebacks, stable verdicts, no leaked secrets."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator import reporters
from validator.cli import main

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "terraform"
AURORA_TF = "modules/aurora/aurora.tf"
FORMATS = tuple(reporters.FORMATS)  # every registered format, a new one included

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextlib.contextmanager
def reference_copy() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "terraform"
        shutil.copytree(REFERENCE, root)
        yield root


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def verdicts(root: Path) -> set[tuple[str, str, str]]:
    code, out, err = run(str(root), "--format", "json", "--show-passed")
    assert code in (0, 1), err
    return {(f["rule_id"], f["status"], f["resource"]) for f in json.loads(out)["findings"]}


def assert_clean_failure(code: int, err: str) -> None:
    assert code in (0, 1, 2)
    assert "Traceback" not in err
    for line in err.splitlines():
        assert line.startswith("aurora-validate: "), line


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_produce_a_traceback(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "main.tf").write_bytes(data)
        code, _out, err = run(tmp, "--format", "json")
        assert_clean_failure(code, err)


@SETTINGS
@given(st.data())
def test_near_hcl_text_never_produces_a_traceback(data: st.DataObject) -> None:
    text = (REFERENCE / AURORA_TF).read_text()
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(text)), st.sampled_from(
        ["", "{", "}", '"', "=", "${", "[", "]", "(", "\n", "#", "var.", "module.x.", "count.index", "<<EOT\n"]
    ), st.integers(0, 3)), min_size=1, max_size=4))
    for pos, insert, delete in edits:
        text = text[:pos] + insert + text[pos + delete:]
    with reference_copy() as root:
        (root / AURORA_TF).write_text(text)
        code, _out, err = run(str(root), "--format", "json")
        assert_clean_failure(code, err)


BASELINE: set[tuple[str, str, str]] | None = None


def baseline_verdicts() -> set[tuple[str, str, str]]:
    global BASELINE
    if BASELINE is None:
        BASELINE = verdicts(REFERENCE)
    return BASELINE


def _blocks(text: str) -> list[str]:
    """Resource blocks of a Terraform file (the reference's style: closing brace in column 0)."""
    return re.findall(r"^resource\b.*?^\}[^\n]*\n", text, re.S | re.M)


@SETTINGS
@given(st.randoms(use_true_random=False))
def test_verdicts_survive_reformatting_reordering_and_splitting(rng: random.Random) -> None:
    with reference_copy() as root:
        path = root / AURORA_TF
        text = path.read_text()
        blocks = _blocks(text)
        assert len(blocks) == 3
        reshaped = []
        for block in blocks:
            head, *body, tail = block.rstrip("\n").split("\n")
            lines = [line for line in body if line.strip()]
            # Reorder single-line attributes; keep nested blocks and comments where they are.
            singles = [i for i, line in enumerate(lines) if re.match(r"^  \w+\s*=\s*[^{\[]*$", line)]
            moved = [lines[i] for i in singles]
            rng.shuffle(moved)
            for i, line in zip(singles, moved, strict=True):
                lines[i] = line
            # Reformat: extra indentation, padding around '=' and blank lines.
            pad = " " * rng.randint(0, 3)
            lines = [pad + re.sub(r"\s*=\s*", " " * rng.randint(1, 3) + "= ", line, count=1) for line in lines]
            reshaped.append("\n".join([head, *lines, tail]) + "\n\n")
        preamble = text[: text.index(blocks[0])]
        if rng.random() < 0.5:
            path.write_text(preamble + "".join(reshaped))
        else:  # split each resource into its own file
            path.write_text(preamble)
            for n, block in enumerate(reshaped):
                (root / "modules" / "aurora" / f"part{n}.tf").write_text(block)
        assert verdicts(root) == baseline_verdicts()


PASSWORD_ALPHABET = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters='"\\$%{}'
)


@SETTINGS
@given(st.text(PASSWORD_ALPHABET, min_size=8, max_size=40))
def test_a_master_password_never_appears_in_any_output(secret: str) -> None:
    password = "Zq7!" + secret  # a prefix no report text contains
    with reference_copy() as root:
        variables = root / "variables.tf"
        variables.write_text(variables.read_text().replace('"tiger111!"', json.dumps(password, ensure_ascii=False)))
        for fmt in FORMATS:
            # ASFF names the account whose Security Hub imports the findings.
            with mock.patch.dict(os.environ, {"AWS_ACCOUNT_ID": "123456789012", "AWS_REGION": "us-east-1"}):
                code, out, err = run(str(root), "--format", fmt, "--show-passed")
            assert code == 0, err
            assert password not in out and password not in err
            assert "tiger111!" not in out
