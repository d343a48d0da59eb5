"""Fixtures every test under tests/ gets, and the hypothesis profile CI runs with."""

import os

from cache_isolation import _session_cache_home, isolated_cache  # noqa: F401
from hypothesis import settings

# A gate must not fail on the draw of the day: CI replays the same generated inputs every run
# (derandomize); a developer's run draws new ones, and `make fuzz` draws thousands.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
