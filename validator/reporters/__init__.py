"""Reporters turn a Report into text for people or machines.

A reporter is a module with ``render(report, show_passed=False, color=False, **options) -> str``;
registering it in ``FORMATS`` makes it a ``--format`` value and a ``--report FMT=FILE`` format.
Options a reporter does not take (the text report's ``compact`` and ``quiet``) are not passed to it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the registry is imported by the command line's parser, which stays light
    from validator.findings import Report

FORMATS = {
    "text": "validator.reporters.text",
    "json": "validator.reporters.json_report",
    "sarif": "validator.reporters.sarif",
    "junit": "validator.reporters.junit",
    "github": "validator.reporters.github",
    "html": "validator.reporters.html",
    "asff": "validator.reporters.asff",
    "ocsf": "validator.reporters.ocsf",
}

# Formats that draw each deployment, not only its findings: a static run writing one keeps every
# deployment whole (others keep an outline: kind, root, provider and account).
MODEL_FORMATS = frozenset({"html"})


def render(report: Report, fmt: str, show_passed: bool = False, color: bool = False, **options: Any) -> str:
    import inspect

    module = importlib.import_module(FORMATS[fmt])
    accepted = inspect.signature(module.render).parameters
    extra = {k: v for k, v in options.items() if k in accepted}
    text: str = module.render(report, show_passed=show_passed, color=color, **extra)
    return text
