"""pytest-bdd's step decorators, or None each when pytest-bdd is not installed (the plugin then offers no steps)."""

from __future__ import annotations

try:
    from pytest_bdd import given as given
    from pytest_bdd import parsers as parsers
    from pytest_bdd import then as then
    from pytest_bdd import when as when
except ImportError:  # pytest without pytest-bdd
    given = when = then = parsers = None  # type: ignore[assignment]
