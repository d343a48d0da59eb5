"""Baselines: accept today's findings so that only new ones fail the gate.

``--write-baseline FILE`` records every failure and unresolved check that is
not suppressed in the source; ``--baseline FILE`` marks the findings recorded
there as suppressed (``suppressed_by = "baseline"``), so only new findings count.

The file is JSON, sorted for stable diffs::

    {
      "tool": "aurora-validate",
      "version": 1,
      "entries": [
        {
          "rule_id": "AV301",
          "resource": "module.network.aws_security_group.aurora_sg",
          "file": "terraform/modules/network/network.tf",
          "fingerprint": "3f0c6d1e2a9b8c47",
          "message": "module.network.aws_security_group.aurora_sg admits port 5432 from 0.0.0.0/0 ...",
          "expires": "2027-03-31"
        }
      ]
    }

``fingerprint`` is what matches: a hash of the rule id, the resource address,
the file (relative to the baseline file's directory) and the message with its
numbers taken out. It leaves out the line, so findings stay matched when lines
move. ``message`` is there for people reading the file. ``expires`` (optional,
an ISO date, added by hand) ends the acceptance: from the day after, the
finding counts again and its message says that the baseline entry expired.
Writing a baseline keeps the ``expires`` and ``note`` of entries that are
recorded again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from validator import limits
from validator.errors import InputError
from validator.findings import Finding, Report, display_path
from validator.rules.base import Status

FORMAT_VERSION = 1
SUPPRESSED_BY = "baseline"
EXPIRED_NOTE = " (baseline entry expired on {date})"
_EXPIRED_TAIL = re.compile(r" \(baseline entry expired on \d{4}-\d{2}-\d{2}\)$")
_NUMBER = re.compile(r"\d+(?:\.\d+)*")
_LINE_SUFFIX = re.compile(r":\d+$")


def _file_key(finding: Finding, base: Path) -> str:
    """The finding's file relative to the baseline's directory ("" for live findings)."""
    loc = finding.result.location
    if not loc.file:
        return ""
    shown = Path(display_path(finding.root, loc.file))
    try:
        return Path(os.path.relpath(shown.resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return shown.as_posix()


def normalise_message(message: str) -> str:
    """The message without numbers (lines, ports, prices) and without an expiry note."""
    return _NUMBER.sub("#", _EXPIRED_TAIL.sub("", message)).strip()


def fingerprint(finding: Finding, base: Path | None = None) -> str:
    """A fingerprint that survives moved lines: rule, resource, file and message without numbers."""
    import hashlib  # loads OpenSSL: only for the runs that fingerprint (baseline, SARIF)

    resource = _LINE_SUFFIX.sub("", finding.result.resource)
    parts = [
        finding.rule_id,
        resource,
        _file_key(finding, base or Path.cwd()),
        normalise_message(finding.result.message),
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def _recordable(finding: Finding) -> bool:
    """Failures and unresolved checks not suppressed in the source (or already by a baseline)."""
    if finding.status is Status.PASS:
        return False
    return finding.suppressed_by is None or finding.suppressed_by.startswith(SUPPRESSED_BY)


def load(path: str | Path) -> list[dict[str, Any]]:
    """The entries of a baseline file; InputError when it cannot be read or is malformed."""
    p = Path(path)
    if limits.describe_non_file(p) == "not found":
        raise InputError(str(p), "no such baseline file (create it with --write-baseline)", "baseline")
    try:
        # A regular file of bounded size (never a FIFO or /dev/zero), nested at most MAX_JSON_DEPTH.
        doc = limits.loads_json(limits.read_bytes(p, str(p), limits.MAX_JSON_BYTES, "baseline").decode("utf-8"),
                                str(p), "baseline")
    except UnicodeDecodeError as exc:
        raise InputError(str(p), f"cannot read: not UTF-8 (byte {exc.start})", "baseline") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}:{exc.lineno}", f"not JSON: {exc.msg}", "baseline") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise InputError(str(p), 'not a baseline: expected an object with an "entries" list', "baseline")
    if doc.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise InputError(
            str(p), f"baseline format version {doc.get('version')!r} is not {FORMAT_VERSION}", "baseline"
        )
    entries = []
    for n, entry in enumerate(doc["entries"], 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise InputError(str(p), f"entry {n} has no fingerprint", "baseline")
        expires = entry.get("expires")
        if expires is not None:
            try:
                entry["_expires"] = dt.date.fromisoformat(str(expires))
            except ValueError:
                raise InputError(
                    str(p), f"entry {n}: expires {expires!r} is not an ISO date (YYYY-MM-DD)", "baseline"
                ) from None
        entries.append(entry)
    return entries


def apply(report: Report, path: str | Path, today: dt.date | None = None) -> None:
    """Mark the findings recorded in the baseline as suppressed; expired entries count again.

    Each entry matches one finding, so a second finding with the same
    fingerprint is still reported. Problems with the file become input errors.
    """
    try:
        entries = load(path)
    except InputError as exc:
        report.errors.append(exc)
        return
    today = today or dt.date.today()
    base = Path(path).parent
    pool: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        pool.setdefault(entry["fingerprint"], []).append(entry)
    out = []
    for finding in report.findings:
        if finding.status is Status.PASS or finding.suppressed_by is not None:
            out.append(finding)
            continue
        candidates = pool.get(fingerprint(finding, base))
        if not candidates:
            out.append(finding)
            continue
        entry = candidates.pop(0)
        expires = entry.get("_expires")
        if expires is not None and expires < today:
            note = EXPIRED_NOTE.format(date=expires.isoformat())
            out.append(
                replace(finding, result=replace(finding.result, message=finding.result.message + note))
            )
            continue
        reason = entry.get("note")
        out.append(replace(finding, suppressed_by=f"{SUPPRESSED_BY}: {reason}" if reason else SUPPRESSED_BY))
    report.findings = out


def entries_for(
    report: Report, base: Path, previous: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Baseline entries for the report's findings, keeping expires/note of earlier entries."""
    kept: dict[str, list[dict[str, Any]]] = {}
    for earlier in previous or []:
        kept.setdefault(earlier["fingerprint"], []).append(earlier)
    entries = []
    for finding in report.findings:
        if not _recordable(finding):
            continue
        fp = fingerprint(finding, base)
        entry = {
            "rule_id": finding.rule_id,
            "resource": finding.result.resource,
            "file": _file_key(finding, base),
            "fingerprint": fp,
            "message": _EXPIRED_TAIL.sub("", finding.result.message),
        }
        old = kept.get(fp)
        if old:
            earlier = old.pop(0)
            entry.update({k: earlier[k] for k in ("expires", "note") if k in earlier})
        entries.append(entry)
    entries.sort(key=lambda e: (e["rule_id"], e["file"], e["resource"], e["fingerprint"], e["message"]))
    return entries


