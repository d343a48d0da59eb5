"""Benchmark the static scan.

    python bench/bench_static.py                 # references + a generated corpus of 200 root modules
    python bench/bench_static.py --roots 500     # a bigger corpus
    python bench/bench_static.py --compare-parser /path/to/other/python
        # parse the corpus with another interpreter's python-hcl2 too (e.g. a venv with hcl2 8.x)

Prints wall times, files per second and the fresh-process start-up of the CLI, with the
parse cache cold (an empty cache directory) and warm, in one process and in worker
processes. The cache lives in a temporary directory, never the user's.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from validator.cli import main  # noqa: E402

REFERENCES = [REPO / "reference" / "terraform", REPO / "reference" / "terraform-bedrock"]

PARSE_SNIPPET = """
import sys, time, pathlib, hcl2
files = [pathlib.Path(p).read_text() for p in sys.argv[1:]]
start = time.perf_counter()
for text in files:
    hcl2.loads(text)
elapsed = time.perf_counter() - start
version = getattr(hcl2, "__version__", None)
if version is None:
    from importlib.metadata import version as v
    version = v("python-hcl2")
print(f"{version} {len(files)} {elapsed:.3f}")
"""


def quiet(*argv: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(list(argv))


def generate_corpus(target: Path, count: int) -> list[Path]:
    """``count`` root modules derived from the two references, with varied names and settings."""
    roots = []
    for n in range(count):
        source = REFERENCES[n % len(REFERENCES)]
        root = target / f"root{n:04d}"
        shutil.copytree(source, root, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
        for tf in root.rglob("*.tf"):
            text = tf.read_text()
            text = text.replace('"16.4"', f'"{["16.4", "15.7", "14.12", "13.15"][n % 4]}"')
            text = text.replace("max_capacity = 5", f"max_capacity = {2 + n % 30}")
            tf.write_text(text)
        roots.append(root)
    return roots


def tf_files(roots: list[Path]) -> list[Path]:
    return [p for root in roots for p in sorted(root.rglob("*.tf"))]


def time_fresh_process(runs: int, *extra: str) -> list[float]:
    exe = Path(sys.executable).parent / "aurora-validate"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "validator.cli"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*cmd, "reference/terraform", *extra], cwd=REPO, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def scan_corpus(roots: list[Path], files: int, lines: int, label: str, *extra: str) -> None:
    start = time.perf_counter()
    code = quiet(*[str(r) for r in roots], "--format", "json", *extra)
    elapsed = time.perf_counter() - start
    print(f"corpus, {label}: {len(roots)} root modules, {files} files, {lines} lines in {elapsed:.2f} s: "
          f"{files / elapsed:.0f} files/s, {elapsed / len(roots) * 1000:.1f} ms per root module (exit {code})")


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roots", type=int, default=200)
    parser.add_argument("--runs", type=int, default=10, help="fresh-process runs")
    parser.add_argument("--compare-parser", metavar="PYTHON", action="append", default=[])
    args = parser.parse_args()

    cache_home = tempfile.mkdtemp(prefix="bench-cache-")
    os.environ["XDG_CACHE_HOME"] = cache_home
    for label, extra in (("--no-cache", ("--no-cache",)), ("warm cache", ())):
        times = time_fresh_process(args.runs, *extra)
        print(f"fresh process `aurora-validate reference/terraform`, {label}: "
              f"median {statistics.median(times) * 1000:.0f} ms, "
              f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {args.runs} runs")

    for ref in REFERENCES:
        files = len(list(ref.rglob("*.tf")))
        start = time.perf_counter()
        repeats = 20
        for _ in range(repeats):
            quiet(str(ref), "--format", "json")
        per = (time.perf_counter() - start) / repeats
        print(f"in-process scan of {ref.relative_to(REPO)} ({files} files): {per * 1000:.1f} ms per scan")

    with tempfile.TemporaryDirectory() as tmp:
        roots = generate_corpus(Path(tmp), args.roots)
        files = tf_files(roots)
        lines = sum(len(p.read_text().splitlines()) for p in files)
        shutil.rmtree(cache_home, ignore_errors=True)
        scan_corpus(roots, len(files), lines, "cold cache, one process", "--jobs", "1")
        scan_corpus(roots, len(files), lines, "warm cache, one process", "--jobs", "1")
        scan_corpus(roots, len(files), lines, "no cache, workers", "--no-cache")
        scan_corpus(roots, len(files), lines, "warm cache, workers")

        for python in [sys.executable, *args.compare_parser]:
            done = subprocess.run([python, "-c", PARSE_SNIPPET, *map(str, files)], capture_output=True,
                                  text=True, check=False)
            if done.returncode != 0:
                print(f"parser via {python}: failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            version, count, seconds = done.stdout.split()
            print(f"python-hcl2 {version} hcl2.loads on {count} files: {float(seconds):.2f} s "
                  f"({int(count) / float(seconds):.0f} files/s)")
    shutil.rmtree(cache_home, ignore_errors=True)


if __name__ == "__main__":
    main_bench()
