"""AV101-AV108: the invariants of an Aurora PostgreSQL Serverless v2 cluster."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from validator import facts
from validator.model import NOWHERE, Cluster, Deployment, Resource, Unknown, UnknownElement, Value
from validator.rules.base import ClusterRule, Result, Severity
from validator.rules.helpers import (
    acu,
    argument_is_true,
    aurora_postgresql,
    engine_support_of,
    engine_version_value,
    number,
    undetermined,
    unresolved_value,
    where,
)
from validator.sources import TERRAFORM_KINDS


class EngineIsAuroraPostgresql(ClusterRule):
    id = "AV101"
    title = "The cluster engine is aurora-postgresql"
    severity = Severity.ERROR
    rationale = (
        "Amazon Bedrock Knowledge Bases use pgvector on Aurora PostgreSQL; other engines cannot hold the vector store."
    )
    risk = "The cluster is created with an engine that cannot serve as the knowledge base's vector store."
    doc_url = facts.URL_BEDROCK_AURORA
    fix = 'resource "aws_rds_cluster" "this" {\n  engine = "aurora-postgresql"\n}'

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        if not c.engine.known:
            yield unresolved_value(c, c.engine, "engine")
        elif c.engine.value == facts.ENGINE:
            yield self.passed(c.address, f"engine is {facts.ENGINE}", where(c.engine, c))
        else:
            yield self.failed(
                c.address,
                f"engine is {c.engine.value!r}, not {facts.ENGINE!r}",
                where(c.engine, c),
            )


class EngineModeProvisioned(ClusterRule):
    id = "AV102"
    title = "engine_mode is provisioned (Serverless v2), not serverless (v1)"
    severity = Severity.ERROR
    rationale = (
        "Serverless v2 instances run in clusters whose engine mode is provisioned; engine_mode "
        f'"serverless" is Serverless v1, which reached end of life on {facts.SERVERLESS_V1_END_OF_LIFE}.'
    )
    risk = "A Serverless v1 cluster cannot be created any more; other modes cannot hold db.serverless instances."
    doc_url = facts.URL_SV1_END_OF_LIFE
    fix = (
        'resource "aws_rds_cluster" "this" {\n'
        '  engine_mode = "provisioned" # or leave it out: provisioned is the default\n'
        "}"
    )

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        mode = c.engine_mode
        loc = where(mode, c)
        if not mode.known:
            yield unresolved_value(c, mode, "engine_mode")
        elif mode.value in (None, "", facts.ENGINE_MODE):
            note = " (left out: the provider default)" if mode.defaulted or not mode.value else ""
            yield self.passed(c.address, f"engine_mode is {facts.ENGINE_MODE}{note}", loc)
        elif mode.value == facts.SERVERLESS_V1_ENGINE_MODE:
            yield self.failed(
                c.address,
                'engine_mode "serverless" is Aurora Serverless v1, which reached end of life on '
                f'{facts.SERVERLESS_V1_END_OF_LIFE}; Serverless v2 needs engine_mode "provisioned"',
                loc,
            )
        else:
            yield self.failed(
                c.address,
                f'engine_mode {mode.value!r} cannot hold Serverless v2 instances; use "provisioned"',
                loc,
            )


class ServerlessInstances(ClusterRule):
    id = "AV103"
    title = "The cluster has at least one instance and every instance is db.serverless"
    severity = Severity.ERROR
    rationale = (
        "Aurora Serverless v2 capacity lives in DB instances of class db.serverless; a cluster without "
        "instances has no endpoint to connect to."
    )
    risk = "The knowledge base cannot reach the database, or the instances are billed as provisioned capacity."
    doc_url = facts.URL_SV2_REQUIREMENTS
    fix = (
        'resource "aws_rds_cluster_instance" "writer" {\n'
        "  cluster_identifier = aws_rds_cluster.this.id\n"
        '  instance_class     = "db.serverless"\n'
        "  engine             = aws_rds_cluster.this.engine\n"
        "  engine_version     = aws_rds_cluster.this.engine_version\n"
        "}"
    )

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        if not c.instances:
            yield self.failed(
                c.address,
                f"cluster {c.address} has no DB instance; add an aws_rds_cluster_instance with "
                f'instance_class "{facts.SERVERLESS_INSTANCE_CLASS}"',
                c.origin,
            )
            return
        if all(inst.uncertain for inst in c.instances):
            yield undetermined(
                c.address, "whether the cluster has a DB instance", c.instances[0].uncertain, c.instances[0].origin
            )
        for inst in c.instances:
            cls = inst.instance_class
            if not cls.known:
                yield unresolved_value(inst, cls, "instance_class")
            elif inst.uncertain and cls.value != facts.SERVERLESS_INSTANCE_CLASS:
                what = f"whether instances of class {cls.value!r} exist"
                yield undetermined(inst.address, what, inst.uncertain, where(cls, inst))
            elif cls.value == facts.SERVERLESS_INSTANCE_CLASS:
                yield self.passed(
                    inst.address, f"instance_class is {facts.SERVERLESS_INSTANCE_CLASS}", where(cls, inst)
                )
            else:
                yield self.failed(
                    inst.address,
                    f"instance_class is {cls.value!r}, not {facts.SERVERLESS_INSTANCE_CLASS!r}",
                    where(cls, inst),
                )


class ScalingConfiguration(ClusterRule):
    id = "AV104"
    title = "serverlessv2_scaling_configuration is present and in the range the engine version allows"
    severity = Severity.ERROR
    rationale = (
        "A cluster needs a Serverless v2 capacity range before it can hold db.serverless instances. The "
        f"range is {acu(facts.ACU_MIN_WITHOUT_AUTO_PAUSE)}-{acu(facts.ACU_MAX_OLD)} ACU, "
        f"{acu(facts.ACU_MIN_WITHOUT_AUTO_PAUSE)}-{acu(facts.ACU_MAX_NEW)} ACU on newer minors, and may start at "
        f"{acu(facts.ACU_MIN_WITH_AUTO_PAUSE)} only where the engine version supports auto-pause; values go in "
        f"steps of {acu(facts.ACU_STEP)} and seconds_until_auto_pause is "
        f"{facts.AUTO_PAUSE_SECONDS_MIN}-{facts.AUTO_PAUSE_SECONDS_MAX}."
    )
    risk = "AWS rejects the capacity range at apply time, or instances cannot be added to the cluster."
    doc_url = facts.URL_SV2_CAPACITY
    fix = (
        'resource "aws_rds_cluster" "this" {\n'
        "  serverlessv2_scaling_configuration {\n"
        "    min_capacity = 0.5 # 0 only on versions with auto-pause\n"
        "    max_capacity = 4\n"
        "  }\n"
        "}"
    )

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        s = c.scaling
        if s is None:
            yield self.failed(
                c.address,
                "serverlessv2_scaling_configuration is missing, so db.serverless instances cannot be added",
                c.origin,
            )
            return
        block = s.origin if s.origin != NOWHERE else c.origin
        problems: list[Result] = []
        values: dict[str, float] = {}
        for name, v in (("min_capacity", s.min_capacity), ("max_capacity", s.max_capacity)):
            if not v.known:
                problems.append(unresolved_value(c, v, name))
                continue
            if v.value is None:
                problems.append(
                    self.failed(
                        c.address,
                        f"{name} is missing in serverlessv2_scaling_configuration",
                        where(v, c) if v.origin != NOWHERE else block,
                    )
                )
                continue
            n = number(v.value)
            if n is None:
                problems.append(self.failed(c.address, f"{name} {v.value!r} is not a number", where(v, c)))
                continue
            values[name] = n
            if round(n / facts.ACU_STEP) * facts.ACU_STEP != n:
                problems.append(
                    self.failed(
                        c.address,
                        f"{name} {acu(n)} is not a multiple of {acu(facts.ACU_STEP)} ACU",
                        where(v, c),
                    )
                )
        lo, hi = values.get("min_capacity"), values.get("max_capacity")
        if lo is not None and hi is not None and lo > hi:
            problems.append(
                self.failed(
                    c.address,
                    f"min_capacity {acu(lo)} is above max_capacity {acu(hi)}",
                    where(s.min_capacity, c),
                )
            )
        if aurora_postgresql(c) is not False:
            problems.extend(self._range(c, lo, hi))
        problems.extend(self._pause_seconds(c))
        if problems:
            yield from problems
        else:
            yield self.passed(c.address, f"capacity range {acu(lo or 0)}-{acu(hi or 0)} ACU is valid", block)

    def _range(self, c: Cluster, lo: float | None, hi: float | None) -> Iterator[Result]:
        s = c.scaling
        assert s is not None
        support, reason = engine_support_of(c)
        version = engine_version_value(c)
        label = f"Aurora PostgreSQL {version.value}" if version.known else "the engine version"
        if lo is not None:
            if lo < 0:
                yield self.failed(c.address, f"min_capacity {acu(lo)} is negative", where(s.min_capacity, c))
            elif lo < facts.ACU_MIN_WITHOUT_AUTO_PAUSE:
                pause = support.auto_pause if support else None
                if pause is None:
                    why = reason or (support.note if support else "") or "the facts table has no answer"
                    yield undetermined(
                        c.address,
                        f"whether {label} accepts min_capacity {acu(lo)} (auto-pause)",
                        why,
                        where(s.min_capacity, c),
                    )
                elif pause is False:
                    first = facts.minimum_for("auto_pause", str(version.value)) if version.known else None
                    since = f" (it starts at {first})" if first else ""
                    yield self.failed(
                        c.address,
                        f"min_capacity {acu(lo)} needs auto-pause, which {label} does not support{since}; "
                        f"the lowest minimum there is {acu(facts.ACU_MIN_WITHOUT_AUTO_PAUSE)} ACU",
                        where(s.min_capacity, c),
                    )
        if hi is not None:
            if hi < facts.ACU_MAX_FLOOR:
                yield self.failed(
                    c.address,
                    f"max_capacity {acu(hi)} is below the lowest maximum {acu(facts.ACU_MAX_FLOOR)} ACU",
                    where(s.max_capacity, c),
                )
            elif hi > facts.ACU_MAX_NEW:
                yield self.failed(
                    c.address,
                    f"max_capacity {acu(hi)} is above {acu(facts.ACU_MAX_NEW)} ACU, the largest Serverless v2 capacity",
                    where(s.max_capacity, c),
                )
            elif hi > facts.ACU_MAX_OLD:
                limit = support.max_acu if support else None
                if limit is None:
                    why = reason or (support.note if support else "") or "the facts table has no answer"
                    yield undetermined(
                        c.address,
                        f"whether {label} accepts max_capacity {acu(hi)}",
                        why,
                        where(s.max_capacity, c),
                    )
                elif hi > limit:
                    first = facts.minimum_for("acu_256", str(version.value)) if version.known else None
                    since = f"; 256 ACU starts at {first}" if first else ""
                    yield self.failed(
                        c.address,
                        f"max_capacity {acu(hi)} is above {acu(limit)} ACU, the largest capacity of {label}{since}",
                        where(s.max_capacity, c),
                    )

    def _pause_seconds(self, c: Cluster) -> Iterator[Result]:
        s = c.scaling
        assert s is not None
        v = s.seconds_until_auto_pause
        if v is None or v.defaulted:
            return
        if not v.known:
            yield unresolved_value(c, v, "seconds_until_auto_pause")
            return
        if v.value is None:
            return
        n = number(v.value)
        if n is None or n != int(n) or not facts.AUTO_PAUSE_SECONDS_MIN <= n <= facts.AUTO_PAUSE_SECONDS_MAX:
            yield self.failed(
                c.address,
                f"seconds_until_auto_pause {v.value!r} is outside {facts.AUTO_PAUSE_SECONDS_MIN}-"
                f"{facts.AUTO_PAUSE_SECONDS_MAX} seconds",
                where(v, c),
            )


class SubnetsInTwoZones(ClusterRule):
    id = "AV105"
    title = "The DB subnet group spans at least two Availability Zones"
    severity = Severity.ERROR
    rationale = "Aurora requires a DB subnet group with subnets in at least two Availability Zones."
    risk = "AWS refuses to create the DB subnet group or the cluster."
    doc_url = facts.URL_SUBNET_GROUPS
    fix = (
        'resource "aws_db_subnet_group" "this" {\n'
        "  subnet_ids = [aws_subnet.a.id, aws_subnet.c.id] # subnets in two different AZs\n"
        "}"
    )

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        group = c.subnet_group
        if group is None:
            ref = c.subnet_group_ref
            if ref is None or (ref.known and ref.value in (None, "")):
                yield undetermined(
                    c.address,
                    "the Availability Zones of the cluster's subnets",
                    "db_subnet_group_name is left out, so the default DB subnet group of the default VPC "
                    "applies, which the configuration does not describe",
                    c.origin,
                )
            elif not ref.known:
                yield unresolved_value(c, ref, "the DB subnet group")
            else:
                yield undetermined(
                    c.address,
                    f"the Availability Zones of DB subnet group {ref.value!r}",
                    "the group is not defined in the configuration",
                    where(ref, c),
                )
            return
        subnets = group.subnets
        raw = subnets.raw
        if isinstance(raw, Unknown):
            yield unresolved_value(group, subnets, f"the subnets of {group.address}")
            return
        zones: set[str] = set()
        missing: list[str] = []
        # Zones taken by index from one list of distinct zones: list -> indexes.
        indexed: dict[str, set[int]] = {}
        for sub in raw or []:
            if sub is None:
                missing.append("a subnet reference that cannot be followed")
            elif isinstance(sub, Unknown):
                missing.append(sub.reason)
            elif sub.availability_zone.known and sub.availability_zone.value:
                zones.add(str(sub.availability_zone.value))
            elif isinstance(sub.availability_zone.raw, UnknownElement) and sub.availability_zone.raw.list_ref:
                zone = sub.availability_zone.raw
                indexed.setdefault(zone.list_ref, set()).add(zone.index)
            else:
                missing.append(sub.availability_zone.reason or f"{sub.address} has no availability_zone")
        loc = where(subnets, group)
        listed = ", ".join(sorted(zones)) or "none"
        if len(zones) >= facts.MIN_SUBNET_AZS:
            yield self.passed(group.address, f"subnets span {len(zones)} Availability Zones ({listed})", loc)
            return
        # Distinct indexes of one list are distinct zones; a zone written as a literal may be any of them.
        widest = max(indexed.items(), key=lambda kv: (len(kv[1]), kv[0]), default=None)
        if widest is not None and len(widest[1]) >= facts.MIN_SUBNET_AZS:
            indexes = ", ".join(f"[{i}]" for i in sorted(widest[1]))
            yield self.passed(
                group.address,
                f"subnets span at least {len(widest[1])} Availability Zones: elements {indexes} of "
                f"{widest[0]}, whose elements are distinct zones",
                loc,
            )
        elif indexed:
            list_ref, used = next(iter(indexed.items()))
            yield undetermined(
                group.address,
                f"the Availability Zones of {group.address} (known: {listed})",
                f"{list_ref} is read from AWS at plan time and only index {sorted(used)[0]} of it is used",
                loc,
            )
        elif missing:
            yield undetermined(
                group.address, f"the Availability Zones of {group.address} (known: {listed})", missing[0], loc
            )
        else:
            yield self.failed(
                group.address,
                f"{group.address} spans {len(zones)} Availability Zone(s) ({listed}); Aurora needs at least "
                f"{facts.MIN_SUBNET_AZS}",
                loc,
            )


class IamAuthentication(ClusterRule):
    id = "AV106"
    title = "IAM database authentication is enabled"
    severity = Severity.ERROR
    rationale = (
        "IAM database authentication lets applications connect with short-lived tokens instead of "
        "long-lived database passwords."
    )
    risk = "Every client needs a stored database password."
    doc_url = facts.URL_IAM_AUTH
    fix = 'resource "aws_rds_cluster" "this" {\n  iam_database_authentication_enabled = true\n}'

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        yield argument_is_true(
            self, c, c.iam_auth, "iam_database_authentication_enabled",
            "IAM database authentication is enabled", "the default is false",
        )


class EngineVersionSupport(ClusterRule):
    id = "AV107"
    title = f"The engine version supports Serverless v2 and ships pgvector {facts.PGVECTOR_FOR_HNSW} or later"
    severity = Severity.ERROR
    rationale = (
        f"Serverless v2 needs Aurora PostgreSQL {facts.versions_text(facts.SERVERLESS_V2_MIN)} or later "
        f"minors; Bedrock Knowledge Bases need pgvector {facts.PGVECTOR_FOR_HNSW} (HNSW indexes): "
        f"{facts.pgvector_hnsw_text()} or later."
    )
    risk = "db.serverless instances cannot be created, or the knowledge base cannot create its HNSW index."
    doc_url = facts.URL_SV2_VERSIONS
    fix = f'resource "aws_rds_cluster" "this" {{\n  engine_version = "{facts.EXAMPLE_ENGINE_VERSION}"\n}}'

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        if aurora_postgresql(c) is False:
            return  # AV101 reports the engine; versions of other engines are not in the table
        version = engine_version_value(c)
        loc = where(version, c)
        support, _ = engine_support_of(c)
        if support is None:
            yield unresolved_value(c, version, "engine_version")
            return
        label = f"Aurora PostgreSQL {support.version}"
        text = str(support.version)
        why = support.note or f"the facts table has no answer for {label}"
        failures: list[str] = []
        unknown: list[str] = []
        if support.serverless_v2 is False:
            first = facts.minimum_for("serverless_v2", text) or facts.lowest_minimum("serverless_v2")
            failures.append(f"{label} does not support Serverless v2 (it starts at {first})")
        elif support.serverless_v2 is None:
            unknown.append("Serverless v2 support")
        hnsw = support.pgvector_has_hnsw
        if hnsw is False:
            hnsw_first = facts.minimum_for("pgvector_hnsw", text)
            subject = "it" if failures else label
            shipped = (
                f"ships pgvector {support.pgvector}, older than {facts.PGVECTOR_FOR_HNSW}"
                if support.pgvector
                else "ships no pgvector"
            )
            since = f" (pgvector {facts.PGVECTOR_FOR_HNSW} starts at {hnsw_first})" if hnsw_first else ""
            failures.append(f"{subject} {shipped}{since}")
        elif hnsw is None:
            unknown.append("the pgvector version")
        if failures:
            yield self.failed(c.address, "; ".join(failures), loc)
        elif unknown:
            yield undetermined(c.address, f"{' and '.join(unknown)} of {label}", why, loc)
        else:
            yield self.passed(
                c.address,
                f"{label} supports Serverless v2 and ships pgvector {support.pgvector} "
                f"(confidence {support.confidence})",
                loc,
            )


class ValidIdentifiers(ClusterRule):
    id = "AV108"
    title = "RDS identifiers and the DB subnet group name are valid"
    severity = Severity.ERROR
    rationale = (
        "Cluster and instance identifiers take 1-63 lowercase letters, digits and hyphens, start with a "
        "letter, and have no double or trailing hyphen; a cluster_identifier_prefix or identifier_prefix "
        f"follows the same character rules and leaves room for the {facts.IDENTIFIER_PREFIX_SUFFIX_LENGTH}-digit "
        f"suffix the provider appends (at most {facts.IDENTIFIER_PREFIX_MAX_LENGTH} characters); DB subnet group "
        "names take lowercase letters, digits, hyphens, underscores, periods and spaces. The AWS provider "
        "checks the characters at plan time."
    )
    risk = "terraform plan fails before anything is created."
    doc_url = facts.URL_IDENTIFIERS
    fix = (
        'variable "project_prefix" {\n'
        '  default = "project-name" # hyphens, not underscores: it becomes part of cluster_identifier\n'
        "}"
    )
    sources = TERRAFORM_KINDS

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        yield self._named(c, c.identifier, "cluster_identifier", c.identifier_prefix)
        for inst in c.instances:
            yield self._named(inst, inst.identifier, "identifier", inst.identifier_prefix)
        if c.subnet_group is not None:
            g = c.subnet_group
            yield self._one(g, g.name, "name", facts.subnet_group_name_problems)

    def _named(self, resource: Resource, v: Value[Any], attr: str, prefix: Value[Any] | None) -> Result:
        """The identifier, or the prefix the provider makes it from when only the prefix is written."""
        if prefix is not None and v.known and v.value in (None, ""):
            return self._one(resource, prefix, f"{attr}_prefix", facts.identifier_prefix_problems)
        return self._one(resource, v, attr, facts.identifier_problems)

    def _one(self, resource: Resource, v: Value[Any], attr: str, problems_of: Any) -> Result:
        if not v.known:
            return unresolved_value(resource, v, attr)
        if v.value in (None, ""):
            return self.passed(
                resource.address,
                f"{attr} is left out, so Terraform generates a valid one",
                where(v, resource),
            )
        problems = problems_of(str(v.value))
        if not problems:
            return self.passed(resource.address, f"{attr} {v.value!r} is valid", where(v, resource))
        via = f" ({v.origin.via})" if v.origin.via else ""
        plan_time = any(at_plan for _, at_plan in problems)
        consequence = "terraform plan would fail" if plan_time else "AWS would reject it at apply time"
        return self.failed(
            resource.address,
            f"{attr} {v.value!r}{via} is invalid: {'; '.join(p for p, _ in problems)}; {consequence}",
            where(v, resource),
        )
