"""Terraform's built-in functions that can be evaluated offline, as terraform 1.11 evaluates them.

Each function takes evaluated arguments (no Unknown reaches it unless it is listed in
``UNKNOWN_TOLERANT``) and returns a value or raises :class:`EvalError`; the evaluator turns the error
into ``Unknown("line N: ...")``. Functions that depend on the machine, the clock, randomness or files
are listed in ``NOT_STATIC`` with the reason they stay unknown. Error messages name kinds of values,
never their content: an argument may be a secret.

The differential test (``tests/test_terraform_oracle.py``) compares every function here with terraform.
"""

from __future__ import annotations

import codecs
import json
import math
import re
import urllib.parse
from collections.abc import Callable
from datetime import datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from validator import limits
from validator.model import Unknown
from validator.sources.terraform.hcl.values import (
    FLOAT64_PREC,
    EvalError,
    Num,
    add,
    contains_unknown,
    equal,
    exact,
    is_number,
    kind,
    make,
    neg,
    number_text,
    to_bool,
    to_int,
    to_number,
    to_str,
    type_name,
)

if TYPE_CHECKING:
    import ipaddress

# base64, csv, hashlib, ipaddress, unicodedata and uuid are imported by the functions that use them:
# a scan imports this module, few configurations call those functions (hashlib alone loads OpenSSL).

MAX_COLLECTION = 1_000_000  # elements a function may build (range, setproduct)

# --------------------------------------------------------------------------- #
# Types: terraform converts arguments to the parameter's type, unifying element types


def unify(values: list[Any]) -> list[Any]:
    """Values converted to one type, as terraform does for the elements of a list, set or map."""
    kinds = {kind(v) for v in values} - {"null"}
    if not kinds:
        return list(values)
    if "other" in kinds:
        raise EvalError("elements of a type that cannot be unified")
    if kinds <= {"string", "number", "bool"}:
        if len(kinds) == 1:
            return list(values)
        if "string" in kinds:
            return [None if v is None else to_str(v) for v in values]
        raise EvalError("elements of different types (bool and number)")
    if len(kinds) > 1:
        raise EvalError("elements of different types")
    present = [v for v in values if v is not None]
    if kinds == {"list"}:
        lengths = {len(v) for v in present}
        if len(lengths) == 1:  # tuples of one shape: position by position
            n = lengths.pop()
            columns = [unify([v[i] for v in present]) for i in range(n)]
            rows = iter([[columns[i][j] for i in range(n)] for j in range(len(present))])
        else:
            flat = unify([x for v in present for x in v])
            it = iter(flat)
            rows = iter([[next(it) for _ in v] for v in present])
        return [None if v is None else next(rows) for v in values]
    keysets = {tuple(sorted(v)) for v in present}
    if len(keysets) != 1:
        raise EvalError("objects with different attributes")
    keys = keysets.pop()
    columns_by_key = {k: unify([v[k] for v in present]) for k in keys}
    out_rows = iter([{k: columns_by_key[k][j] for k in keys} for j in range(len(present))])
    return [None if v is None else next(out_rows) for v in values]


def _list(v: Any, what: str = "argument") -> list[Any]:
    """A list, set or tuple argument, its elements of one type."""
    if isinstance(v, list):
        return unify(v)
    raise EvalError(f"{what} must be a list, not {type_name(v)}")


def _tuple(v: Any, what: str = "argument") -> list[Any]:
    if isinstance(v, list):
        return v
    raise EvalError(f"{what} must be a list, not {type_name(v)}")


def _map(v: Any, what: str = "argument") -> dict[str, Any]:
    if isinstance(v, dict):
        return v
    raise EvalError(f"{what} must be a map, not {type_name(v)}")


def _set(v: Any) -> list[Any]:
    """Terraform's set of a list: unique elements in terraform's order (primitive elements only)."""
    items = _list(v)
    out: list[Any] = []
    seen: set[tuple[str, Any]] = set()  # primitives by kind and exact value: linear in the length
    for x in items:
        if x is None:
            raise EvalError("a set cannot hold null")
        if isinstance(x, list | dict):
            raise EvalError("the order of a set of collections is not known statically")
        key = _set_key(x)
        if key is None:
            if not any(equal(x, y) for y in out):
                out.append(x)
        elif key not in seen:
            seen.add(key)
            out.append(x)
    return _sorted_set(out)


def _set_key(x: Any) -> tuple[str, Any] | None:
    """A key equal for two primitives exactly when terraform's == holds (None: compare by hand)."""
    if isinstance(x, bool):
        return ("bool", x)
    if is_number(x):
        return ("number", exact(x))
    if isinstance(x, str):
        return ("string", str.__str__(x))
    return None


def _sorted_set(items: list[Any]) -> list[Any]:
    if all(isinstance(x, str) for x in items):
        return sorted(items)  # terraform orders string sets by their bytes; code points sort alike
    if all(is_number(x) for x in items):
        return sorted(items, key=exact)
    if all(isinstance(x, bool) for x in items):
        return sorted(items)
    return items


def _str(v: Any, what: str = "argument") -> str:
    if v is None:
        raise EvalError(f"{what} must not be null")
    return to_str(v)


# --------------------------------------------------------------------------- #
# Strings


_CLUSTER_BREAKING = re.compile(r"[\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0600-\u06ff\u0900-\u0dff"
                               r"\u1100-\u11ff\u1ab0-\u1aff\u1dc0-\u1dff\u200b-\u200f\u20d0-\u20ff"
                               r"\ud800-\udfff\ufe00-\ufe0f\ufe20-\ufe2f\U0001f000-\U0001ffff\U000e0000-\U000e0fff]")


def _graphemes(s: str) -> list[str]:
    """Characters as terraform counts them (grapheme clusters): known only without combining sequences."""
    import unicodedata

    if s.isascii():
        return list(s.replace("\r\n", "\x00")) if "\r\n" in s else list(s)
    if _CLUSTER_BREAKING.search(s) or any(unicodedata.combining(c) for c in s):
        raise EvalError("character counts of combining sequences are not evaluated")
    return list(s)


def _expand_crlf(chars: list[str]) -> list[str]:
    return ["\r\n" if c == "\x00" else c for c in chars]


def _length(v: Any) -> int:
    if isinstance(v, str):
        return len(_graphemes(v))
    if isinstance(v, list | dict):
        return len(v)
    raise EvalError(f"length of {type_name(v)}")


