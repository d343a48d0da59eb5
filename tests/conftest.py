"""Fixtures every test under tests/ gets."""

from cache_isolation import _session_cache_home, isolated_cache  # noqa: F401
