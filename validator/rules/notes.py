"""AV401-AV404: learning notes (info) about cost, teardown and versions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from validator import facts
from validator.model import Cluster, Deployment, Value
from validator.rules.base import ClusterRule, Result, Severity
from validator.rules.helpers import (
    acu,
    aurora_postgresql,
    db_port,
    default_group_note,
    engine_support_of,
    is_set,
    number,
    security_groups_or_reason,
    undetermined,
    unknown_ingress_input,
    unresolved_value,
    where,
)
from validator.sources import TERRAFORM_KINDS
from validator.sources.terraform.version import ConstraintError, lowest_allowed, parse_semver

IAM_TOKEN_MYTH_PORT = 443


class NoHttpsForIamAuth(ClusterRule):
    id = "AV401"
    title = "Inbound 443 on the database security group is not needed for IAM authentication"
    severity = Severity.INFO
    rationale = (
        "An IAM authentication token is signed on the client with SigV4, without a network call, and the "
        "connection stays on the database port; the database security group needs no inbound 443."
    )
    risk = "An extra open port with no purpose."
    doc_url = facts.URL_IAM_AUTH_CONNECT
    fix = "# Remove the ingress block for port 443 from the database security group."

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        groups, incomplete = security_groups_or_reason(c)
        port = db_port(c)
        found = with_database = False
        unknown = None
        for sg in groups:
            for rule in sg.ingress:
                https = rule.covers_port(IAM_TOKEN_MYTH_PORT)
                database = None if port is None else rule.covers_port(port)
                with_database = with_database or bool(https and database)
                if https and database is False:
                    found = True
                    yield self.failed(
                        sg.address,
                        f"{sg.address} admits port {IAM_TOKEN_MYTH_PORT}, which neither IAM database "
                        f"authentication nor PostgreSQL (port {port}) uses",
                        rule.origin,
                    )
                elif https is None or (https and database is None):
                    unknown = (sg.address, rule)
        if found:
            return
        if unknown is not None:
            address, rule = unknown
            reason, origin = unknown_ingress_input(rule, c.port)
            yield undetermined(address, f"whether {address} admits port {IAM_TOKEN_MYTH_PORT}", reason, origin)
        elif incomplete:
            yield undetermined(
                c.address,
                "the security groups of the cluster",
                incomplete,
                where(c.security_group_refs, c),
            )
        elif default_group_note(c):
            yield self.passed(
                c.address,
                f"no ingress to port {IAM_TOKEN_MYTH_PORT}: {default_group_note(c)}",
                where(c.security_group_refs, c),
            )
        else:
            yield self.passed(
                c.address,
                f"the cluster's security groups admit port {IAM_TOKEN_MYTH_PORT} only together with the "
                f"database port {port}"
                if with_database
                else f"no ingress to port {IAM_TOKEN_MYTH_PORT} on the cluster's security groups",
                where(c.security_group_refs, c),
            )


def region_of(deployment: Deployment, cluster: Cluster) -> Value[Any] | None:
    if cluster.region:
        return Value(cluster.region)
    return deployment.provider.region if deployment.provider else None


class ComputeFloor(ClusterRule):
    id = "AV402"
    title = "min_capacity above 0 bills compute every hour"
    severity = Severity.INFO
    rationale = (
        "Serverless v2 bills at least min_capacity ACU for every hour the cluster runs "
        f"({facts.HOURS_PER_MONTH} hours a month); only min_capacity = 0 (auto-pause, where the engine "
        "version supports it) lets an idle cluster pay for storage alone."
    )
    risk = "A development cluster costs tens of dollars a month while idle."
    doc_url = facts.URL_SV2_AUTO_PAUSE
    fix = (
        'resource "aws_rds_cluster" "this" {\n'
        f'  engine_version = "{facts.EXAMPLE_ENGINE_VERSION}" '
        f"# auto-pause needs {facts.versions_text(facts.AUTO_PAUSE_MIN)} or later\n"
        "  serverlessv2_scaling_configuration {\n"
        "    min_capacity             = 0\n"
        "    max_capacity             = 4\n"
        "    seconds_until_auto_pause = 3600\n"
        "  }\n"
        "}"
    )

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        if c.scaling is None:
            return  # AV104 reports the missing block
        v = c.scaling.min_capacity
        if not v.known:
            yield unresolved_value(c, v, "min_capacity")
            return
        n = number(v.value)
        if n is None:
            return  # AV104 reports a missing or non-numeric value
        if n <= 0:
            yield self.passed(
                c.address,
                "min_capacity is 0: an idle cluster pauses and pays for storage only",
                where(v, c),
            )
            return
        yield self.failed(
            c.address,
            f"min_capacity {acu(n)} {self._cost(deployment, c, n)}; {self._pause(c)}",
            where(v, c),
        )

    @staticmethod
    def _cost(deployment: Deployment, c: Cluster, n: float) -> str:
        region = region_of(deployment, c)
        if region is None or not region.known or not region.value:
            return f"bills {acu(n)} ACU x {facts.HOURS_PER_MONTH} h a month (region unknown, so no price)"
        price = facts.acu_price(str(region.value))
        floor = facts.monthly_compute_floor(n, str(region.value))
        if price is None or floor is None:
            return f"bills {acu(n)} ACU x {facts.HOURS_PER_MONTH} h a month (no price on record for {region.value})"
        return (
            f"costs at least ${floor:.2f} a month in {region.value} "
            f"({acu(n)} ACU x {facts.HOURS_PER_MONTH} h x "
            f"${price.usd_per_acu_hour:.2f}, Aurora Standard, price of {price.quoted})"
        )

    @staticmethod
    def _pause(c: Cluster) -> str:
        if aurora_postgresql(c) is False:
            return "auto-pause applies to Aurora PostgreSQL versions in the facts table only"
        support, _ = engine_support_of(c)
        if support is None or support.auto_pause is None:
            return "whether this engine version supports auto-pause (min_capacity 0) is unknown"
        if support.auto_pause:
            return f"Aurora PostgreSQL {support.version} supports auto-pause with min_capacity 0"
        first = facts.minimum_for("auto_pause", support.version) or facts.lowest_minimum("auto_pause")
        return f"Aurora PostgreSQL {support.version} has no auto-pause (it starts at {first})"


class FinalSnapshotConfigured(ClusterRule):
    id = "AV403"
    title = "terraform destroy can delete the cluster (final snapshot settings)"
    severity = Severity.INFO
    rationale = (
        "With skip_final_snapshot = false (the default) and no final_snapshot_identifier, deleting the "
        'cluster fails: "FinalSnapshotIdentifier is required when a final snapshot is required".'
    )
    risk = "terraform destroy stops half-way and leaves the cluster running and billing."
    doc_url = facts.URL_DELETE_CLUSTER
    fix = (
        'resource "aws_rds_cluster" "this" {\n'
        '  final_snapshot_identifier = "my-cluster-final"\n'
        "  # or, for throwaway data: skip_final_snapshot = true\n"
        "}"
    )
    sources = TERRAFORM_KINDS

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        skip = c.skip_final_snapshot
        final = c.final_snapshot_identifier
        if not skip.known:
            yield unresolved_value(c, skip, "skip_final_snapshot")
        elif skip.value is True:
            yield self.passed(c.address, "skip_final_snapshot is true", where(skip, c))
        elif is_set(final):
            yield self.passed(c.address, "final_snapshot_identifier is set", where(final, c))
        else:
            left_out = "is left out (default false)" if skip.defaulted else "is false"
            yield self.failed(
                c.address,
                f"skip_final_snapshot {left_out} and final_snapshot_identifier is missing, so terraform "
                "destroy fails",
                where(skip, c),
            )


class ProviderVersionFloor(ClusterRule):
    id = "AV404"
    title = "The AWS provider constraint excludes versions too old for the arguments used"
    severity = Severity.INFO
    rationale = (
        f"Arguments of aws_rds_cluster appeared over time ({facts.provider_arguments_text()}); a "
        "constraint that admits older providers lets an old lock file or mirror break or ignore them."
    )
    risk = "terraform init selects a provider that rejects or silently mishandles the configuration."
    doc_url = facts.URL_SV2_CAPACITY
    fix = (
        "terraform {\n"
        "  required_providers {\n"
        '    aws = {\n      source  = "hashicorp/aws"\n'
        f'      version = ">= {facts.provider_floor()}"\n    }}\n'
        "  }\n"
        "}"
    )
    sources = TERRAFORM_KINDS

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        provider = deployment.provider
        used = set(deployment.arguments_used.get(c.address, set()))
        if not (c.http_endpoint.known and c.http_endpoint.value is True):
            # Older providers know the argument; enabling it on a provisioned cluster needs 5.64.0.
            used = {a for a in used if a.rsplit(".", 1)[-1] != "enable_http_endpoint"}
        needed = facts.provider_requirements(used)
        if not needed:
            yield self.passed(c.address, "the arguments used need no particular provider version", c.origin)
            return
        top = needed[0]
        uses = ", ".join(f"{r.what} {r.version}" for r in needed)
        if provider is None:
            yield undetermined(
                c.address,
                "the AWS provider version constraint",
                "the configuration has no provider block or required_providers entry",
                c.origin,
            )
            return
        v = provider.version_constraint
        loc = where(v, None) if v.origin.file or v.origin.api_call else provider.origin
        if not v.known:
            yield unresolved_value(c, v, "the AWS provider version constraint")
            return
        if v.value in (None, ""):
            yield self.failed(
                c.address,
                f"hashicorp/aws has no version constraint, so any version may be selected, while {uses} are needed",
                loc,
            )
            return
        try:
            lowest = lowest_allowed(str(v.value))
        except ConstraintError as exc:
            yield undetermined(c.address, "the AWS provider versions admitted", str(exc), loc)
            return
        if lowest is None:
            yield self.passed(c.address, f"version constraint {v.value!r} admits no version", loc)
        elif lowest < parse_semver(top.version)[0]:
            yield self.failed(
                c.address,
                f"version constraint {v.value!r} admits {lowest}, older than {top.version} which "
                f"{top.what} needs (in use: {uses})",
                loc,
            )
        else:
            yield self.passed(
                c.address,
                f"version constraint {v.value!r} starts at {lowest}, new enough for {uses}",
                loc,
            )
