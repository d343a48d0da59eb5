"""Every scenario of the .feature files in this directory, as pytest tests."""

from pytest_bdd import scenarios

scenarios(".")
