"""AV301-AV304: security warnings on the cluster, its instances and security groups."""

from __future__ import annotations

from collections.abc import Iterator

from validator import facts
from validator.model import Cluster, Deployment, Location, Unknown
from validator.rules.base import ClusterRule, Result, Severity
from validator.rules.helpers import (
    argument_is_true,
    db_port,
    default_group_note,
    open_cidrs,
    security_groups_or_reason,
    undetermined,
    unknown_ingress_input,
    unresolved_value,
    where,
)
from validator.sources import TERRAFORM_KINDS


class OpenDatabasePort(ClusterRule):
    id = "AV301"
    title = "The database port is not open to the whole internet"
    severity = Severity.WARNING
    rationale = (
        "An ingress rule from 0.0.0.0/0 or ::/0 to the database port (or to all ports) lets anyone on the "
        "internet try to log in; no built-in checkov check flags port 5432."
    )
    risk = "The database is exposed to password guessing and to any future PostgreSQL vulnerability."
    doc_url = facts.URL_SECURITY_GROUPS
    fix = (
        'resource "aws_security_group" "db" {\n'
        "  ingress {\n"
        "    from_port       = 5432\n"
        "    to_port         = 5432\n"
        '    protocol        = "tcp"\n'
        "    security_groups = [aws_security_group.app.id] # or a narrow office CIDR\n"
        "  }\n"
        "}"
    )

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        groups, incomplete = security_groups_or_reason(c)
        port = db_port(c)
        found = False
        unknown: list[tuple[str, str, Location]] = []
        for sg in groups:
            for rule in sg.ingress:
                opened, cidrs_unknown = open_cidrs(rule.cidr_blocks)
                covers = None if port is None else rule.covers_port(port)
                if port is None and rule.covers_port(1) and rule.covers_port(65535):
                    covers = True  # every port, whatever the database port is
                if opened and covers:
                    found = True
                    what = "all ports" if rule.covers_port(1) and rule.covers_port(65535) else f"port {port}"
                    yield self.failed(
                        sg.address,
                        f"{sg.address} admits {what} from {', '.join(opened)} to {c.address}"
                        + (f" ({rule.source})" if rule.source and not rule.source.startswith(sg.address) else ""),
                        rule.origin,
                    )
                elif (opened and covers is None) or (cidrs_unknown and covers is not False):
                    if cidrs_unknown:
                        reason, origin = unknown_ingress_input(rule)
                    else:
                        reason, origin = unknown_ingress_input(rule, c.port)
                    unknown.append((sg.address, reason, origin))
        if found:
            return
        if unknown:
            address, reason, origin = unknown[0]
            yield undetermined(address, f"whether {address} opens the database port to the internet", reason, origin)
        elif incomplete:
            yield undetermined(
                c.address, "the security groups of the cluster", incomplete, where(c.security_group_refs, c)
            )
        elif default_group_note(c):
            yield self.passed(c.address, default_group_note(c), where(c.security_group_refs, c))
        else:
            names = ", ".join(sg.address for sg in groups)
            yield self.passed(
                c.address,
                f"no ingress from 0.0.0.0/0 or ::/0 to port {port} on {names}",
                where(c.security_group_refs, c),
            )


class PlaintextMasterPassword(ClusterRule):
    id = "AV302"
    title = "No plaintext master password in the configuration"
    severity = Severity.WARNING
    rationale = (
        "A master_password written as a literal (in a resource, a variable default or a tfvars file) is "
        "readable by everyone with the repository, and ends up in the plan and the state."
    )
    risk = "The database's most privileged password leaks with the source code."
    doc_url = facts.URL_SECRETS_MANAGER
    fix = 'resource "aws_rds_cluster" "this" {\n  manage_master_user_password = true # and remove master_password\n}'
    sources = TERRAFORM_KINDS  # a live cluster never shows its password

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        v = c.master_password
        loc = where(v, c)
        if v.literal:
            place = f" at {loc}" if loc.file or loc.api_call else ""
            via = f" ({loc.via})" if loc.via else ""
            yield self.failed(c.address, f"master_password is a plaintext literal{place}{via}", loc)
        elif v.known:
            if v.value in (None, ""):
                yield self.passed(c.address, "master_password is not set", loc)
            else:
                yield self.passed(c.address, "master_password is not written as a literal", loc)
        elif isinstance(v.raw, Unknown) and v.raw.refs:
            yield self.passed(c.address, f"master_password is computed from {', '.join(v.raw.refs)}", loc)
        else:
            yield unresolved_value(c, v, "whether master_password is a literal")


class PubliclyAccessibleInstance(ClusterRule):
    id = "AV303"
    title = "No instance is publicly accessible"
    severity = Severity.WARNING
    rationale = "publicly_accessible = true gives the instance a public IP address reachable from the internet."
    risk = "Together with an open security group, the database accepts connections from anywhere."
    doc_url = facts.URL_PUBLIC_ACCESS
    fix = 'resource "aws_rds_cluster_instance" "this" {\n  publicly_accessible = false\n}'

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        for inst in c.instances:
            v = inst.publicly_accessible
            if not v.known:
                yield unresolved_value(inst, v, "publicly_accessible")
            elif v.value is True:
                yield self.failed(inst.address, f"{inst.address} has publicly_accessible = true", where(v, inst))
            else:
                yield self.passed(inst.address, "publicly_accessible is false", where(v, inst))


class StorageEncrypted(ClusterRule):
    id = "AV304"
    title = "Cluster storage is encrypted"
    severity = Severity.WARNING
    rationale = (
        "Encryption at rest protects the volume, its snapshots and backups; aws_rds_cluster's "
        "storage_encrypted defaults to false for provisioned-mode clusters (Serverless v2 included; true only "
        "for Serverless v1), and it cannot be turned on later without restoring from a snapshot."
    )
    risk = "Data and snapshots are stored unencrypted."
    doc_url = facts.URL_ENCRYPTION
    fix = 'resource "aws_rds_cluster" "this" {\n  storage_encrypted = true\n}'

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        v = c.storage_encrypted
        if v.known and v.value is True and v.defaulted:
            mode = c.engine_mode.get()
            yield self.passed(
                c.address,
                f"storage_encrypted is left out, and the provider default is true for engine_mode {mode!r}",
                where(v, c),
            )
            return
        yield argument_is_true(
            self, c, v, "storage_encrypted",
            "storage_encrypted is true", "it defaults to false for provisioned mode",
        )
