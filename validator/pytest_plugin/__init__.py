"""pytest plugin: the aurora-validate vocabulary for pytest-bdd scenarios.

Installed with aurora-validate (entry point ``pytest11``), so a team writes
only a ``.feature`` file and a one-line test module next to it::

    from pytest_bdd import scenarios; scenarios(".")

Every step works on a temporary COPY of a Terraform configuration, changes it
by editing its HCL text, runs the real command line in-process with
``--format json`` and reads the JSON report::

    Scenario: Serverless v1 engine mode is rejected
      Given the reference deployment "reference/terraform"
      And the aurora cluster's engine_mode is "serverless"
      When I validate it
      Then rule AV102 fails with severity error at "modules/aurora/aurora.tf" on the engine_mode line

The package: ``text`` (a file's text beside its syntax tree, and edits that
keep the rest as written), ``configuration`` (the copy, blocks named as a user
would, the edits steps make), ``runner`` (the in-process run, scenario state,
outcomes), ``errors``, ``bdd`` (pytest-bdd's decorators, if installed) and ``steps`` (the
vocabulary, registered through ``pytest_plugins``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from validator.pytest_plugin.bdd import given, parsers, then, when
from validator.pytest_plugin.errors import ConfigurationError
from validator.pytest_plugin.runner import OUTCOMES, AuroraScenario, Run, run_cli, select

if TYPE_CHECKING:
    from validator.pytest_plugin.configuration import ALIASES, BlockRef, TerraformCopy

_CONFIGURATION = ("ALIASES", "BlockRef", "TerraformCopy")


def __getattr__(name: str) -> Any:
    """The configuration's names on first use: pytest loads this package in every session, scenarios or not."""
    if name in _CONFIGURATION:
        from validator.pytest_plugin import configuration

        return getattr(configuration, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# pytest imports the steps itself, so that their asserts are rewritten (this package never imports them).
pytest_plugins = ["validator.pytest_plugin.steps"]

__all__ = [
    "ALIASES",
    "OUTCOMES",
    "AuroraScenario",
    "BlockRef",
    "ConfigurationError",
    "Run",
    "TerraformCopy",
    "given",
    "parsers",
    "run_cli",
    "select",
    "then",
    "when",
]
