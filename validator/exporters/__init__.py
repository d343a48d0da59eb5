"""Exporters: the rule catalogue written in other tools' policy languages."""
