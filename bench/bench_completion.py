"""What shell completion costs: shtab's import, generating a script, and (for comparison) --version.

The completion script is generated once (``aurora-validate completion bash > file``) and then
completes in the shell without starting Python, so only the generation pays for shtab; the
scan's start-up never imports it.

    .venv/bin/python bench/bench_completion.py [RUNS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def wall(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=REPO, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_us(module: str, runs: int) -> float:
    """Median cumulative import time of ``module`` in a fresh interpreter, from -X importtime."""
    samples = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True, check=True
        )
        line = [ln for ln in done.stderr.splitlines() if ln.rstrip().endswith(f"| {module}")][-1]
        samples.append(int(line.split("|")[1]))
    return statistics.median(samples)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    python = sys.executable
    print(f"import shtab (cumulative):          {import_us('shtab', runs) / 1000:7.1f} ms")
    print(f"import validator.cli (cumulative):  {import_us('validator.cli', runs) / 1000:7.1f} ms")
    print(f"python -c pass:                     {wall([python, '-c', 'pass'], runs) * 1000:7.1f} ms")
    version = [python, "-m", "validator.cli", "--version"]
    print(f"aurora-validate --version:          {wall(version, runs) * 1000:7.1f} ms")
    bash = [python, "-m", "validator.cli", "completion", "bash"]
    print(f"aurora-validate completion bash:    {wall(bash, runs) * 1000:7.1f} ms")
    scan = [python, "-m", "validator.cli", "reference/terraform", "--quiet"]
    print(f"aurora-validate reference/terraform:{wall(scan, runs) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
