"""Rule profiles (``--ruleset``): the severities a run gives each rule.

A module of its own, with nothing to import, so that the command line's parser
names the profiles without loading the model.
"""

from __future__ import annotations

PROFILES = ("default", "bedrock-kb")
