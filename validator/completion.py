"""``aurora-validate completion bash|zsh|tcsh``: a shell completion script generated from the parsers.

The script comes from the same argparse parsers the commands use (through ``shtab``),
so a new option completes with no change here. shtab is imported only by this command.

    aurora-validate completion bash > ~/.local/share/bash-completion/completions/aurora-validate
    aurora-validate completion zsh > "${fpath[1]}/_aurora-validate"
"""

from __future__ import annotations

import argparse
import sys

SHELLS = ("bash", "zsh", "tcsh")
_FILES = {"bash": "_shtab_compgen_files", "zsh": "_files", "tcsh": "f"}
_DIRS = {"bash": "_shtab_compgen_dirs", "zsh": "_files -/", "tcsh": "d"}


def completion_parser() -> argparse.ArgumentParser:
    """The scan parser with every other command as a subcommand, for completion only."""
    from validator import demo
    from validator.cli import SUBCOMMANDS, add_output_options, build_parser
    from validator.commands import db, export

    parser = build_parser()
    for action in parser._actions:
        if action.dest == "paths":
            action.complete = _FILES  # type: ignore[attr-defined]
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("rules", help="list the rule catalogue").add_argument("--format", "-f", choices=("text", "json"))
    explain = sub.add_parser("explain", help="rationale, AWS documentation and Terraform fix of a rule")
    explain.add_argument("rule_id", metavar="ID", choices=_rule_ids())
    explain.add_argument("--format", "-f", choices=("text", "json"))
    database = sub.add_parser("db", help="check the database itself")
    db.add_arguments(database)
    database.add_argument("paths", nargs="*", metavar="TERRAFORM_DIR").complete = _DIRS  # type: ignore[attr-defined]
    add_output_options(database)
    _adopt(sub, "demo", demo.build_parser(), "deploy the reference to a local AWS endpoint and audit it")
    _adopt(sub, "export", export.build_parser(), "write checkov policies, or import findings into Security Hub")
    sub.add_parser("completion", help="print a shell completion script").add_argument("shell", choices=SHELLS)
    assert set(sub.choices) == set(SUBCOMMANDS), "every command completes"
    return parser


def _adopt(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, own: argparse.ArgumentParser, help_text: str
) -> None:
    parser = sub.add_parser(name, help=help_text, description=own.description)
    for action in own._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        parser._add_action(action)


def _rule_ids() -> list[str]:
    from validator.rules import all_rules

    return [rule.id for rule in all_rules()]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="aurora-validate completion",
        description="Print a shell completion script for aurora-validate.",
        epilog="bash: aurora-validate completion bash > ~/.local/share/bash-completion/completions/aurora-validate\n"
        'zsh:  aurora-validate completion zsh > "${fpath[1]}/_aurora-validate"',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("shell", choices=SHELLS)
    args = parser.parse_args(argv)
    try:
        import shtab
    except ImportError:
        print("aurora-validate: error: completion needs shtab (pip install shtab)", file=sys.stderr)
        return 2
    sys.stdout.write(shtab.complete(completion_parser(), shell=args.shell))
    return 0
