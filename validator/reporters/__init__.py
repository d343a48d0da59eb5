"""Reporters turn a Report into text for people or machines."""

from __future__ import annotations

import importlib

from validator.engine import Report

FORMATS = {
    "text": "validator.reporters.text",
    "json": "validator.reporters.json_report",
    "sarif": "validator.reporters.sarif",
    "junit": "validator.reporters.junit",
    "github": "validator.reporters.github",
}


def render(report: Report, fmt: str, show_passed: bool = False, color: bool = False) -> str:
    module = importlib.import_module(FORMATS[fmt])
    return module.render(report, show_passed=show_passed, color=color)
