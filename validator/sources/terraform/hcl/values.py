"""Terraform values in Python: numbers as terraform computes them, conversions and equality.

Terraform numbers are ``big.Float`` values: binary floating point with a 512-bit mantissa for
literals and arithmetic (53 bits for results of float64 functions such as ``pow``), and an exponent
range far beyond float64's (``1e999`` is an ordinary number). We keep them exactly:

- an integer whose mantissa fits 512 bits is a Python ``int``;
- any other number is a :class:`Num`, a ``float`` (so the rest of the code can compare and print it)
  that also carries the exact dyadic value and the mantissa precision terraform would give it.

Every operation rounds to the precision terraform uses (round half to even), and numbers print as
terraform prints them (the shortest decimal that reads back to the same value, never an exponent).
Numbers beyond ``MAX_EXPONENT_BITS`` make the value unknown rather than exhaust memory.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

from validator.model import Unknown
from validator.sources.terraform.records import RefStr as RefStr
from validator.sources.terraform.records import ResourceObj as ResourceObj

PREC = 512  # terraform's mantissa bits for numbers it parses and computes
FLOAT64_PREC = 53  # results of float64 functions (pow, log)
# A number whose magnitude is beyond 2**MAX_EXPONENT_BITS (about 1e12000) is not evaluated.
MAX_EXPONENT_BITS = 40_000
# The longest decimal text of a number we build (terraform prints numbers without exponent).
MAX_NUMBER_DIGITS = 20_000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class EvalError(Exception):
    """An expression that cannot be evaluated (type error, bad call): becomes Unknown."""


# --------------------------------------------------------------------------- #
# Numbers


class Num(float):
    """A number that is not a 512-bit integer: its float approximation, exact value and precision."""

    exact: Fraction
    prec: int

    def __new__(cls, exact: Fraction, prec: int, negative_zero: bool = False) -> Num:
        try:
            approx = -0.0 if negative_zero else float(exact)
        except OverflowError:
            approx = math.inf if exact > 0 else -math.inf
        obj = super().__new__(cls, approx)
        obj.exact = exact
        obj.prec = prec
        return obj

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bool):
            return False
        if isinstance(other, Num):
            return self.exact == other.exact
        if isinstance(other, int | float):
            return self.exact == exact(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(self.exact)

    def __repr__(self) -> str:
        return f"Num({number_text(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled with its exact value (the parse cache and worker processes carry numbers).
        negative_zero = self.exact == 0 and math.copysign(1.0, float(self)) < 0
        return (Num, (self.exact, self.prec, negative_zero))


def _round(value: Fraction, prec: int) -> Fraction:
    """``value`` rounded to ``prec`` mantissa bits, half to even (big.Float's ToNearestEven)."""
    if value == 0:
        return Fraction(0)
    n, d = abs(value.numerator), value.denominator
    e = n.bit_length() - d.bit_length()  # 2**(e-1) < n/d < 2**(e+1)
    if abs(e) > MAX_EXPONENT_BITS:
        raise EvalError("number out of the range evaluated (beyond 1e12000)")
    shift = prec - e  # scale so the integer part has prec or prec+1 bits
    num, den = (n << shift, d) if shift >= 0 else (n, d << -shift)
    q, r = divmod(num, den)
    if q.bit_length() > prec:
        extra = q.bit_length() - prec
        r = (q & ((1 << extra) - 1)) * den + r
        den <<= extra
        q >>= extra
        shift -= extra
    twice = 2 * r
    if twice > den or (twice == den and q & 1):
        q += 1
    out = Fraction(q << -shift) if shift <= 0 else Fraction(q, 1 << shift)
    return out if value > 0 else -out


def make(value: int | Fraction, prec: int = PREC) -> int | Num:
    """The number terraform holds for an exact result: rounded to ``prec`` bits."""
    if isinstance(value, int):
        if value.bit_length() <= prec:
            return value
        if value.bit_length() > MAX_EXPONENT_BITS:
            raise EvalError("number out of the range evaluated (beyond 1e12000)")
        value = Fraction(value)
    rounded = _round(value, prec)
    if rounded.denominator == 1 and (prec >= PREC or abs(rounded.numerator).bit_length() <= FLOAT64_PREC):
        return int(rounded)
    return Num(rounded, prec)


def exact(value: Any) -> int | Fraction:
    """The exact value of a number (``int``, :class:`Num` or a plain float)."""
    if isinstance(value, bool):
        raise EvalError("a bool is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, Num):
        return value.exact
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EvalError("a number that is not finite")
        return Fraction(repr(value))
    if isinstance(value, Decimal):
        return Fraction(value)
    raise EvalError(f"{type_name(value)} is not a number")


def prec_of(value: Any) -> int:
    return value.prec if isinstance(value, Num) else PREC


def parse_number(text: str) -> int | Num:
    """A decimal number literal as terraform reads it (``big.ParseFloat`` at 512 bits)."""
    t = text.strip()
    mantissa, _, exponent = t.lower().partition("e")
    if exponent:
        try:
            exp10 = int(exponent)
        except ValueError:
            raise EvalError("not a decimal number") from None
        if abs(exp10) > MAX_EXPONENT_BITS // 3:
            raise EvalError("number out of the range evaluated (beyond 1e12000)")
    if len(mantissa) > MAX_NUMBER_DIGITS:
        raise EvalError("number literal too long")
    try:
        value = Fraction(t)
    except (ValueError, ZeroDivisionError):
        raise EvalError("not a decimal number") from None
    if value == 0:
        return _zero(t.startswith("-"))
    if value.denominator == 1:
        return make(int(value))
    return make(value)


def _decimal(m: int, e: int) -> tuple[str, int]:
    """Exact decimal digits (no trailing zeros) and point position of ``m * 2**e``: 0.DIGITS * 10**pos."""
    if m == 0:
        return "", 0
    if e >= 0:
        digits = _int_digits(m << e)
        pos = len(digits)
    else:
        tz = (m & -m).bit_length() - 1
        cut = min(tz, -e)
        m >>= cut
        e += cut
        digits = _int_digits(m * 5 ** (-e)) if e < 0 else _int_digits(m)
        pos = len(digits) + e
    return digits.rstrip("0"), pos


def _int_digits(n: int) -> str:
    if n.bit_length() < 10_000:
        return str(n)
    if n.bit_length() > MAX_NUMBER_DIGITS * 4:
        raise EvalError("number too long to write out")
    return format(Decimal(n), "f")  # no int-to-str digit limit


def _at(digits: str, i: int) -> str:
    return digits[i] if i < len(digits) else "0"


def _round_digits(digits: str, pos: int, n: int, up: bool) -> tuple[str, int]:
    if not up:
        return digits[:n].rstrip("0"), pos
    head = digits[:n]
    stripped = head.rstrip("9")
    if not stripped:
        return "1", pos + 1
    return stripped[:-1] + str(int(stripped[-1]) + 1), pos


def _shortest(value: Fraction, prec: int) -> tuple[str, int]:
    """big.Float's shortest decimal for ``|value|`` at ``prec`` bits (math/big ftoa.go roundShortest)."""
    n, d = abs(value.numerator), value.denominator
    e2 = -(d.bit_length() - 1)  # d is a power of two
    m = n
    digits, pos = _decimal(m, e2)
    if not digits:
        return digits, pos
    s = m.bit_length() - (prec + 1)
    mant, exp = (m << -s, e2 + s) if s < 0 else (m >> s, e2 + s)
    lower, _ = _decimal(mant - 1, exp)
    upper, _ = _decimal(mant + 1, exp)
    inclusive = mant & 2 == 0
    for i, ch in enumerate(digits):
        lo, up = _at(lower, i), _at(upper, i)
        okdown = lo != ch or (inclusive and i + 1 == len(lower))
        okup = ch != up and (inclusive or int(ch) + 1 < int(up) or i + 1 < len(upper))
        if okdown and okup:
            nxt = _at(digits, i + 1)
            half = nxt == "5" and i + 2 == len(digits)
            round_up = (int(ch) % 2 == 1) if half else nxt >= "5"
            return _round_digits(digits, pos, i + 1, round_up)
        if okdown:
            return _round_digits(digits, pos, i + 1, False)
        if okup:
            return _round_digits(digits, pos, i + 1, True)
    return digits, pos


def _fixed(digits: str, pos: int, places: int) -> str:
    whole = (digits[:pos] + "0" * max(0, pos - len(digits))) if pos > 0 else "0"
    if places <= 0:
        return whole
    frac = "".join(_at(digits, pos + i) if pos + i >= 0 else "0" for i in range(places))
    return f"{whole}.{frac}"


def number_text(value: Any) -> str:
    """A number as terraform writes it in strings and JSON (``Text('f', -1)``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() <= PREC:
            return str(value)
        x: Fraction = Fraction(value)
        prec = PREC
    else:
        x = Fraction(exact(value) if not isinstance(value, Num) else value.exact)
        prec = prec_of(value)
        if x == 0:
            return "-0" if is_negative(value) else "0"
        if x.denominator == 1 and abs(x.numerator).bit_length() <= min(prec, FLOAT64_PREC):
            return str(x.numerator)
    if x == 0:
        return "-0" if is_negative(value) else "0"
    digits, pos = _shortest(x, prec)
    if pos > MAX_NUMBER_DIGITS or -pos > MAX_NUMBER_DIGITS:
        raise EvalError("number too long to write out")
    text = _fixed(digits, pos, max(len(digits) - pos, 0))
    return "-" + text if x < 0 else text


def number_json(value: Any) -> int | Decimal:
    """A number as terraform's JSON has it: an int, or the Decimal of its text."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() <= PREC:
        return value
    text = number_text(value)
    return int(Decimal(text)) if "." not in text else Decimal(text)  # no int-from-str digit limit


def to_int(value: Any, what: str = "value", lo: int = INT64_MIN, hi: int = INT64_MAX) -> int:
    """A whole number in a range (terraform's int conversions), or an EvalError saying which rule it breaks."""
    x = exact(to_number(value))
    if isinstance(x, Fraction) and x.denominator != 1:
        raise EvalError(f"{what} must be a whole number")
    i = int(x)
    if not lo <= i <= hi:
        raise EvalError(f"{what} is out of range")
    return i


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_negative(value: Any) -> bool:
    """Whether a number is below zero, or is terraform's negative zero (``-0``)."""
    if isinstance(value, Num) and value.exact == 0:
        return math.copysign(1.0, value) < 0
    return exact(value) < 0


def _zero(negative: bool, prec: int = PREC) -> int | Num:
    return Num(Fraction(0), prec, negative_zero=True) if negative else 0


def add(a: Any, b: Any) -> int | Num:
    if type(a) is int and type(b) is int:
        return make(a + b)
    total = exact(a) + exact(b)
    if total == 0:
        return _zero(is_negative(a) and is_negative(b) and exact(a) == 0)
    return make(total, max(prec_of(a), prec_of(b)))


def sub(a: Any, b: Any) -> int | Num:
    if type(a) is int and type(b) is int:
        return make(a - b)
    total = exact(a) - exact(b)
    if total == 0:
        return _zero(exact(a) == 0 and is_negative(a) and not is_negative(b))
    return make(total, max(prec_of(a), prec_of(b)))


def mul(a: Any, b: Any) -> int | Num:
    if type(a) is int and type(b) is int:
        if a.bit_length() + b.bit_length() > MAX_EXPONENT_BITS:
            raise EvalError("number out of the range evaluated (beyond 1e12000)")
        if a * b == 0:
            return _zero((a < 0) != (b < 0))
        return make(a * b)
    product = exact(a) * exact(b)
    if product == 0:
        return _zero(is_negative(a) != is_negative(b))
    return make(product, max(prec_of(a), prec_of(b)))


def div(a: Any, b: Any) -> int | Num:
    x, y = exact(a), exact(b)
    if y == 0:
        if x == 0:
            raise EvalError("can't divide zero by zero")
        raise EvalError("division by zero gives an infinity, which terraform cannot store")
    if x == 0:
        return _zero(is_negative(a) != is_negative(b))
    return make(Fraction(x) / Fraction(y), max(prec_of(a), prec_of(b)))


def mod(a: Any, b: Any) -> int | Num:
    """``a % b`` as terraform computes it: ``a - b * trunc(a / b)``; ``a % 0`` is ``a``."""
    x, y = exact(a), exact(b)
    if y == 0:
        return make(x, prec_of(a))
    if isinstance(x, int) and isinstance(y, int):
        if max(abs(x), abs(y)).bit_length() > 500:
            raise EvalError("remainder of numbers this large is not evaluated")
        r = abs(x) % abs(y)
        return make(-r if x < 0 else r)
    q = Fraction(x) / Fraction(y)
    if abs(q) >= 2**64 or Fraction(x).denominator > 2**64 or Fraction(y).denominator > 2**64:
        raise EvalError("remainder of numbers this large or this fine is not evaluated")
    return make(Fraction(x) - Fraction(y) * math.trunc(q), max(prec_of(a), prec_of(b)))


def neg(a: Any) -> int | Num:
    if exact(a) == 0:
        return _zero(not is_negative(a))
    if type(a) is int:
        return -a
    return make(-exact(a), prec_of(a))


def compare(a: Any, b: Any) -> int:
    x, y = exact(a), exact(b)
    return (x > y) - (x < y)


# --------------------------------------------------------------------------- #
# Conversions (terraform's automatic ones between string, number and bool)


def kind(value: Any) -> str:
    """A known value's kind: null, bool, number, string, list, map, or other (a resource object)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "other"


def type_name(value: Any) -> str:
    """A value's kind as terraform names it in errors, without its content."""
    name = kind(value)
    if name == "null":
        return "null"
    if name == "other":
        return "a resource" if isinstance(value, ResourceObj) else "a value"
    return f"a {name}"


def to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return number_text(value)
    if value is None:
        raise EvalError("null in a string")
    raise EvalError(f"cannot use {type_name(value)} as a string")


def to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise EvalError("a bool is not a number")
    if isinstance(value, int | Num):
        return value
    if isinstance(value, float):
        return make(exact(value))
    if isinstance(value, str):
        t = value
        if not t or t != t.strip() or t.lower().lstrip("+-") in ("inf", "infinity", "nan") or "_" in t:
            raise EvalError("a string that is not a decimal number is not a number")
        try:
            return parse_number(t)
        except EvalError:
            raise EvalError("a string that is not a decimal number is not a number") from None
    raise EvalError(f"{type_name(value)} is not a number")


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise EvalError(f"{type_name(value)} is not a bool")


def equal(a: Any, b: Any) -> bool:
    """Terraform's ``==``: values of different types are never equal; numbers compare exactly."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return exact(a) == exact(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, str) and isinstance(b, str):
        return str.__eq__(a, b)
    return type(a) is type(b) and a == b


def contains_unknown(value: Any, _seen: set[int] | None = None) -> Unknown | None:
    """The first Unknown (or resource reference) anywhere in a value.

    Each list or map is visited once: values share parts, and following every path of
    ``[local.a, local.a]`` doubled twenty times would never end.
    """
    if isinstance(value, Unknown):
        return value
    if isinstance(value, ResourceObj):
        return Unknown(f"{value.address} is a resource, known only after apply", (value.address,))
    if isinstance(value, list | dict):
        seen = set() if _seen is None else _seen
        if id(value) in seen:
            return None
        seen.add(id(value))
        for item in value.values() if isinstance(value, dict) else value:
            found = contains_unknown(item, seen)
            if found:
                return found
    return None


def to_json_value(value: Any) -> Any:
    """A value in terraform's JSON terms (numbers as int or Decimal), or the Unknown it holds."""
    found = contains_unknown(value)
    if found is not None:
        return found

    def conv(v: Any) -> Any:
        if isinstance(v, bool) or v is None:
            return v
        if is_number(v):
            return number_json(v)
        if isinstance(v, str):
            return str(v)
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {str(k): conv(x) for k, x in v.items()}
        raise EvalError(f"cannot write {type_name(v)} as JSON")

    try:
        return conv(value)
    except EvalError as exc:
        return Unknown(str(exc))
