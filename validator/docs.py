"""The rules table in Markdown, generated from the rule classes.

    python -m validator.docs                 # print the table
    python -m validator.docs --write README.md
    python -m validator.docs --check README.md   # exit 1 when README.md is stale

The table sits in README.md between ``<!-- rules:start -->`` and ``<!-- rules:end -->``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from validator.rules import Rule, all_rules
from validator.sources import ordered

START = "<!-- rules:start -->"
END = "<!-- rules:end -->"


class StaleError(Exception):
    """README.md has no markers, or cannot be read."""


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _severity(rule: Rule) -> str:
    text = rule.severity.value
    overrides = [f"{sev.value} in `{profile}`" for profile, sev in sorted(rule.profile_severity.items())]
    return f"{text} ({', '.join(overrides)})" if overrides else text


def _sources(rule: Rule) -> str:
    return ", ".join(ordered(rule.sources))


def rules_table(rules: Iterable[Rule] | None = None) -> str:
    """The Markdown table: one row per rule, in id order."""
    lines = [
        "| ID | Severity | Title | Sources | Reference |",
        "|---|---|---|---|---|",
    ]
    for rule in rules if rules is not None else all_rules():
        lines.append(
            f"| {rule.id} | {_severity(rule)} | {_cell(rule.title)} | {_sources(rule)} | [AWS docs]({rule.doc_url}) |"
        )
    return "\n".join(lines) + "\n"


def render(readme: str, table: str) -> str:
    """``readme`` with the text between the markers replaced by ``table``."""
    start = readme.find(START)
    end = readme.find(END)
    if start < 0 or end < 0 or end < start:
        raise StaleError(f"the markers {START} and {END} are missing or out of order")
    return readme[: start + len(START)] + "\n\n" + table + "\n" + readme[end:]


def is_current(readme: str, table: str | None = None) -> bool:
    return render(readme, table or rules_table()) == readme


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m validator.docs", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", metavar="README", type=Path, help="rewrite the table in this file")
    mode.add_argument("--check", metavar="README", type=Path, help="exit 1 when this file's table is stale")
    args = parser.parse_args(argv)
    table = rules_table()
    target: Path | None = args.write or args.check
    if target is None:
        sys.stdout.write(table)
        return 0
    try:
        readme = target.read_text(encoding="utf-8")
        updated = render(readme, table)
    except (OSError, UnicodeDecodeError, StaleError) as exc:
        print(f"{target}: error: {exc.strerror if isinstance(exc, OSError) else exc}", file=sys.stderr)
        return 2
    if args.check:
        if updated != readme:
            print(
                f"{target}: the rules table is stale; run python -m validator.docs --write {target}",
                file=sys.stderr,
            )
            return 1
        return 0
    if updated != readme:
        target.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