def _substr(s: Any, offset: Any, length: Any) -> str:
    """terraform's substr, quirks included: an offset past the end gives "", and a negative
    offset with length 0 gives the rest of the string."""
    chars = _expand_crlf(_graphemes(_str(s)))
    off = to_int(offset, "offset")
    n = to_int(length, "length")
    if off < 0:
        off = max(off + len(chars), 0)
    elif n == 0:
        return ""
    if off >= len(chars) and off > 0:
        return ""
    rest = chars[off:]
    if n <= 0:
        return "".join(rest)
    return "".join(rest[:n])


def _strrev(s: Any) -> str:
    return "".join(reversed(_expand_crlf(_graphemes(_str(s)))))


def _simple_case(s: str, upper: bool) -> str:
    """Go's ``strings.ToUpper``/``ToLower``: one character to one character."""
    out = []
    for c in s:
        m = c.upper() if upper else c.lower()
        out.append(m if len(m) == 1 else c)
    return "".join(out)


def _is_separator(c: str) -> bool:
    if c.isascii():
        return not (c.isalnum() or c == "_")
    if c.isalpha() or c.isdigit():
        return False
    return c.isspace()


def _title(s: Any) -> str:
    text = _str(s)
    out, prev = [], " "
    for c in text:
        if _is_separator(prev):
            t = c.title() if not c.isascii() else c.upper()
            out.append(t if len(t) == 1 else c)
        else:
            out.append(c)
        prev = c
    return "".join(out)


