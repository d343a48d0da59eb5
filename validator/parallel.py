"""Root modules scanned in worker processes, reported in the order they were given.

Each worker keeps its own parse cache (trees in memory, the same directory on
disk), so a module shared by the roots of a worker is parsed once by it. Rules
are sent back by id and mapped to the catalogue's instances, so a report built
from workers is the report ``--jobs 1`` builds, in the same order.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

from validator.findings import Finding
from validator.rootscan import RootScan, ScanOptions, open_cache, scan_root
from validator.rules.base import Rule
from validator.sources.terraform.hcl.cache import ParseCache

# Fewer roots than this are scanned in-process: starting workers would cost more than it saves.
MIN_ROOTS = 4

_cache: ParseCache | None = None
_options: ScanOptions | None = None


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worker_count(jobs: int | None, roots: int) -> int:
    """Workers for ``roots`` roots with ``--jobs jobs`` (None: one per CPU); 1 means in-process."""
    wanted = default_jobs() if jobs is None else jobs
    if roots < MIN_ROOTS:
        return 1
    return max(1, min(wanted, roots))


def scan_roots(roots: Sequence[Path], options: ScanOptions, jobs: int | None) -> Iterator[RootScan]:
    """Each root's scan, in the order given, as it arrives: the caller holds one at a time, not all."""
    workers = worker_count(jobs, len(roots))
    if workers == 1:
        cache = open_cache(options)
        yield from (scan_root(root, options, cache) for root in roots)
        return
    # fork: a worker starts with every module the parent imported, in milliseconds (forkserver and spawn
    # take seconds to start two workers here). So the parent loads the HCL source and the rule catalogue
    # once, before forking, rather than every worker loading them again.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    if method == "fork":
        import validator.sources.terraform.hcl  # noqa: F401
        from validator.rules import all_rules

        all_rules()
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context(method), initializer=_start, initargs=(options,)
    )
    chunk = max(1, min(16, len(roots) // (workers * 4)))
    try:
        for packed in pool.map(_scan, [str(r) for r in roots], chunksize=chunk):
            yield _unpack(packed)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


@cache
def _rules() -> dict[str, Rule]:
    from validator.rules import all_rules

    return {rule.id: rule for rule in all_rules()}


def _start(options: ScanOptions) -> None:
    global _cache, _options
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to report
    _options = options
    _cache = open_cache(options)


def _scan(root: str) -> tuple[RootScan, list[tuple[Any, ...]]]:
    assert _options is not None
    scan = scan_root(Path(root), _options, _cache)
    findings = [(f.rule.id, f.severity, f.result, f.root, f.suppressed_by) for f in scan.findings]
    scan.findings = []
    return scan, findings


def _unpack(packed: tuple[RootScan, list[tuple[Any, ...]]]) -> RootScan:
    scan, findings = packed
    rules = _rules()
    scan.findings = [Finding(rules[rule_id], *rest) for rule_id, *rest in findings]
    return scan
