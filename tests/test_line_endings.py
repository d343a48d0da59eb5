"""Input as terraform reads it: line endings, byte order marks, tabs, a last line without newline.

Every variant of the reference configurations below is valid Terraform (terraform 1.11 plans the
CRLF, BOM, tab and no-final-newline forms; lone CR is read as a line ending too). Each must parse
and give the same findings, statuses and lines as the original.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from validator.engine import evaluate
from validator.sources.terraform.hcl import load_root
from validator.sources.terraform.hcl import syntax as s

REPO = Path(__file__).resolve().parent.parent
REFERENCES = [REPO / "reference" / "terraform", REPO / "reference" / "terraform-bedrock"]


def _crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def _cr(text: str) -> str:
    return text.replace("\n", "\r")


def _bom(text: str) -> str:
    return "\ufeff" + text


def _no_final_newline(text: str) -> str:
    return text.rstrip("\n")


def _tabs(text: str) -> str:
    # Leading indentation as tabs, one per two spaces, as editors configured for tabs write it.
    return re.sub(r"(?m)^((?:  )+)", lambda m: "\t" * (len(m.group(1)) // 2), text)


def _mixed(text: str) -> str:
    # Files edited on two systems: every other line ends in CRLF.
    lines = text.split("\n")
    return "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines[:-1])) + lines[-1]


def _trailing_blanks(text: str) -> str:
    return re.sub(r"(?m)$", " \t", text.rstrip("\n")) + "\n"


VARIANTS: dict[str, Callable[[str], str]] = {
    "crlf": _crlf,
    "lone-cr": _cr,
    "bom": _bom,
    "bom-crlf": lambda t: _bom(_crlf(t)),
    "no-final-newline": _no_final_newline,
    "crlf-no-final-newline": lambda t: _no_final_newline(_crlf(t)),
    "tabs": _tabs,
    "tabs-crlf": lambda t: _crlf(_tabs(t)),
    "mixed-endings": _mixed,
    "trailing-blanks": _trailing_blanks,
}


def _findings(root: Path) -> list[tuple[str, str, str, str | None, int | None, str]]:
    loaded = load_root(root)
    assert not loaded.errors, [str(e) for e in loaded.errors]
    return sorted(
        (f.rule_id, f.status.value if hasattr(f.status, "value") else str(f.status), f.result.resource,
         f.result.location.file, f.result.location.line, f.result.message)
        for f in evaluate(loaded.deployment)
    )


def _variant_copy(source: Path, dest: Path, transform: Callable[[str], str]) -> Path:
    shutil.copytree(source, dest)
    for path in dest.rglob("*"):
        if path.suffix in (".tf", ".tfvars"):
            path.write_bytes(transform(path.read_text(encoding="utf-8")).encode("utf-8"))
    return dest


@pytest.fixture(scope="module")
def originals() -> dict[str, list[tuple[str, str, str, str | None, int | None, str]]]:
    return {ref.name: _findings(ref) for ref in REFERENCES}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("reference", REFERENCES, ids=lambda p: p.name)
def test_reference_variants_give_the_same_findings(
    tmp_path: Path, originals: dict[str, list[tuple[str, str, str, str | None, int | None, str]]],
    reference: Path, variant: str,
) -> None:
    root = _variant_copy(reference, tmp_path / reference.name, VARIANTS[variant])
    expected = originals[reference.name]
    assert expected, "the reference yields findings"
    assert any(line for *_, line, _msg in expected), "findings carry lines"
    assert _findings(root) == expected


HEREDOCS = """locals {
  plain = <<EOT
hello
  world
EOT
  indented = <<-EOT
    in
      dent
    EOT
  templated = <<EOT
v${local.x}
EOT
  x = "1"
}
output "after" { value = local.x }
"""


def _values(text: str) -> dict[str, tuple[int, object]]:
    pf = s.parse_text(text, Path("main.tf"), "main.tf")
    out: dict[str, tuple[int, object]] = {}
    for block in pf.body.blocks:
        for name, attr in block.body.attributes.items():
            out[name] = (attr.line, attr.expr)
        out[f"{block.type}:{block.line}"] = (block.line, block.end_line)
    return out


def test_heredocs_keep_crlf_as_terraform_does() -> None:
    # terraform 1.11: a heredoc in a CRLF file keeps "\r\n" between its lines; lines are those of the LF file.
    lf, crlf = _values(HEREDOCS), _values(_crlf(HEREDOCS))
    assert {k: v[0] for k, v in crlf.items()} == {k: v[0] for k, v in lf.items()}
    assert crlf["plain"][1] == s.Literal(2, "hello\r\n  world\r\n")
    assert crlf["indented"][1] == s.Literal(6, "in\r\n  dent\r\n")
    templated = crlf["templated"][1]
    assert isinstance(templated, s.Template)
    assert templated.parts[0] == "v" and templated.parts[-1] == "\r\n"
    assert lf["plain"][1] == s.Literal(2, "hello\n  world\n")


def test_byte_order_mark_is_not_part_of_the_first_token() -> None:
    assert _values("\ufefflocals {\n  a = 1\n}")["a"] == (2, s.Literal(2, 1))


def test_line_numbers_of_a_parse_error_are_those_of_the_lf_file() -> None:
    text = 'locals {\n  a = 1\n  b = = 2\n}\n'
    for variant in (text, _crlf(text), _cr(text), _bom(_crlf(text))):
        with pytest.raises(Exception, match=r"main\.tf:3: parse error"):
            s.parse_text(variant, Path("main.tf"), "main.tf")
