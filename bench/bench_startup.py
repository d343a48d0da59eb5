"""Where a fresh ``aurora-validate reference/terraform --format json`` spends its time.

    python bench/bench_startup.py               # CPU time of each phase, cold and warm parse cache
    python bench/bench_startup.py --valgrind    # instructions too (deterministic; about a minute a run)

A run is cumulative phases in fresh processes: the interpreter alone, the CLI module,
the HCL source (model, syntax tree, evaluator, parse cache), the rule catalogue, the
configuration and JSON reporter, then the whole scan; each phase's cost is the
difference from the one before. On a machine shared with other work CPU times vary
by tens of percent from run to run, so the medians of ``--runs`` runs are given and,
with ``--valgrind``, the instruction counts of ``valgrind --tool=cachegrind``, which
do not vary with the load (with ``PYTHONHASHSEED=0``): compare those before and after
a change. The parse cache lives in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PHASES = [
    ("interpreter and site", ""),
    ("validator.cli", "import validator.cli"),
    ("HCL source and parse cache", "import validator.sources.terraform.hcl, validator.sources.terraform.hcl.cache"),
    ("rule catalogue", "from validator.rules import all_rules; all_rules()"),
    ("configuration, JSON reporter", "import validator.config, tomllib, validator.reporters.json_report"),
    ("scan, report, exit", "validator.cli.main(['reference/terraform', '--format', 'json'])"),
]


def program(upto: int) -> str:
    return "\n".join(code for _label, code in PHASES[: upto + 1] if code)


def cpu_seconds(code: str, env: dict[str, str]) -> float:
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, _status, usage = os.wait4(proc.pid, 0)
    return usage.ru_utime + usage.ru_stime


def instructions(code: str, env: dict[str, str]) -> int | None:
    done = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", sys.executable, "-c",
         code],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
    )
    m = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    return int(m.group(1).replace(",", "")) if m else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per phase and cache state")
    parser.add_argument("--valgrind", action="store_true", help="count instructions with valgrind too")
    args = parser.parse_args()
    if args.valgrind and shutil.which("valgrind") is None:
        parser.error("valgrind is not installed")

    base_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "AURORA_VALIDATE_NO_CACHE",
                                                                   "AURORA_VALIDATE_CACHE_DIR")}
    base_env["PYTHONHASHSEED"] = "0"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "validator")], env=base_env, check=True)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("| phase | cache | cpu ms (median) | cumulative cpu ms | instructions (M) | cumulative (M) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        for state in ("cold", "warm"):
            before_cpu, before_ins = 0.0, 0
            for upto, (label, _code) in enumerate(PHASES):
                code = program(upto)
                last = upto == len(PHASES) - 1
                if state == "cold" and not last:
                    continue  # phases before the scan read no cache: the same cold and warm
                env = {**base_env, "XDG_CACHE_HOME": str(Path(tmp) / state)}
                samples = []
                for _ in range(args.runs):
                    if state == "cold":
                        shutil.rmtree(Path(tmp) / state, ignore_errors=True)
                    elif not (Path(tmp) / state).exists():
                        cpu_seconds(program(len(PHASES) - 1), env)  # fill the cache
                    samples.append(cpu_seconds(code, env))
                cpu = statistics.median(samples) * 1000
                ins = None
                if args.valgrind:
                    if state == "cold":
                        shutil.rmtree(Path(tmp) / state, ignore_errors=True)
                    ins = instructions(code, env)
                own_cpu = cpu - before_cpu if state == "warm" else cpu
                own_ins = (ins - before_ins if state == "warm" else ins) if ins is not None else None
                shown = "whole run" if state == "cold" else label
                print(f"| {shown} | {state} | {own_cpu:.0f} | {cpu:.0f} | "
                      f"{'-' if own_ins is None else f'{own_ins / 1e6:.0f}'} | "
                      f"{'-' if ins is None else f'{ins / 1e6:.0f}'} |", flush=True)
                before_cpu, before_ins = cpu, ins or 0
    load = os.getloadavg()
    print(f"\nload average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end; medians of {args.runs} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
