"""Agreement of the HCL evaluator with terraform, on the curated table and generated expressions.

    .venv/bin/python bench/bench_oracle.py [--generated N] [--seed S]

Prints: expressions compared, agreed, claimed-known rate, terraform failures and how many of them
the evaluator left unknown, functions covered of terraform's list, and the time each side took.
The rule checked is the test suite's: a value the evaluator claims known equals terraform's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import tforacle  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402

from validator.sources.terraform.hcl.functions import FUNCTIONS, NOT_STATIC  # noqa: E402


def generated(count: int, seed: int) -> list[str]:
    exprs: list[str] = []

    @hypothesis_seed(seed)
    @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(tforacle.strategies())
    def collect(expr: str) -> None:
        exprs.append(expr)

    collect()
    return list(dict.fromkeys(exprs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=5000, help="generated expressions (default 5000)")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--show", type=int, default=10, help="disagreements to print")
    args = parser.parse_args()
    if tforacle.TERRAFORM is None:
        print("terraform is not on PATH: it is the oracle")
        return 2
    from test_terraform_oracle import CURATED

    started = time.monotonic()
    exprs = list(dict.fromkeys(CURATED)) + generated(args.generated, args.seed)
    gen_time = time.monotonic() - started
    started = time.monotonic()
    ours = [tforacle.ours(e) for e in exprs]
    ours_time = time.monotonic() - started
    started = time.monotonic()
    theirs = tforacle.terraform_batched(exprs)
    tf_time = time.monotonic() - started
    outcomes = [tforacle.Outcome(e, o, t) for e, o, t in zip(exprs, ours, theirs, strict=True)]

    claimed = [o for o in outcomes if o.claimed]
    agreed = [o for o in outcomes if o.agrees]
    failed = [o for o in outcomes if isinstance(o.theirs, tforacle.Failed)]
    known_by_tf = len(outcomes) - len(failed)
    names = tforacle.terraform_functions()
    evaluated = (set(FUNCTIONS) | {"try", "can"}) & set(names)
    called = tforacle.functions_called(exprs)
    curated = len(set(CURATED))
    print(f"expressions compared:   {len(outcomes)} ({curated} curated, {len(outcomes) - curated} generated)")
    print(f"agreed:                 {len(agreed)} ({100 * len(agreed) / len(outcomes):.2f} %)")
    print(f"claimed known:          {len(claimed)} ({100 * len(claimed) / len(outcomes):.1f} % of all, "
          f"{100 * len(claimed) / max(known_by_tf, 1):.1f} % of those terraform knows)")
    print(f"claimed and equal:      {sum(1 for o in claimed if o.agrees)} of {len(claimed)}")
    print(f"terraform failed:       {len(failed)}, of which the evaluator claimed a value: "
          f"{sum(1 for o in failed if o.claimed)}")
    print(f"functions evaluated:    {len(evaluated)} of terraform's {len(names)} "
          f"({len(set(NOT_STATIC) & set(names))} more stay unknown with a reason)")
    print(f"functions exercised:    {len(called & set(names))} of terraform's {len(names)}")
    print(f"time: generate {gen_time:.1f} s, evaluator {ours_time:.1f} s "
          f"({1000 * ours_time / len(outcomes):.2f} ms each), terraform {tf_time:.1f} s")
    bad = [o for o in outcomes if not o.agrees]
    for o in bad[: args.show]:
        print(f"DISAGREE {o.expr!r}\n    ours:      {o.ours!r:.300}\n    terraform: {o.theirs!r:.300}")
    return 0 if not bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
