"""How much one scan may read and build: every bound in one place.

A configuration is data from someone else: ``count = 100000000``, a chain of
locals that doubles a string thirty times, a 50 MB literal or JSON nested a
million deep must not hang the scan or exhaust memory. Past a limit, the
values it affects become :class:`~validator.model.Unknown` with the limit
named (a rule that needs them is *unresolved*), or the file is an input
error. The limits are far above what real configurations use.

    from validator import limits
    limits.guard_call("range", args)    # before a function that may build a lot
    limits.check_value(result)          # after: a string or collection too big
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from validator.errors import InputError

# Instances one resource, data or module block may make with count or for_each.
MAX_INSTANCES = 10_000
# Module calls nested in one another, the root's calls at depth 1 (terraform sets no limit).
MAX_MODULE_DEPTH = 16
# Steps of one reference walk through the module tree (``var.x`` up to the calling module's
# argument, ``module.m.out`` down to the output): from the deepest module to the root and
# down again.
MAX_REFERENCE_DEPTH = 2 * MAX_MODULE_DEPTH
# Module instances in one scan (all calls, all depths).
MAX_MODULE_INSTANCES = 1_000
# Elements in one list, set or map that evaluation builds.
MAX_COLLECTION_LENGTH = 100_000
# Characters in one string that evaluation builds.
MAX_STRING_LENGTH = 1_000_000
# A value's size once nested collections are spelled out (characters plus elements):
# what jsonencode(), flatten() or join() may expand a shared structure to.
MAX_VALUE_SIZE = 4_000_000
# Nesting of one expression (parentheses, calls, collections).
MAX_EXPRESSION_DEPTH = 200
# Expression nodes evaluated in one root module's scan.
MAX_EVAL_STEPS = 500_000
# Characters of the strings that functions and templates build in one root module's scan.
MAX_BUILT_CHARACTERS = 32_000_000
# Elements of the collections that functions build in one root module's scan (about 40 bytes each).
MAX_BUILT_ELEMENTS = 4_000_000
# Bytes of one .tf or .tfvars file.
MAX_FILE_BYTES = 4 * 1024 * 1024
# Tokens of one .tf or .tfvars file (the parser's time and memory grow with them: about 1 KB each).
MAX_FILE_TOKENS = 100_000
# Bytes of one JSON file (plan, baseline, .tfvars.json, modules.json).
MAX_JSON_BYTES = 64 * 1024 * 1024
# Nesting of arrays and objects in a JSON file.
MAX_JSON_DEPTH = 128


class LimitExceeded(Exception):
    """A bound was reached; the message names it (the evaluator makes it an Unknown)."""


def _name(constant: str, value: int) -> str:
    return f"the limit of {value:,} (validator.limits.{constant})"


# --------------------------------------------------------------------------- #
# Evaluation steps: one budget per root module scan


class Budget:
    """Expression nodes evaluated so far in one scan."""

    __slots__ = ("characters", "elements", "exhausted", "limit", "module_instances", "reason", "steps")

    def __init__(self, limit: int = MAX_EVAL_STEPS) -> None:
        self.steps = 0
        self.limit = limit
        self.exhausted = False
        self.module_instances = 0
        self.characters = 0
        self.elements = 0
        self.reason = ""

    def build(self, characters: int = 0, elements: int = 0) -> None:
        """Account for strings and collections built; LimitExceeded past MAX_BUILT_CHARACTERS or _ELEMENTS."""
        self.characters += characters
        self.elements += elements
        if self.characters > MAX_BUILT_CHARACTERS:
            self._stop(f"evaluation stopped: it built more than {_name('MAX_BUILT_CHARACTERS', MAX_BUILT_CHARACTERS)}"
                       " characters of strings")
        if self.elements > MAX_BUILT_ELEMENTS:
            self._stop(f"evaluation stopped: it built more than {_name('MAX_BUILT_ELEMENTS', MAX_BUILT_ELEMENTS)}"
                       " elements of collections")

    def _stop(self, reason: str) -> None:
        self.exhausted = True
        self.reason = reason
        raise LimitExceeded(reason)

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.limit:
            self.exhausted = True
            self.reason = f"evaluation stopped after {_name('MAX_EVAL_STEPS', self.limit)} steps"
            raise LimitExceeded(self.reason)


_current = Budget()


def budget() -> Budget:
    """The budget of the scan in progress."""
    return _current


@contextmanager
def scan(limit: int = MAX_EVAL_STEPS) -> Iterator[Budget]:
    """A fresh evaluation budget for one root module."""
    global _current
    previous, _current = _current, Budget(limit)
    try:
        yield _current
    finally:
        _current = previous


# --------------------------------------------------------------------------- #
# Values


def check_value(value: Any) -> Any:
    """``value`` when its own length is within bounds (and the scan's budget); else LimitExceeded."""
    if isinstance(value, str):
        check_string_length(len(value))
        _current.build(characters=len(value))
    elif isinstance(value, list | dict | tuple | set):
        check_collection_length(len(value))
        _current.build(elements=len(value))
    return value


def show_number(value: int | float) -> str:
    """A number for a message, however large (Python refuses str() of very long integers)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"a {value.bit_length()}-bit integer"
    return f"{value:,}" if isinstance(value, int) else repr(value)


def check_string_length(n: int) -> None:
    if n > MAX_STRING_LENGTH:
        raise LimitExceeded(f"a string of {n:,} characters is above {_name('MAX_STRING_LENGTH', MAX_STRING_LENGTH)}")


def check_collection_length(n: int) -> None:
    if n > MAX_COLLECTION_LENGTH:
        raise LimitExceeded(
            f"a collection of {n:,} elements is above {_name('MAX_COLLECTION_LENGTH', MAX_COLLECTION_LENGTH)}"
        )


def expanded_size(value: Any, limit: int = MAX_VALUE_SIZE) -> int:
    """Characters plus elements of ``value`` spelled out, counting shared parts each time.

    Stops counting past ``limit``. Shared sub-values are sized once (memoised by
    identity), so a chain of locals that doubles a list is measured in linear time.
    """
    memo: dict[int, int] = {}

    def size(v: Any, depth: int) -> int:
        if isinstance(v, str):
            return len(v) + 1
        if not isinstance(v, list | dict | tuple):
            return 1
        key = id(v)
        if key in memo:
            return memo[key]
        if depth > MAX_JSON_DEPTH * 4:
            return limit + 1
        total = len(v) + 1
        for item in v.values() if isinstance(v, dict) else v:
            total += size(item, depth + 1)
            if total > limit:
                break
        memo[key] = total
        return total

    return size(value, 0)


# Functions whose result can be much larger than their arguments look.
_EXPANDING = frozenset({"jsonencode", "yamlencode", "flatten", "join", "format", "formatlist", "setproduct",
                        "transpose"})
_GUARDED = _EXPANDING | {"range", "cidrsubnet", "replace"}


def guard_call(name: str, args: list[Any]) -> None:
    """Refuse a function call whose result would exceed a limit (LimitExceeded names it).

    Cheap for every call; the expensive measure runs only for functions that
    can expand what they are given.
    """
    if name not in _GUARDED:
        return
    if name == "range":
        _guard_range(args)
    elif name in ("format", "formatlist") and args and isinstance(args[0], str):
        _guard_format_widths(args[0])
    elif name == "cidrsubnet" and len(args) >= 2:
        _guard_newbits(args[1])
    if name == "join" and len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], list):
        check_string_length(len(args[0]) * max(0, len(args[1]) - 1))
    if name == "formatlist" and args and isinstance(args[0], str):
        longest = max((len(a) for a in args[1:] if isinstance(a, list)), default=1)
        check_string_length(len(args[0]) * longest)
    if name == "replace" and len(args) == 3 and all(isinstance(a, str) for a in args):
        x, old, new = args
        occurrences = len(x) + 1 if not old else x.count(old)
        check_string_length(len(x) + occurrences * max(0, len(new) - len(old)))
    if name in _EXPANDING:
        total = 0
        for arg in args:
            total += expanded_size(arg, MAX_VALUE_SIZE - total)
            if total > MAX_VALUE_SIZE:
                raise LimitExceeded(
                    f"{name}() would expand its arguments above {_name('MAX_VALUE_SIZE', MAX_VALUE_SIZE)}"
                )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _guard_range(args: list[Any]) -> None:
    nums = [_number(a) for a in args]
    if not nums or any(n is None for n in nums):
        return  # the function reports the type error
    try:
        values = [float(n) for n in nums if n is not None]
    except OverflowError:
        raise LimitExceeded("range(): a bound is too large") from None
    if any(math.isnan(n) or math.isinf(n) for n in values):
        raise LimitExceeded("range(): the bounds must be finite numbers")
    if len(values) == 1:
        start, end, step = 0.0, values[0], 1.0
    else:
        start, end = values[0], values[1]
        step = values[2] if len(values) > 2 else (1.0 if end >= start else -1.0)
    if step == 0:
        return
    check_collection_length(max(0, math.ceil((end - start) / step)))


_FORMAT_SPEC = re.compile(r"%[#+\- 0]*(\d*)(?:\.(\d*))?")


def _guard_format_widths(fmt: str) -> None:
    """Widths and precisions in a format string (``%0999999999d``) stay within the string limit."""
    for match in _FORMAT_SPEC.finditer(fmt):
        for digits in match.groups():
            if digits and (len(digits) > 7 or int(digits) > MAX_STRING_LENGTH):
                shown = digits if len(digits) <= 12 else digits[:12] + "..."
                raise LimitExceeded(
                    f"format width {shown} is above {_name('MAX_STRING_LENGTH', MAX_STRING_LENGTH)}"
                )


def _guard_newbits(value: Any) -> None:
    n = _number(value)
    if n is not None and (n != n or abs(n) > 128):
        raise LimitExceeded("cidrsubnet(): newbits must be between 0 and 128")


# --------------------------------------------------------------------------- #
# Files


def describe_non_file(path: Path) -> str | None:
    """Why ``path`` is not a regular file one can read ("a directory", "a FIFO"...), or None."""
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return "a dangling symbolic link"
        return "not found"
    except RuntimeError:  # pragma: no cover - older Pythons raise this for loops
        return "a symbolic link loop"
    except OSError as exc:
        return _stat_error(exc)
    except ValueError:  # a NUL in the path
        return "a path holding a NUL character"
    return _not_regular(st.st_mode)


def describe_entry(entry: os.DirEntry[str]) -> str | None:
    """:func:`describe_non_file` for an entry of ``os.scandir`` (one system call at most, none for a symlink's type)."""
    try:
        st = entry.stat()
    except FileNotFoundError:
        return "a dangling symbolic link" if entry.is_symlink() else "not found"
    except OSError as exc:
        return _stat_error(exc)
    return _not_regular(st.st_mode)


def _stat_error(exc: OSError) -> str:
    if exc.errno == 40:  # ELOOP
        return "a symbolic link loop"
    if exc.errno == 36:  # ENAMETOOLONG
        return "a path too long for the system"
    return exc.strerror or "unreadable"


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def resolve_below(base: Path, rel: str) -> Path:
    """``(base / rel).resolve()`` for a ``base`` that is resolved already: only ``rel``'s own steps are read.

    ``..`` of a resolved directory is its parent, as the system reads it; a step that is a
    symbolic link hands the whole path to ``Path.resolve``, as does a ``rel`` that is absolute.
    """
    if os.sep != "/" or os.altsep or rel.startswith("/"):  # pragma: no cover - not a POSIX relative path
        return (base / rel).resolve()
    path = str(base)
    for part in rel.split("/"):
        if not part or part == ".":
            continue
        if part == "..":
            path = os.path.dirname(path)
            continue
        step = os.path.join(path, part)
        try:
            is_link = stat.S_ISLNK(os.lstat(step).st_mode)  # ValueError for a NUL, as Path.resolve raises
        except OSError:  # not there (yet): a plain name, as for Path.resolve
            is_link = False
        if is_link:
            return (base / rel).resolve()
        path = step
    return Path(path)


def read_bytes(path: Path, where: str, max_bytes: int = MAX_FILE_BYTES, kind: str = "error") -> bytes:
    """A regular file's bytes, at most ``max_bytes``; InputError (naming ``where``) otherwise.

    FIFOs, devices (``/dev/zero``) and directories are refused before they are
    opened, so a read never blocks and never runs without end.
    """
    problem = describe_non_file(path)
    if problem is not None:
        raise InputError(where, "file not found" if problem == "not found" else f"is {problem}, not a file", kind)
    try:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(where, exc.strerror or "cannot be read", kind) from None
    try:
        with os.fdopen(fd, "rb") as fh:
            # Reading max_bytes + 1 at once allocates that much (4 MB) for every small file: the size
            # known now is read, and what a file still growing adds after it, up to the limit.
            size = min(os.fstat(fh.fileno()).st_size, max_bytes)
            data = fh.read(size + 1)
            if len(data) > size:
                data += fh.read(max_bytes + 1 - len(data))
    except OSError as exc:
        raise InputError(where, exc.strerror or "cannot be read", kind) from None
    if len(data) > max_bytes:
        constant = "MAX_FILE_BYTES" if max_bytes == MAX_FILE_BYTES else "MAX_JSON_BYTES"
        raise InputError(where, f"file larger than {_name(constant, max_bytes)} bytes", kind)
    return data


_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\w.-]+|\S')


def check_tokens(text: str, where: str) -> None:
    """InputError when ``text`` holds more tokens than MAX_FILE_TOKENS (counted before parsing)."""
    if len(text) // 2 < MAX_FILE_TOKENS:
        return  # too short to hold that many
    for count, _ in enumerate(_TOKEN.finditer(text), 1):
        if count > MAX_FILE_TOKENS:
            raise InputError(where, f"more than {_name('MAX_FILE_TOKENS', MAX_FILE_TOKENS)} tokens in one file",
                             "error")


def json_depth_ok(doc: Any, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``doc`` nests arrays and objects at most ``max_depth`` deep (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            items: Any = value.values()
        elif isinstance(value, list):
            items = value
        else:
            continue
        if depth > max_depth:
            return False
        stack.extend((v, depth + 1) for v in items if isinstance(v, dict | list))
    return True


def loads_json(text: str | bytes, where: str, kind: str = "error") -> Any:
    """``json.loads`` with the nesting bounded: too deep is an InputError, never a RecursionError."""
    try:
        doc = json.loads(text)
    except RecursionError:
        raise InputError(where, f"JSON nested deeper than {_name('MAX_JSON_DEPTH', MAX_JSON_DEPTH)}", kind) from None
    if not json_depth_ok(doc):
        raise InputError(where, f"JSON nested deeper than {_name('MAX_JSON_DEPTH', MAX_JSON_DEPTH)}", kind)
    return doc
