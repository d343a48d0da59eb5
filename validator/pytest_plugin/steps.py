"""The step vocabulary: pytest-bdd steps and the fixtures they share (nothing without pytest-bdd).

Given steps copy a configuration and change the copy's HCL text; When steps
run the command line; Then steps read its JSON report. Paths are looked up from
the test module's directory, pytest's rootdir and the current directory.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from validator.pytest_plugin.bdd import given, parsers, then, when
from validator.pytest_plugin.errors import ConfigurationError
from validator.pytest_plugin.runner import AuroraScenario, Run, run_cli, select

if TYPE_CHECKING:  # pytest loads this module in every session: the syntax tree's modules load with the first copy
    from validator.pytest_plugin.configuration import BlockRef, TerraformCopy


@pytest.fixture
def aurora_runners() -> dict[str, Callable[[AuroraScenario, list[str]], Run]]:
    """Ways to run ``When I run aurora-validate MODE``; override in a conftest to add modes (live, db)."""
    return {}


@pytest.fixture
def aurora_scenario(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    aurora_runners: dict[str, Callable[[AuroraScenario, list[str]], Run]],
) -> Iterator[AuroraScenario]:
    """Per-scenario state; paths are looked up from the test's directory, the rootdir and the cwd."""
    test_dir = Path(str(request.node.path)).parent
    search: list[Path] = []
    for base in (test_dir, request.config.rootpath, Path.cwd()):
        if base not in search:
            search.append(base)
    yield AuroraScenario(workdir=tmp_path, search=search, runners=dict(aurora_runners))


