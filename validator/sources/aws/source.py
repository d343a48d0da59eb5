"""The live source as registered (``validator.sources``): Aurora clusters read from AWS."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from validator.errors import InputError
from validator.sources import Loaded

if TYPE_CHECKING:
    from validator.model import RefusedCall
    from validator.sources.aws.audit import LiveRequest


@dataclass
class LiveLoaded(Loaded):
    """A live load also says which regions were read and which calls AWS refused or failed."""

    regions: list[str] = field(default_factory=list)
    refused: list[RefusedCall] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)  # many accounts: every account asked for


def load_live(request: LiveRequest) -> LiveLoaded:
    """One deployment per cluster (per account and region with --accounts); none at all is an input
    error ("nothing to audit")."""
    if request.accounts is None:
        from validator.sources.aws.audit import audit

        result = audit(request)
    else:
        from validator.sources.aws.accounts import audit_accounts

        result = audit_accounts(request, request.accounts)
    errors: list[InputError] = []
    if not result.deployments:
        where = ", ".join(result.regions)
        errors.append(
            InputError(where, "no Aurora PostgreSQL cluster found (the audit read every page)", "nothing to audit")
        )
    return LiveLoaded(
        list(result.deployments), errors, list(result.regions), list(result.refused), list(result.accounts)
    )
