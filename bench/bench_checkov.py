"""aurora-validate against checkov on the same Terraform, fresh processes, cold and warm parse cache.

    python bench/bench_checkov.py                        # 1 (the reference), 10, 200 and 1,000 roots
    python bench/bench_checkov.py --sizes 1,10,200 --repeat 5
    python bench/bench_checkov.py --checkov-sizes 1,10,200,1000   # checkov on 1,000 roots too (an hour)
    python bench/bench_checkov.py --no-checkov           # ours only (no checkov environment needed)

    # checkov's hour on 1,000 roots, alone and niced, its samples kept; later runs read them back:
    nice -n 19 python bench/bench_checkov.py --sizes 1000 --checkov-sizes 1000 --no-ours \
        --record .benchmarks/checkov-1000.jsonl --checkov-output .benchmarks/checkov-1000
    python bench/bench_checkov.py --recorded .benchmarks/checkov-1000.jsonl

The corpus is the one ``bench/bench_static.py`` generates (root modules derived from
the two references); size 1 is ``reference/terraform`` itself. checkov runs in its
own virtual environment (its bc-python-hcl2 replaces the ``hcl2`` import, so it never
goes into the project's): ``$XDG_CACHE_HOME/aurora-validate-test/checkov-venv``, the
one the checkov tests use, created with ``pip install checkov`` when missing.

Runs are interleaved (checkov, ours cold, ours warm, then again) so a machine shared
with other work slows both alike; the table gives medians. "cold" is an empty parse
cache directory, "warm" the same directory after a first run. Wall and CPU times
(user + system, worker processes included) and the peak resident memory of the
largest process come from ``os.wait4``. Ratios are ours / checkov's.

A size checkov does not run on now takes checkov's samples from ``--recorded`` files
(JSON lines that ``--record`` writes); the table marks those rows, since the
machine's load was not the same during both.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from bench_static import generate_corpus  # noqa: E402

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aurora-validate-test"
CHECKOV_VENV = CACHE / "checkov-venv"


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    code: int


@dataclass
class Row:
    roots: int
    files: int
    runs: dict[str, list[Sample]] = field(default_factory=dict)
    recorded: bool = False  # checkov's samples come from an earlier run

    def median(self, kind: str, what: str) -> float | None:
        samples = self.runs.get(kind) or []
        return statistics.median(getattr(s, what) for s in samples) if samples else None


def run(cmd: list[str], env: dict[str, str], cwd: Path, output: Path | None = None) -> Sample:
    """One fresh process; its standard output goes to ``output`` (its error output beside it) when given."""
    start = time.perf_counter()
    if output is None:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        with open(output, "wb") as out, open(output.with_suffix(".stderr"), "wb") as err:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux.
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode)


def checkov_exe() -> Path:
    exe = CHECKOV_VENV / "bin" / "checkov"
    if exe.exists():
        return exe
    print(f"creating {CHECKOV_VENV} (pip install checkov) ...", flush=True)
    shutil.rmtree(CHECKOV_VENV, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(CHECKOV_VENV)], check=True)
    subprocess.run([str(CHECKOV_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "checkov"], check=True)
    return exe


def clean_env() -> dict[str, str]:
    env = dict(os.environ)
    # Byte-code is written, as in an installed package; no checkov call home.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update({"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"})
    env.pop("AURORA_VALIDATE_NO_CACHE", None)
    env.pop("AURORA_VALIDATE_CACHE_DIR", None)
    return env


def ours_cmd(roots: list[Path], jobs: str) -> list[str]:
    exe = Path(sys.executable).parent / "aurora-validate"
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "validator.cli"]
    return [*head, *map(str, roots), "--format", "json", "--jobs", jobs]


def record(path: Path, size: int, files: int, kind: str, sample: Sample, version: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    line = {"roots": size, "files": files, "kind": kind, "wall": sample.wall, "cpu": sample.cpu,
            "rss_mb": sample.rss_mb, "code": sample.code, "version": version,
            "load": [round(x, 2) for x in load], "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with open(path, "a") as fh:
        fh.write(json.dumps(line) + "\n")


def read_recorded(paths: list[str]) -> dict[int, list[Sample]]:
    """checkov's samples by root count from ``--record`` files."""
    out: dict[int, list[Sample]] = {}
    for name in paths:
        for text in Path(name).read_text().splitlines():
            if text.strip():
                item = json.loads(text)
                if item["kind"] == "checkov":
                    sample = Sample(item["wall"], item["cpu"], item["rss_mb"], item["code"])
                    out.setdefault(item["roots"], []).append(sample)
    return out


def fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or not b else f"{a / b:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,200,1000", help="root counts (1 is reference/terraform)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repetitions per size")
    parser.add_argument("--repeat-large", type=int, default=1, help="repetitions for sizes above 200")
    parser.add_argument("--jobs", default="auto", help="aurora-validate --jobs")
    parser.add_argument("--no-checkov", action="store_true", help="time aurora-validate only")
    parser.add_argument("--no-ours", action="store_true", help="time checkov only (with --record)")
    parser.add_argument("--record", metavar="FILE", help="append every sample to FILE (JSON lines)")
    parser.add_argument("--recorded", metavar="FILE", action="append", default=[],
                        help="checkov samples for the sizes it does not run on now (from --record)")
    parser.add_argument("--checkov-output", metavar="DIR", help="keep checkov's reports in DIR")
    parser.add_argument(
        "--checkov-sizes",
        default="1,10,200",
        help="sizes checkov runs on too (it takes about 3.5 s per root on a loaded 2-CPU machine)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    checkov_sizes = {int(s) for s in args.checkov_sizes.split(",") if s.strip()}
    recorded = read_recorded(args.recorded)

    env = clean_env()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "validator")], env=env, check=True)
    checkov = None if args.no_checkov else checkov_exe()
    version = ""
    if checkov is not None:
        version = subprocess.run([str(checkov), "--version"], capture_output=True, text=True, env=env).stdout.strip()
        print(f"checkov {version} from {checkov}")
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start")

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-checkov-") as tmp_name:
        tmp = Path(tmp_name)
        for size in sizes:
            if size == 1:
                directory, roots = REPO / "reference", [REPO / "reference" / "terraform"]
                target = roots[0]
            else:
                directory = tmp / f"corpus{size}"
                roots = generate_corpus(directory, size)
                target = directory
            row = Row(size, sum(len(list(r.rglob("*.tf"))) for r in roots))
            repeat = args.repeat if size <= 200 else args.repeat_large
            for n in range(repeat):
                cache_home = tmp / f"xdg-{size}-{n}"
                ours_env = {**env, "XDG_CACHE_HOME": str(cache_home)}
                if checkov is not None and size in checkov_sizes:
                    cmd = [str(checkov), "-d", str(target), "--framework", "terraform", "-o", "json", "--quiet",
                           "--skip-download"]
                    output = Path(args.checkov_output) / f"{size}-{n}.json" if args.checkov_output else None
                    row.runs.setdefault("checkov", []).append(run(cmd, env, REPO, output))
                if not args.no_ours:
                    cmd = ours_cmd(roots, args.jobs)
                    row.runs.setdefault("cold", []).append(run(cmd, ours_env, REPO))
                    row.runs.setdefault("warm", []).append(run(cmd, ours_env, REPO))
                if args.record:
                    for kind, samples in row.runs.items():
                        tool = version if kind == "checkov" else ""
                        record(Path(args.record), size, row.files, kind, samples[-1], tool)
                shutil.rmtree(cache_home, ignore_errors=True)
                line = ", ".join(
                    f"{k} {v[-1].wall:.2f} s wall {v[-1].cpu:.2f} s cpu {v[-1].rss_mb:.0f} MB (exit {v[-1].code})"
                    for k, v in row.runs.items()
                )
                print(f"  {size} roots, run {n + 1}/{repeat}: {line}", flush=True)
            if "checkov" not in row.runs and recorded.get(size):
                row.runs["checkov"] = recorded[size]
                row.recorded = True
            rows.append(row)
            if size != 1:
                shutil.rmtree(directory, ignore_errors=True)

    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end (2 CPUs shared: timings are noisy)\n")
    print("| roots | files | checkov wall s | ours cold s | ours warm s | cold / checkov | warm / checkov "
          "| cpu s checkov / cold / warm | cpu cold / checkov | cpu warm / checkov | ms per root cold / warm "
          "| peak MB checkov / cold / warm |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        ck, cold, warm = (row.median(k, "wall") for k in ("checkov", "cold", "warm"))
        ck_cpu, cold_cpu, warm_cpu = (row.median(k, "cpu") for k in ("checkov", "cold", "warm"))
        mem = " / ".join(fmt(row.median(k, "rss_mb"), ".0f") for k in ("checkov", "cold", "warm"))
        label = "1 (reference)" if row.roots == 1 else str(row.roots)
        if row.recorded:
            label += " (checkov recorded)"
        per_root = f"{fmt(cold and cold / row.roots * 1000, '.1f')} / {fmt(warm and warm / row.roots * 1000, '.1f')}"
        cpus = " / ".join(fmt(x, ".2f") for x in (ck_cpu, cold_cpu, warm_cpu))
        print(f"| {label} | {row.files} | {fmt(ck, '.2f')} | {fmt(cold, '.2f')} | {fmt(warm, '.2f')} "
              f"| {ratio(cold, ck)} | {ratio(warm, ck)} | {cpus} "
              f"| {ratio(cold_cpu, ck_cpu)} | {ratio(warm_cpu, ck_cpu)} "
              f"| {per_root} | {mem} |")
    print(f"\nmedians of {args.repeat} interleaved runs ({args.repeat_large} above 200 roots); "
          f"aurora-validate --jobs {args.jobs}; peak memory: the largest single process")
    print_marginal([r for r in rows if "cold" in r.runs])
    return 0


def print_marginal(rows: list[Row]) -> None:
    """What each root beyond the previous size adds: the start-up is paid once, so this is the cost per root."""
    pairs = list(itertools.pairwise(r for r in rows if r.roots > 1))  # size 1 is the reference, not the corpus
    if not pairs:
        return
    print("\n| roots | added roots | ms per added root, cold / warm | cpu ms per added root, cold / warm "
          "| peak KB per added root, cold / warm |")
    print("|---|---|---|---|---|")
    for low, high in pairs:
        added = high.roots - low.roots

        def per_root(kind: str, what: str, scale: float, low: Row = low, high: Row = high, added: int = added) -> str:
            a, b = low.median(kind, what), high.median(kind, what)
            return "-" if a is None or b is None else f"{(b - a) / added * scale:.1f}"

        wall = " / ".join(per_root(k, "wall", 1000) for k in ("cold", "warm"))
        cpu = " / ".join(per_root(k, "cpu", 1000) for k in ("cold", "warm"))
        mem = " / ".join(per_root(k, "rss_mb", 1024) for k in ("cold", "warm"))
        print(f"| {low.roots} → {high.roots} | {added} | {wall} | {cpu} | {mem} |")


if __name__ == "__main__":
    sys.exit(main())