def write(report: Report, path: str | Path) -> int | None:
    """Record the report's findings in ``path``; they count as suppressed from now on.

    Returns how many findings were recorded, or None when the file could not be written
    (the reason is then one of the report's input errors). Nothing is printed.
    """
    p = Path(path)
    previous: list[dict[str, Any]] = []
    problem = limits.describe_non_file(p)
    if problem not in (None, "not found"):  # opening a FIFO to write would wait for a reader
        report.errors.append(InputError(str(p), f"cannot write baseline: it is {problem}", "baseline"))
        return None
    if p.is_file():
        try:
            previous = load(p)
        except InputError:
            previous = []  # replaced by a fresh, valid file
    entries = entries_for(report, p.parent, previous)
    doc = {"tool": "aurora-validate", "version": FORMAT_VERSION, "entries": entries}
    try:
        p.write_text(json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        report.errors.append(InputError(str(p), f"cannot write baseline: {exc.strerror}", "baseline"))
        return None
    recorded = Counter(e["fingerprint"] for e in entries)
    out = []
    for finding in report.findings:
        fp = (
            fingerprint(finding, p.parent) if _recordable(finding) and finding.suppressed_by is None else None
        )
        if fp and recorded[fp] > 0:
            recorded[fp] -= 1
            out.append(replace(finding, suppressed_by=SUPPRESSED_BY))
        else:
            out.append(finding)
    report.findings = out
    return len(entries)
