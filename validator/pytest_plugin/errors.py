"""The error a step raises when it cannot find or change what it names (an AssertionError: pytest shows it plainly)."""

from __future__ import annotations


class ConfigurationError(AssertionError):
    """A step cannot find or change what it names in the configuration."""