def _step(kind: Callable[..., Any] | None, pattern: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    if kind is None:
        return lambda fn: fn  # pytest-bdd is not installed
    decorator: Callable[[Callable[..., Any]], Callable[..., Any]] = kind(parsers.re(pattern))
    return decorator


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


# -- Given: configurations and changes to them --------------------------------


@_step(given, r'(?:the reference deployment|the Terraform configuration|a copy of) "(?P<path>[^"]+)"')
def _given_configuration(aurora_scenario: AuroraScenario, path: str) -> None:
    aurora_scenario.copy(path)


@_step(given, r"the variable \"(?P<name>[\w-]+)\" defaults to (?P<value>.+)")
def _given_variable_default(aurora_scenario: AuroraScenario, name: str, value: str) -> None:
    config = aurora_scenario.need_config()
    ref = config.variable(name)
    config.set(ref, "default", value.strip())
    aurora_scenario.target = ref


def _edit(scenario: AuroraScenario, target: str, change: Callable[[TerraformCopy, BlockRef], None]) -> None:
    """Change the block ``target`` names in the scenario's copy; later steps may say "on the ARG line" of it."""
    config = scenario.need_config()
    ref = config.find(target)
    change(config, ref)
    scenario.target = ref


@_step(given, r"(?P<target>the .+?)'s (?P<path>[\w.-]+) is (?P<value>.+)")
def _given_argument(aurora_scenario: AuroraScenario, target: str, path: str, value: str) -> None:
    _edit(aurora_scenario, target, lambda config, ref: config.set(ref, path, value.strip()))


@_step(given, r"(?P<target>the .+?) (?:has no|does not set) (?P<path>[\w.-]+)(?: block| argument)?")
def _given_removed(aurora_scenario: AuroraScenario, target: str, path: str) -> None:
    _edit(aurora_scenario, target, lambda config, ref: config.remove(ref, path))


@_step(given, r"(?P<target>the .+?) also has:")
def _given_block_text(aurora_scenario: AuroraScenario, target: str, docstring: str) -> None:
    _edit(aurora_scenario, target, lambda config, ref: config.append(ref, docstring))


@_step(given, r'the file "(?P<file>[^"]+)" (?:also )?contains:')
def _given_file_text(aurora_scenario: AuroraScenario, file: str, docstring: str) -> None:
    aurora_scenario.need_config().add_file_text(file, docstring)


@_step(given, r'in "(?P<file>[^"]+)" the text "(?P<old>.+)" is replaced by "(?P<new>.*)"$')
def _given_replaced(aurora_scenario: AuroraScenario, file: str, old: str, new: str) -> None:
    aurora_scenario.need_config().replace_text(file, old, new)


# -- When: running the command ---------------------------------------------------


def _validate(scenario: AuroraScenario, extra: list[str]) -> None:
    config = scenario.need_config()
    scenario.run = run_cli([str(config.root), *extra], scenario.workdir / "reports")


@_step(when, r"I validate it$")
def _when_validate(aurora_scenario: AuroraScenario) -> None:
    _validate(aurora_scenario, [])


@_step(when, r"I validate it with the (?P<profile>[\w-]+) profile")
def _when_validate_profile(aurora_scenario: AuroraScenario, profile: str) -> None:
    _validate(aurora_scenario, ["--ruleset", profile])


@_step(when, r'I validate it with "(?P<args>[^"]*)"')
def _when_validate_args(aurora_scenario: AuroraScenario, args: str) -> None:
    _validate(aurora_scenario, shlex.split(args))


@_step(when, r'I run aurora-validate (?P<mode>[\w-]+)(?: with "(?P<args>[^"]*)")?')
def _when_run_mode(aurora_scenario: AuroraScenario, mode: str, args: str | None) -> None:
    runner = aurora_scenario.runners.get(mode)
    if runner is None:
        known = ", ".join(sorted(aurora_scenario.runners)) or "none"
        raise ConfigurationError(f"no way to run aurora-validate {mode} here (known: {known})")
    aurora_scenario.run = runner(aurora_scenario, shlex.split(args or ""))


# -- Then: outcomes ----------------------------------------------------------------

_OUTCOME = (
    r"rule (?P<rule>AV\d{3}) (?P<outcome>fails|passes|is unresolved)"
    r"(?: with severity (?P<severity>error|warning|info))?"
    r'(?: for "(?P<resource>[^"]+)")?'
    r'(?: at "(?P<file>[^"]+)"'
    r"(?: on (?:the (?P<attr>[\w.-]+) line|line (?P<line>\d+)|the first line of (?P<block>the .+)))?)?$"
)


@_step(then, _OUTCOME)
def _then_outcome(
    aurora_scenario: AuroraScenario,
    rule: str,
    outcome: str,
    severity: str | None,
    resource: str | None,
    file: str | None,
    attr: str | None,
    line: str | None,
    block: str | None,
) -> None:
    run = aurora_scenario.need_run()
    lines: list[int] | None = None
    if file and attr:
        config = aurora_scenario.need_config()
        within = aurora_scenario.target
        lines = config.line_of(file, attr, within) or config.line_of(file, attr)
        if not lines:
            raise ConfigurationError(f"{file} sets no {attr}")
    elif file and line:
        lines = [int(line)]
    elif file and block:
        config = aurora_scenario.need_config()
        lines = [config.block_line(config.find(block))]
    hits = select(run, rule, outcome, severity, resource, file, lines)
    wanted = " ".join(
        p
        for p in (
            rule,
            outcome,
            severity and f"severity {severity}",
            resource,
            file and f"at {file}",
            lines and f"line {lines}",
        )
        if p
    )
    assert hits, f"expected {wanted}\n{run.describe()}"
    aurora_scenario.matched = hits


@_step(then, r'(?:its|the) message (?:says|mentions) "(?P<text>.+)"$')
def _then_message(aurora_scenario: AuroraScenario, text: str) -> None:
    matched = aurora_scenario.matched
    assert matched, "no finding was matched by an earlier Then step"
    assert any(text in f["message"] for f in matched), f"no matched finding says {text!r}:\n" + "\n".join(
        f"  {f['message']}" for f in matched
    )


@_step(then, r"rule (?P<rule>AV\d{3}) is suppressed")
def _then_suppressed(aurora_scenario: AuroraScenario, rule: str) -> None:
    run = aurora_scenario.need_run()
    suppressed = [f for f in (run.report or {}).get("suppressed", []) if f.get("rule_id") == rule]
    assert suppressed, f"rule {rule} is not suppressed\n{run.describe()}"
    assert not run.of_rule(rule), f"rule {rule} is suppressed but still reported\n{run.describe()}"
    aurora_scenario.matched = suppressed


@_step(then, r"rule (?P<rule>AV\d{3}) is not reported")
def _then_absent(aurora_scenario: AuroraScenario, rule: str) -> None:
    run = aurora_scenario.need_run()
    assert not run.of_rule(rule), f"rule {rule} was reported\n{run.describe()}"


@_step(then, r"no rule fails")
def _then_no_failure(aurora_scenario: AuroraScenario) -> None:
    run = aurora_scenario.need_run()
    assert run.report is not None, run.describe()
    failed = [f for f in run.findings if f["status"] == "fail"]
    assert not failed, f"failures found\n{run.describe()}"
    assert run.findings, f"no finding at all: nothing was checked\n{run.describe()}"


@_step(then, r"the exit code is (?P<code>\d+)")
def _then_exit(aurora_scenario: AuroraScenario, code: str) -> None:
    run = aurora_scenario.need_run()
    assert run.exit_code == int(code), run.describe()


@_step(then, r'the (?:report|output) (?:does not|never) (?:contains?|shows?) "(?P<text>.+)"$')
def _then_not_in_output(aurora_scenario: AuroraScenario, text: str) -> None:
    run = aurora_scenario.need_run()
    assert run.stdout or run.stderr, "the run produced no output at all"
    assert text not in run.stdout and text not in run.stderr, f"{text!r} appears in the output"


@_step(then, r'the error says "(?P<text>.+)"$')
def _then_error(aurora_scenario: AuroraScenario, text: str) -> None:
    run = aurora_scenario.need_run()
    errors = [f"{e.get('where')}: {e.get('message')}" for e in (run.report or {}).get("errors", [])]
    lines = [line for line in run.stderr.splitlines() if line.strip()] + errors
    assert any(text in line for line in lines), f"no error says {text!r}\n{run.describe()}"
    assert "Traceback" not in run.stderr, run.stderr