def _trimspace(s: Any) -> str:
    return _str(s).strip(" \t\n\r\v\f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
                         "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def _trim(s: Any, cutset: Any) -> str:
    return _str(s).strip(_str(cutset)) if _str(cutset) else _str(s)


def _trimprefix(s: Any, p: Any) -> str:
    text, prefix = _str(s), _str(p)
    return text[len(prefix):] if prefix and text.startswith(prefix) else text


def _trimsuffix(s: Any, p: Any) -> str:
    text, suffix = _str(s), _str(p)
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


def _chomp(s: Any) -> str:
    text = _str(s)
    while text.endswith(("\r\n", "\n", "\r")):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    return text


def _indent(n: Any, s: Any) -> str:
    pad = " " * to_int(n, "spaces", 0, 1000)
    lines = _str(s).split("\n")
    return "\n".join([lines[0]] + [pad + line for line in lines[1:]])


def _split(sep: Any, s: Any) -> list[str]:
    text, separator = _str(s), _str(sep)
    if separator == "":
        return list(text)
    return text.split(separator)


def _join(sep: Any, *lists: Any) -> str:
    if not lists:
        raise EvalError("join needs at least one list")
    items: list[Any] = []
    for lst in lists:
        items.extend(_list(lst))
    if any(x is None for x in items):
        raise EvalError("join of a list holding null")
    return _str(sep).join(to_str(x) for x in items)


def _replace(s: Any, old: Any, new: Any) -> str:
    text, search, repl = _str(s), _str(old), _str(new)
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        pattern = _re2(search[1:-1])
        expand = _re2_replacement(repl)
        out, pos = [], 0
        for m in _finditer(pattern, text):  # Go's ReplaceAllString: no empty match right after a match
            out.append(text[pos: m.start()])
            out.append(expand(m))
            pos = m.end()
        out.append(text[pos:])
        return "".join(out)
    return text.replace(search, repl)


def _startswith(s: Any, p: Any) -> bool:
    return _str(s).startswith(_str(p))


def _endswith(s: Any, p: Any) -> bool:
    return _str(s).endswith(_str(p))


def _strcontains(s: Any, p: Any) -> bool:
    return _str(p) in _str(s)


# --- format ------------------------------------------------------------------


_VERB = re.compile(r"%(?:\[(\d+)\])?([+\- #0]*)(\d+)?(?:\.(\d+)?)?(?:\[(\d+)\])?([a-zA-Z%])")


def _fixed_digits(x: Fraction, places: int) -> str:
    """``x`` with ``places`` decimals, half to even on the exact value (Go's big.Float %f)."""
    scaled = x * 10**places
    q, r = divmod(abs(scaled.numerator), scaled.denominator)
    if 2 * r > scaled.denominator or (2 * r == scaled.denominator and q & 1):
        q += 1
    digits = str(q).rjust(places + 1, "0")
    text = digits if places == 0 else f"{digits[:-places]}.{digits[-places:]}"
    return "-" + text if x < 0 and q else text


def _exp_digits(x: Fraction, places: int, upper: bool) -> str:
    if x == 0:
        mant, e10 = "0" + ("." + "0" * places if places else ""), 0
    else:
        a = abs(x)
        e10 = len(str(a.numerator // a.denominator)) - 1 if a >= 1 else -len(str(a.denominator // a.numerator))
        while a / Fraction(10) ** e10 >= 10:
            e10 += 1
        while a / Fraction(10) ** e10 < 1:
            e10 -= 1
        mant = _fixed_digits(a / Fraction(10) ** e10, places)
        if mant.startswith("10"):
            e10 += 1
            mant = _fixed_digits(a / Fraction(10) ** e10, places)
        if x < 0:
            mant = "-" + mant
    sign = "-" if e10 < 0 else "+"
    return f"{mant}{'E' if upper else 'e'}{sign}{abs(e10):02d}"


def _pad(text: str, flags: str, width: str | None, numeric: bool) -> str:
    if not width:
        return text
    w = int(width)
    limits.check_string_length(w)  # a width is a string of that many characters
    if len(text) >= w:
        return text
    if "-" in flags:
        return text.ljust(w)
    if "0" in flags and numeric:
        sign = text[0] if text[:1] in "+- " else ""
        return sign + text[len(sign):].rjust(w - len(sign), "0")
    return text.rjust(w)


def _sign(text: str, flags: str) -> str:
    if text.startswith("-"):
        return text
    if "+" in flags:
        return "+" + text
    if " " in flags:
        return " " + text
    return text


def _shortest_g(fixed: str) -> str:
    """A number as format's %v writes it: Go's %g with the shortest digits (terraform's answers):
    the exponent form when the decimal exponent is below -4 or at least 6 ("1e+06", "1e-05")."""
    sign, body = ("-", fixed[1:]) if fixed.startswith("-") else ("", fixed)
    whole, _, frac = body.partition(".")
    digits = (whole + frac).lstrip("0")
    if not digits:
        return fixed
    point = len(whole) if whole.strip("0") else -(len(frac) - len(frac.lstrip("0")))
    exp = point - 1
    if -4 <= exp < 6:
        return fixed
    digits = digits.rstrip("0")
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _format_one(verb: str, flags: str, width: str | None, precision: str | None, arg: Any) -> str:
    if verb in "vsq" and arg is None and verb != "v":
        raise EvalError(f"null for %{verb}")
    if verb == "v":
        if "#" in flags or isinstance(arg, list | dict):
            text = _jsonencode(arg)
        elif arg is None:
            text = "null"
        elif is_number(arg):
            text = _shortest_g(number_text(arg))
        else:
            text = to_str(arg)
        return _pad(text, flags, width, False)
    if verb == "s":
        text = to_str(arg)
        if precision is not None:
            text = text[: int(precision)]
        return _pad(text, flags, width, False)
    if verb == "q":
        return _pad(_json_string(to_str(arg)), flags, width, False)
    if verb == "t":
        return _pad(to_str(to_bool(arg)), flags, width, False)
    if arg is None:
        raise EvalError(f"null for %{verb}")
    num = to_number(arg)
    x = Fraction(exact(num))
    if verb in "dboxX":
        if x.denominator != 1:
            raise EvalError(f"%{verb} needs an integer")
        i = int(x)
        if abs(i).bit_length() > 70_000:
            raise EvalError("number too long to write out")
        base = {"d": 10, "b": 2, "o": 8, "x": 16, "X": 16}[verb]
        body = _int_in_base(abs(i), base)
        if verb == "X":
            body = body.upper()
        if "#" in flags and verb in "oxX":
            body = {"o": "0", "x": "0x", "X": "0X"}[verb] + body
        return _pad(_sign(("-" if i < 0 else "") + body, flags), flags, width, True)
    if verb in "fF":
        places = 6 if precision is None else int(precision)
        if places > 1000 or abs(x) > Fraction(10) ** 1000:
            raise EvalError("format precision too large")
        return _pad(_sign(_fixed_digits(x, places), flags), flags, width, True)
    if verb in "eE":
        places = 6 if precision is None else int(precision)
        if places > 1000:
            raise EvalError("format precision too large")
        return _pad(_sign(_exp_digits(x, places, verb == "E"), flags), flags, width, True)
    raise EvalError(f"format verb %{verb} is not evaluated")


def _int_in_base(n: int, base: int) -> str:
    if base == 10:
        return number_text(n) if n.bit_length() <= 512 else _big_decimal(n)
    return format(n, {2: "b", 8: "o", 16: "x"}[base])


def _big_decimal(n: int) -> str:
    from decimal import Decimal

    return format(Decimal(n), "f")


def _format(fmt: Any, *args: Any) -> str | Unknown:
    if any(a is None for a in args):
        return Unknown("format() of a null argument: terraform knows it only after apply")
    text = _str(fmt, "format")
    out: list[str] = []
    pos = 0
    n = 0
    i = 0
    while i < len(text):
        c = text[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        m = _VERB.match(text, i)
        if not m:
            raise EvalError("format: unfinished or invalid verb")
        explicit, flags, width, precision, explicit2, verb = m.groups()
        i = m.end()
        if verb == "%":
            out.append("%")
            continue
        index = explicit or explicit2
        if index is not None:
            n = int(index) - 1
        if n < 0 or n >= len(args):
            raise EvalError("format: not enough arguments")
        if precision is None and m.group(0).count(".") and verb in "fFeE":
            precision = "0"
        out.append(_format_one(verb, flags, width, precision, args[n]))
        n += 1
        pos = max(pos, n)
    if pos < len(args) and not any(True for _ in re.finditer(r"%\[\d+\]", text)):
        raise EvalError("format: too many arguments")
    return "".join(out)


def _formatlist(fmt: Any, *args: Any) -> list[str | Unknown]:
    length = None
    for a in args:
        if isinstance(a, list):
            if length is not None and len(a) != length:
                raise EvalError("formatlist: lists of different lengths")
            length = len(a)
    if length is None:
        return [_format(fmt, *args)]
    return [_format(fmt, *[a[i] if isinstance(a, list) else a for a in args]) for i in range(length)]


# --- regular expressions (RE2 semantics where Python's re agrees) -------------

_RE2_UNSUPPORTED = re.compile(
    r"\\[1-9]|\\[pPzQEC]|\(\?[=!<]|\(\?P=|\(\?[a-zA-Z]*[^a-zA-Z:)]|\[\[:|\\[abefv]|\\x\{|\(\?<\w"
)
_CLASS_ESCAPES = {r"\d": "0-9", r"\w": "0-9A-Za-z_", r"\s": "\t\n\f\r "}
_NEG_ESCAPES = {r"\D": "[^0-9]", r"\W": "[^0-9A-Za-z_]", r"\S": "[^\t\n\f\r ]"}


def _re2(pattern: str) -> re.Pattern[str]:
    """A Python pattern that matches as RE2 would, or an EvalError where they may differ."""
    if _RE2_UNSUPPORTED.search(pattern):
        raise EvalError("a regular expression feature whose RE2 meaning is not evaluated")
    for m in re.finditer(r"\{(\d+)(?:,(\d*))?\}", pattern):
        if int(m.group(1)) > 1000 or (m.group(2) and int(m.group(2)) > 1000):
            raise EvalError("invalid regular expression: repeat count too large")
    flags = "".join(re.findall(r"\(\?([imsU]+)[):]", pattern))
    if "U" in flags:
        raise EvalError("a regular expression feature whose RE2 meaning is not evaluated")
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            esc = pattern[i: i + 2]
            if esc in ("\\b", "\\B"):
                out.append(esc)
            elif esc in _CLASS_ESCAPES:
                out.append(_CLASS_ESCAPES[esc] if in_class else f"[{_CLASS_ESCAPES[esc]}]")
            elif esc in _NEG_ESCAPES:
                if in_class:
                    raise EvalError("a regular expression feature whose RE2 meaning is not evaluated")
                out.append(_NEG_ESCAPES[esc])
            else:
                out.append(esc)
            i += 2
            continue
        if in_class:
            if c == "]" and not (out and out[-1] in ("[", "[^")):
                in_class = False
            elif c == "[":
                out.append("\\[")
                i += 1
                continue
            out.append(c)
        elif c == "[":
            in_class = True
            if pattern[i + 1: i + 2] == "^":
                out.append("[^")
                i += 2
                if pattern[i: i + 1] == "]":
                    out.append("\\]")
                    i += 1
                continue
            out.append("[")
            if pattern[i + 1: i + 2] == "]":
                out.append("\\]")
                i += 2
                continue
        elif c == "$" and "m" not in flags:
            out.append(r"(?!\n)\Z" if False else r"\Z")
        else:
            out.append(c)
        i += 1
    try:
        return re.compile("".join(out))
    except (re.error, RecursionError, OverflowError):
        raise EvalError("invalid regular expression") from None


def _re2_replacement(repl: str) -> Callable[[re.Match[str]], str]:
    def expand(m: re.Match[str]) -> str:
        def one(g: re.Match[str]) -> str:
            if g.group(0) == "$$":
                return "$"
            name = g.group(1) or g.group(2)
            try:
                value = m.group(int(name)) if name.isdigit() else m.group(name)
            except (IndexError, re.error):
                return ""
            return value or ""

        return re.sub(r"\$\$|\$\{(\w+)\}|\$(\w+)", one, repl)

    return expand


def _regex_result(m: re.Match[str], p: re.Pattern[str]) -> Any:
    if p.groups == 0:
        return m.group(0)
    if p.groupindex:
        if len(p.groupindex) != p.groups:
            raise EvalError("a regular expression mixing named and unnamed groups")
        return {name: m.group(name) for name in p.groupindex}
    return [m.group(i) for i in range(1, p.groups + 1)]


def _finditer(p: re.Pattern[str], s: str) -> list[re.Match[str]]:
    """Go's FindAll: successive matches, an empty match right after a match skipped."""
    out: list[re.Match[str]] = []
    pos, prev_end = 0, -1
    while pos <= len(s):
        m = p.search(s, pos)
        if m is None:
            break
        if m.start() == m.end():
            if m.start() != prev_end:
                out.append(m)
            pos = m.end() + 1
        else:
            out.append(m)
            pos = m.end()
        prev_end = m.end()
        if len(out) > MAX_COLLECTION:
            raise EvalError("too many matches")
    return out


def _regex(pattern: Any, s: Any) -> Any:
    p, text = _re2(_str(pattern)), _str(s)
    if not text.isascii() and (r"\b" in _str(pattern) or r"\B" in _str(pattern) or "(?i" in _str(pattern)):
        raise EvalError("a regular expression feature whose RE2 meaning is not evaluated")
    m = p.search(text)
    if m is None:
        raise EvalError("pattern did not match")
    return _regex_result(m, p)


def _regexall(pattern: Any, s: Any) -> list[Any]:
    p, text = _re2(_str(pattern)), _str(s)
    if not text.isascii() and (r"\b" in _str(pattern) or r"\B" in _str(pattern) or "(?i" in _str(pattern)):
        raise EvalError("a regular expression feature whose RE2 meaning is not evaluated")
    return [_regex_result(m, p) for m in _finditer(p, text)]


# --------------------------------------------------------------------------- #
# Numbers


def _abs(x: Any) -> Any:
    n = to_number(x)
    e = exact(n)
    return make(e if e >= 0 else -e, n.prec if isinstance(n, Num) else 512)


def _floor(x: Any) -> Any:
    n = to_number(x)
    return make(math.floor(exact(n)), n.prec if isinstance(n, Num) else 512)


def _ceil(x: Any) -> Any:
    n = to_number(x)
    return make(math.ceil(exact(n)), n.prec if isinstance(n, Num) else 512)


def _float64(x: Any) -> float:
    v = float(exact(to_number(x)))
    if not math.isfinite(v):
        raise EvalError("number beyond float64 range in a float64 function")
    return v


def _from_float64(v: float) -> Any:
    if not math.isfinite(v):
        raise EvalError("the result is not a finite number")
    if v == 0:
        return make(0) if math.copysign(1.0, v) > 0 else neg(0)  # float64 keeps the sign of zero
    f = Fraction(v)
    return make(f, FLOAT64_PREC)


def _go_pow(x: float, y: float) -> float:
    """Go's math.Pow for the cases it computes exactly in float64 steps (no Exp/Log): else EvalError."""
    if y == 0 or x == 1:
        return 1.0
    if y == 1:
        return x
    if x == 0:
        odd = y == int(y) and int(y) % 2 == 1
        if y < 0:
            raise EvalError("pow: the result is an infinity")
        return x if (math.copysign(1, x) < 0 and odd) else 0.0
    if y == 0.5:
        if x < 0:
            raise EvalError("pow: the result is not a number")
        return math.sqrt(x)
    if y == -0.5:
        if x < 0:
            raise EvalError("pow: the result is not a number")
        return 1 / math.sqrt(x)
    yi, yf = math.modf(abs(y))[1], math.modf(abs(y))[0]
    if yf != 0:
        raise EvalError("pow with a fractional exponent is not evaluated (float64 rounding)")
    if yi >= 2**63:
        raise EvalError("pow: exponent too large")
    a1, ae = 1.0, 0
    x1, xe = math.frexp(x)
    i = int(yi)
    while i != 0:
        if xe < -(1 << 12) or xe > (1 << 12):
            ae += xe
            break
        if i & 1 == 1:
            a1 *= x1
            ae += xe
        x1 *= x1
        xe <<= 1
        if x1 < 0.5:
            x1 += x1
            xe -= 1
        i >>= 1
    if y < 0:
        a1 = 1 / a1
        ae = -ae
    try:
        return math.ldexp(a1, ae)
    except OverflowError:
        raise EvalError("pow: the result is an infinity") from None


def _pow(a: Any, b: Any) -> Any:
    x, y = _float64(a), _float64(b)
    return _from_float64(_go_pow(x, y))


def _log(a: Any, b: Any) -> Any:
    x, base = _float64(a), _float64(b)
    if x <= 0 or base <= 0 or base == 1:
        raise EvalError("log of a number whose result is not finite")
    if x == 1:
        return 0
    if x == base:
        return 1
    raise EvalError("log is not evaluated (float64 rounding)")


def _signum(x: Any) -> int:
    v = to_int(x, "signum() argument")  # terraform: a whole number in int64
    return (v > 0) - (v < 0)


def _parseint(s: Any, base: Any) -> int | Num:
    text, b = _str(s), to_int(base, "base")
    if not 2 <= b <= 62:
        raise EvalError("base must be between 2 and 62")
    if b > 36:
        raise EvalError("base above 36 is not evaluated")
    body = text[1:] if text[:1] in "+-" else text
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"[:b]
    if not body or not all(c in digits for c in body.lower()) or len(body) > 10_000:
        raise EvalError("cannot parse the string as an integer")
    try:
        return make(int(text, b))
    except ValueError:
        raise EvalError("cannot parse the string as an integer") from None


def _minmax(pick: Callable[..., Any], *args: Any) -> Any:
    if not args:
        raise EvalError("needs at least one number")
    nums = [to_number(a) for a in args]
    return pick(nums, key=exact)


def _sum(lst: Any) -> Any:
    items = _list(lst)
    if not items:
        raise EvalError("sum of an empty list")
    total: Any = 0
    for x in items:
        if x is None:
            raise EvalError("sum of a list holding null")
        total = add(total, to_number(x))
    return total


# --------------------------------------------------------------------------- #
# Collections


def _bools(lst: Any) -> list[bool | None]:
    return [None if x is None else to_bool(x) for x in _list(lst)]  # list(bool): every element converts


def _alltrue(lst: Any) -> bool:
    return all(x is True for x in _bools(lst))


def _anytrue(lst: Any) -> bool:
    return any(x is True for x in _bools(lst))


def _chunklist(lst: Any, size: Any) -> list[Any] | Unknown:
    items, n = _list(lst), to_int(size, "size", 0)
    if any(is_number(x) and not isinstance(x, int) for x in items):
        # terraform gives such numbers back at a lower precision than it computed them with
        # (8/3 comes back with 20 digits); that rounding is not modelled.
        return Unknown("chunklist() of fractional numbers is not evaluated statically")
    if n == 0:
        return [items] if items else []
    return [items[i: i + n] for i in range(0, len(items), n)]


def _coalesce(*args: Any) -> Any:
    if not args:
        raise EvalError("coalesce needs at least one argument")
    unknown = next((a for a in args if isinstance(a, Unknown)), None)
    known = [a for a in args if not isinstance(a, Unknown)]
    if unknown is not None:
        return unknown
    values = unify(known)
    for v in values:
        if v is not None and v != "":
            return v
    raise EvalError("coalesce: no non-null, non-empty argument")


def _coalescelist(*args: Any) -> Any:
    if not args:
        raise EvalError("coalescelist needs at least one argument")
    for a in args:
        lst = _tuple(a)
        if lst:
            return lst
    raise EvalError("coalescelist: no non-empty list")


def _compact(lst: Any) -> list[Any]:
    items = _list(lst)
    return [to_str(x) for x in items if x is not None and to_str(x) != ""]


def _concat(*lists: Any) -> list[Any]:
    out: list[Any] = []
    for lst in lists:
        out.extend(_tuple(lst))
    return out


def _contains(lst: Any, value: Any) -> bool:
    items = _tuple(lst)
    return any(equal(x, value) for x in items)


def _distinct(lst: Any) -> list[Any]:
    out: list[Any] = []
    seen: set[tuple[str, Any]] = set()
    for x in _list(lst):
        key = _set_key(x) if x is not None else None
        if key is None:
            if not any(equal(x, y) and kind(x) == kind(y) for y in out):
                out.append(x)
        elif key not in seen:
            seen.add(key)
            out.append(x)
    return out


def _element(lst: Any, index: Any) -> Any:
    items = _tuple(lst)
    i = to_int(index, "index")
    if not items:
        raise EvalError("element of an empty list")
    if i < 0:
        raise EvalError("element index must not be negative")
    return items[i % len(items)]


def _flatten(v: Any) -> list[Any]:
    out: list[Any] = []
    for x in _tuple(v):
        if isinstance(x, list):
            out.extend(_flatten(x))
        else:
            out.append(x)
    return out


def _index(lst: Any, value: Any) -> int:
    for i, x in enumerate(_tuple(lst)):
        if equal(x, value):
            return i
    raise EvalError("item not found in the list")


def _keys(m: Any) -> list[str]:
    return sorted(_map(m, "keys() argument"))


def _values(m: Any) -> list[Any]:
    mapping = _map(m, "values() argument")
    return [mapping[k] for k in sorted(mapping)]


def _lookup(m: Any, key: Any, *default: Any) -> Any:
    if len(default) > 1:
        raise EvalError("lookup takes at most three arguments")
    mapping, k = _map(m, "lookup() map"), _str(key)
    if k in mapping:
        return mapping[k]
    if default:
        return default[0]
    raise EvalError("lookup: the key is not in the map and there is no default")


def _matchkeys(values: Any, keys: Any, search: Any) -> list[Any]:
    vals, ks, searched = _list(values), _list(keys), _list(search)
    if len(vals) != len(ks):
        raise EvalError("matchkeys: values and keys of different lengths")
    return [v for v, k in zip(vals, ks, strict=True) if any(equal(k, s) for s in searched)]


def _merge(*maps: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in maps:
        if m is None:
            continue
        out.update(_map(m, "merge() argument"))
    return out


def _one(lst: Any) -> Any:
    items = _tuple(lst)
    if len(items) > 1:
        raise EvalError("one: more than one element")
    return items[0] if items else None


def _range(*args: Any) -> list[Any]:
    if not 1 <= len(args) <= 3:
        raise EvalError("range takes one to three arguments")
    nums = [exact(to_number(a)) for a in args]
    start, stop, step = (0, nums[0], None) if len(nums) == 1 else (nums[0], nums[1], nums[2] if len(nums) > 2 else None)
    if step is None:
        step = 1 if stop >= start else -1
    if step == 0:
        raise EvalError("range step must not be zero")
    if (step > 0 and start > stop) or (step < 0 and start < stop):
        raise EvalError("range step in the wrong direction")
    count = math.ceil((Fraction(stop) - Fraction(start)) / Fraction(step))
    if count > MAX_COLLECTION:
        raise EvalError(f"range of more than {MAX_COLLECTION} elements")
    return [make(start + i * step) for i in range(max(count, 0))]


def _reverse(lst: Any) -> list[Any]:
    return list(reversed(_tuple(lst)))


def _common_sets(*sets: Any) -> list[list[Any]]:
    """The arguments as sets of one element type, as terraform converts them (1 and "a": strings)."""
    lists = [_tuple(s) for s in sets]
    unified = unify([x for lst in lists for x in lst])
    out, start = [], 0
    for lst in lists:
        out.append(_set(unified[start : start + len(lst)]))
        start += len(lst)
    return out


def _setintersection(first: Any, *others: Any) -> list[Any]:
    sets = _common_sets(first, *others)
    return _sorted_set([x for x in sets[0] if all(any(equal(x, y) for y in s) for s in sets[1:])])


def _setsubtract(a: Any, b: Any) -> list[Any]:
    sa, sb = _common_sets(a, b)
    return [x for x in sa if not any(equal(x, y) for y in sb)]


def _setunion(*sets: Any) -> list[Any]:
    if not sets:
        raise EvalError("setunion needs at least one set")
    return _set([x for s in sets for x in _tuple(s)])


def _setproduct(*sets: Any) -> list[Any]:
    if len(sets) < 2:
        raise EvalError("setproduct needs at least two sets")
    lists = [_list(s) for s in sets]
    total = math.prod(len(x) for x in lists)
    if total > MAX_COLLECTION:
        raise EvalError(f"setproduct of more than {MAX_COLLECTION} elements")
    out: list[list[Any]] = [[]]
    for lst in lists:
        out = [[*prefix, x] for prefix in out for x in lst]
    return out


def _slice(lst: Any, start: Any, end: Any) -> list[Any]:
    items = _tuple(lst)
    a, b = to_int(start, "start index"), to_int(end, "end index")
    if a < 0 or b > len(items) or a > b:
        raise EvalError("slice indexes out of range")
    return items[a:b]


def _sort(lst: Any) -> list[str]:
    items = _list(lst)
    if any(x is None for x in items):
        raise EvalError("sort of a list holding null")
    return sorted(to_str(x) for x in items)


def _transpose(m: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k in sorted(_map(m)):
        for v in _list(m[k]):
            out.setdefault(_str(v), []).append(k)
    return out


def _zipmap(keys: Any, values: Any) -> dict[str, Any]:
    ks, vs = _list(keys), _tuple(values)
    if len(ks) != len(vs):
        raise EvalError("zipmap: keys and values of different lengths")
    return {_str(k): v for k, v in zip(ks, vs, strict=True)}


# --------------------------------------------------------------------------- #
# Conversions


def _tostring(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, list | dict):
        raise EvalError(f"cannot convert {type_name(v)} to a string")
    return to_str(v)


def _tonumber(v: Any) -> Any:
    return None if v is None else to_number(v)


def _tobool(v: Any) -> Any:
    return None if v is None else to_bool(v)


def _tolist(v: Any) -> list[Any]:
    return _list(v)


def _toset(v: Any) -> list[Any]:
    return _set(v)


def _tomap(v: Any) -> dict[str, Any]:
    m = _map(v)
    keys = list(m)
    return dict(zip(keys, unify([m[k] for k in keys]), strict=True))


# --------------------------------------------------------------------------- #
# Encoding


def _json_string(s: str) -> str:
    out = json.dumps(s, ensure_ascii=False)
    return out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace(
        "\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _jsonencode(v: Any) -> str:
    if contains_unknown(v) is not None:
        raise EvalError("jsonencode of a value that is not known")
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if is_number(v):
        return number_text(v)
    if isinstance(v, str):
        return _json_string(v)
    if isinstance(v, list):
        return "[" + ",".join(_jsonencode(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{_json_string(k)}:{_jsonencode(v[k])}" for k in sorted(v)) + "}"
    raise EvalError(f"jsonencode of {type_name(v)}")


def _json_number(text: str) -> Any:
    from validator.sources.terraform.hcl.values import parse_number

    return parse_number(text)


def _jsondecode(s: Any) -> Any:
    text = _str(s)
    try:
        return json.loads(text, parse_float=_json_number, parse_int=_json_number,
                          parse_constant=_bad_json_constant, object_pairs_hook=_json_object)
    except RecursionError:
        raise EvalError("JSON nested too deeply to evaluate") from None
    except ValueError:
        raise EvalError("the string is not valid JSON") from None


def _bad_json_constant(_name: str) -> Any:
    raise ValueError("not JSON")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return dict(pairs)


def _base64encode(s: Any) -> str:
    import base64

    return base64.b64encode(_str(s).encode("utf-8")).decode("ascii")


def _base64decode(s: Any) -> str:
    import base64

    try:
        raw = base64.b64decode(_str(s), validate=True)
        return raw.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise EvalError("base64decode: not base64 of UTF-8 text") from None


_ENCODINGS = {"UTF-8": "utf-8", "UTF-16LE": "utf-16-le", "UTF-16BE": "utf-16-be", "UTF-32LE": "utf-32-le",
              "UTF-32BE": "utf-32-be", "ISO-8859-1": "latin-1", "US-ASCII": "ascii"}


def _encoding(name: Any) -> str:
    key = _str(name).upper()
    if key not in _ENCODINGS:
        raise EvalError("a text encoding whose name is not evaluated")
    codecs.lookup(_ENCODINGS[key])
    return _ENCODINGS[key]


def _textencodebase64(s: Any, enc: Any) -> str:
    import base64

    try:
        return base64.b64encode(_str(s).encode(_encoding(enc))).decode("ascii")
    except UnicodeEncodeError:
        raise EvalError("the string has characters the encoding cannot represent") from None


def _textdecodebase64(s: Any, enc: Any) -> str:
    import base64

    try:
        return base64.b64decode(_str(s), validate=True).decode(_encoding(enc))
    except (ValueError, UnicodeDecodeError):
        raise EvalError("textdecodebase64: not base64 of text in that encoding") from None


def _urlencode(s: Any) -> str:
    return urllib.parse.quote_plus(_str(s), safe="-_.~")


def _csvdecode(s: Any) -> list[dict[str, str]]:
    import csv
    import io

    text = _str(s)
    try:
        rows = list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error:
        raise EvalError("csvdecode: the string is not valid CSV") from None
    if not rows:
        raise EvalError("csvdecode: no header row")
    header, out = rows[0], []
    for row in rows[1:]:
        if len(row) != len(header):
            raise EvalError("csvdecode: a row with a different number of fields")
        out.append(dict(zip(header, row, strict=True)))
    return out


def _hash(algorithm: str, encoding: str) -> Callable[[Any], str]:
    def f(s: Any) -> str:
        import base64
        import hashlib

        digest = hashlib.new(algorithm, _str(s).encode("utf-8"))
        return digest.hexdigest() if encoding == "hex" else base64.b64encode(digest.digest()).decode("ascii")

    return f


def _uuidv5(namespace: Any, name: Any) -> str:
    import uuid

    ns = _str(namespace)
    known = {"dns": uuid.NAMESPACE_DNS, "url": uuid.NAMESPACE_URL, "oid": uuid.NAMESPACE_OID,
             "x500": uuid.NAMESPACE_X500}
    if ns in known:
        space = known[ns]
    else:
        try:
            space = uuid.UUID(ns)
        except ValueError:
            raise EvalError("uuidv5: the namespace is not a UUID") from None
    return str(uuid.uuid5(space, _str(name)))


# --------------------------------------------------------------------------- #
# Paths (pure string functions; those that read the disk stay unknown)


def _basename(p: Any) -> str:
    path = _str(p)
    if path == "":
        return "."
    stripped = path.rstrip("/")
    if stripped == "":
        return "/"
    return stripped.rsplit("/", 1)[-1]


def _dirname(p: Any) -> str:
    path = _str(p)
    head = path[: path.rfind("/") + 1] if "/" in path else ""
    import posixpath

    cleaned = posixpath.normpath(head) if head else "."
    return cleaned


# --------------------------------------------------------------------------- #
# Networks


def _network(prefix: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    import ipaddress

    text = _str(prefix)
    try:
        _address, _, bits = text.partition("/")
        if not bits.isdigit() or (bits.startswith("0") and bits != "0"):
            raise ValueError
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise EvalError("not a CIDR prefix") from None


def _cidrhost(prefix: Any, hostnum: Any) -> str:
    net = _network(prefix)
    n = to_int(hostnum, "host number")
    size = net.num_addresses
    if n < 0:
        n += size
    if not 0 <= n < size:
        raise EvalError("host number out of range for the prefix")
    return str(net.network_address + n)


def _cidrnetmask(prefix: Any) -> str:
    net = _network(prefix)
    if net.version != 4:
        raise EvalError("cidrnetmask of an IPv6 prefix")
    return str(net.netmask)


def _cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    import ipaddress

    net = _network(prefix)
    bits = to_int(newbits, "newbits", 0, 128)
    num = to_int(netnum, "netnum")
    new_prefix = net.prefixlen + bits
    if new_prefix > net.max_prefixlen:
        raise EvalError("not enough remaining address space for the new bits")
    if not 0 <= num < (1 << bits):
        raise EvalError("netnum out of range for the new bits")
    base = int(net.network_address) + (num << (net.max_prefixlen - new_prefix))
    return f"{ipaddress.ip_address(base) if net.version == 4 else ipaddress.IPv6Address(base)}/{new_prefix}"


def _cidrsubnets(prefix: Any, *newbits: Any) -> list[str]:
    import ipaddress

    net = _network(prefix)
    out: list[str] = []
    current = int(net.network_address)
    end = int(net.network_address) + net.num_addresses
    for nb in newbits:
        bits = to_int(nb, "newbits", 1, 128)
        length = net.prefixlen + bits
        if length > net.max_prefixlen:
            raise EvalError("not enough remaining address space for the new bits")
        size = 1 << (net.max_prefixlen - length)
        if current % size:
            current += size - current % size
        if current + size > end:
            raise EvalError("not enough remaining address space")
        addr = ipaddress.IPv4Address(current) if net.version == 4 else ipaddress.IPv6Address(current)
        out.append(f"{addr}/{length}")
        current += size
    return out


# --------------------------------------------------------------------------- #
# Time (pure: formatting and arithmetic on given timestamps)


_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _timestamp(s: Any) -> tuple[datetime, str]:
    text = _str(s)
    m = _RFC3339.match(text)
    if not m:
        raise EvalError("not an RFC 3339 timestamp")
    try:
        zone = m.group(8)
        dt = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise EvalError("not an RFC 3339 timestamp") from None
    return dt, m.group(7) or "" if zone else ""


def _timeadd(ts: Any, duration: Any) -> str:
    dt, frac = _timestamp(ts)
    text = _str(duration)
    m = re.fullmatch(r"([+-]?)((?:\d+(?:\.\d+)?(?:h|m|s|ms|us|µs|ns))+)", text)
    if not m:
        raise EvalError("not a duration")
    total = Fraction(0)
    scale: dict[str, int | Fraction] = {"h": 3600, "m": 60, "s": 1, "ms": Fraction(1, 1000), "us": Fraction(1, 10**6),
             "µs": Fraction(1, 10**6), "ns": Fraction(1, 10**9)}
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)", m.group(2)):
        total += Fraction(amount) * scale[unit]
    if m.group(1) == "-":
        total = -total
    if frac or total.denominator != 1:
        raise EvalError("sub-second timestamps are not evaluated")
    try:
        out = dt + timedelta(seconds=int(total))
    except OverflowError:
        raise EvalError("timestamp out of range") from None
    if out.utcoffset() == timedelta(0):
        return out.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out.isoformat()


def _timecmp(a: Any, b: Any) -> int:
    x, _ = _timestamp(a)
    y, _ = _timestamp(b)
    return (x > y) - (x < y)


_DATE_TOKENS = re.compile(r"'[^']*'|YYYY|YY|MMMM|MMM|MM|M|DD|D|EEEE|EEE|hh|h|HH|H|mm|m|ss|s|AA|aa|ZZZZZ|ZZZZ|ZZZ|Z|"
                          r"[A-Za-z]")


def _formatdate(spec: Any, ts: Any) -> str:
    dt, _frac = _timestamp(ts)
    out: list[str] = []
    fmt = _str(spec)
    pos = 0
    for m in _DATE_TOKENS.finditer(fmt):
        out.append(fmt[pos: m.start()])
        tok = m.group(0)
        pos = m.end()
        offset = dt.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        hh, mm = divmod(abs(minutes), 60)
        table = {
            "YYYY": f"{dt.year:04d}", "YY": f"{dt.year % 100:02d}", "MMMM": dt.strftime("%B"),
            "MMM": dt.strftime("%b"), "MM": f"{dt.month:02d}", "M": str(dt.month), "DD": f"{dt.day:02d}",
            "D": str(dt.day), "EEEE": dt.strftime("%A"), "EEE": dt.strftime("%a"), "hh": f"{dt.hour:02d}",
            "h": str(dt.hour), "HH": f"{(dt.hour % 12) or 12:02d}", "H": str((dt.hour % 12) or 12),
            "mm": f"{dt.minute:02d}", "m": str(dt.minute), "ss": f"{dt.second:02d}", "s": str(dt.second),
            "AA": "AM" if dt.hour < 12 else "PM", "aa": "am" if dt.hour < 12 else "pm",
            "ZZZZZ": f"{sign}{hh:02d}:{mm:02d}", "ZZZZ": f"{sign}{hh:02d}{mm:02d}",
            "ZZZ": "UTC" if minutes == 0 else f"{sign}{hh:02d}{mm:02d}",
            "Z": "Z" if minutes == 0 else f"{sign}{hh:02d}:{mm:02d}",
        }
        if tok.startswith("'"):
            out.append(tok[1:-1] if tok != "''" else "'")
        elif tok in table:
            out.append(table[tok])
        else:
            raise EvalError("formatdate: invalid format")
    out.append(fmt[pos:])
    return "".join(out)


# --------------------------------------------------------------------------- #
# Sensitivity: values are kept; whether they are secret is the model's concern


def _identity(v: Any) -> Any:
    return v


def _ephemeralasnull(v: Any) -> Any:
    return v


FUNCTIONS: dict[str, Callable[..., Any]] = {
    # strings
    "chomp": _chomp,
    "endswith": _endswith,
    "format": _format,
    "formatlist": _formatlist,
    "indent": _indent,
    "join": _join,
    "lower": lambda s: _simple_case(_str(s), upper=False),
    "regex": _regex,
    "regexall": _regexall,
    "replace": _replace,
    "split": _split,
    "startswith": _startswith,
    "strcontains": _strcontains,
    "strrev": _strrev,
    "substr": _substr,
    "title": _title,
    "trim": _trim,
    "trimprefix": _trimprefix,
    "trimspace": _trimspace,
    "trimsuffix": _trimsuffix,
    "upper": lambda s: _simple_case(_str(s), upper=True),
    # numbers
    "abs": _abs,
    "ceil": _ceil,
    "floor": _floor,
    "log": _log,
    "max": lambda *a: _minmax(max, *a),
    "min": lambda *a: _minmax(min, *a),
    "parseint": _parseint,
    "pow": _pow,
    "signum": _signum,
    "sum": _sum,
    # collections
    "alltrue": _alltrue,
    "anytrue": _anytrue,
    "chunklist": _chunklist,
    "coalesce": _coalesce,
    "coalescelist": _coalescelist,
    "compact": _compact,
    "concat": _concat,
    "contains": _contains,
    "distinct": _distinct,
    "element": _element,
    "flatten": _flatten,
    "index": _index,
    "keys": _keys,
    "length": _length,
    "lookup": _lookup,
    "matchkeys": _matchkeys,
    "merge": _merge,
    "one": _one,
    "range": _range,
    "reverse": _reverse,
    "setintersection": _setintersection,
    "setproduct": _setproduct,
    "setsubtract": _setsubtract,
    "setunion": _setunion,
    "slice": _slice,
    "sort": _sort,
    "transpose": _transpose,
    "values": _values,
    "zipmap": _zipmap,
    # conversions
    "tobool": _tobool,
    "tolist": _tolist,
    "tomap": _tomap,
    "tonumber": _tonumber,
    "toset": _toset,
    "tostring": _tostring,
    "sensitive": _identity,
    "nonsensitive": _identity,
    "ephemeralasnull": _ephemeralasnull,
    # encoding
    "base64decode": _base64decode,
    "base64encode": _base64encode,
    "csvdecode": _csvdecode,
    "jsondecode": _jsondecode,
    "jsonencode": _jsonencode,
    "textdecodebase64": _textdecodebase64,
    "textencodebase64": _textencodebase64,
    "urlencode": _urlencode,
    # hashes
    "md5": _hash("md5", "hex"),
    "sha1": _hash("sha1", "hex"),
    "sha256": _hash("sha256", "hex"),
    "sha512": _hash("sha512", "hex"),
    "base64sha256": _hash("sha256", "base64"),
    "base64sha512": _hash("sha512", "base64"),
    "uuidv5": _uuidv5,
    # paths and networks
    "basename": _basename,
    "dirname": _dirname,
    "cidrhost": _cidrhost,
    "cidrnetmask": _cidrnetmask,
    "cidrsubnet": _cidrsubnet,
    "cidrsubnets": _cidrsubnets,
    # time
    "formatdate": _formatdate,
    "timeadd": _timeadd,
    "timecmp": _timecmp,
}

# Functions that see unknown arguments themselves (they may not need every argument).
UNKNOWN_TOLERANT = {"coalesce"}

# Functions terraform has that stay unknown here, and why.
NOT_STATIC: dict[str, str] = {
    "timestamp": "the time of the run",
    "plantimestamp": "the time of the plan",
    "uuid": "a random value",
    "bcrypt": "a random salt",
    "base64gzip": "the compressor's exact bytes",
    "rsadecrypt": "a private key",
    "abspath": "the machine's working directory",
    "pathexpand": "the user's home directory",
    "file": "the content of a file",
    "fileexists": "the file system",
    "fileset": "the file system",
    "filebase64": "the content of a file",
    "filebase64sha256": "the content of a file",
    "filebase64sha512": "the content of a file",
    "filemd5": "the content of a file",
    "filesha1": "the content of a file",
    "filesha256": "the content of a file",
    "filesha512": "the content of a file",
    "templatefile": "the content of a file",
    "templatestring": "a template known only at run time",
    "yamldecode": "YAML semantics not evaluated",
    "yamlencode": "YAML layout not evaluated",
    "issensitive": "the sensitivity of values, which the model tracks separately",
}
