"""Hostile input never makes a traceback, a hang, a memory blow-up or a leak.

The corpus (tests/hostile_inputs.py) runs in process over every output
format and the baseline file; the heaviest cases also run as their own
process under an address-space limit, with their peak memory measured;
hypothesis adds generated expressions and mutated reference files.
``make fuzz`` runs thousands more and prints the counts.
"""

from __future__ import annotations

import random

import pytest
from hostile_inputs import PEAK_RSS_LIMIT_MB, corpus, generated_case, run_in_process, run_subprocess
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CASES = corpus()
# The costliest cases for time and memory, each in its own bounded process.
HEAVY = {"count 100000000", "4 MB of attributes", "billion laughs (strings)", "billion laughs (lists, jsonencode)",
         "ranges built in a for expression", "50 MB string literal", "--plan /dev/zero", "--plan a FIFO",
         "nested for 10000 x 10000", 'format("%0999999999d")', "terraform.tfvars.json nested deep"}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.kind}: {c.name}" for c in CASES])
def test_hostile_input_in_every_format(case) -> None:
    outcome = run_in_process(case, timeout=60)
    assert outcome.problems == [], outcome.problems


@pytest.mark.parametrize("case", [c for c in CASES if c.name in HEAVY], ids=lambda c: c.name)
def test_hostile_input_in_its_own_bounded_process(case) -> None:
    outcome = run_subprocess(case, "json", timeout=60)
    assert outcome.problems == [], outcome.problems
    assert outcome.peak_mb < PEAK_RSS_LIMIT_MB, f"peak memory {outcome.peak_mb:.0f} MB"


def test_the_heavy_cases_are_in_the_corpus() -> None:
    assert {c.name for c in CASES} >= HEAVY


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.integers(min_value=0, max_value=2**32))
def test_generated_input(seed: int) -> None:
    case = generated_case(random.Random(seed), seed)
    outcome = run_in_process(case, formats=("json", "sarif"), timeout=60)
    assert outcome.problems == [], (case.name, case.files.get("main.tf", "")[:2000], outcome.problems)
