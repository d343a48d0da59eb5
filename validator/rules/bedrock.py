"""AV201-AV204: what an Amazon Bedrock Knowledge Base needs from the cluster.

Warnings by default; errors under the ``bedrock-kb`` profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from validator import facts
from validator.model import NOWHERE, AttributeUnknown, Cluster, Deployment, IamRole, KnowledgeBase, Location, Value
from validator.rules.base import ClusterRule, Result, Rule, Severity, Status
from validator.rules.helpers import (
    aurora_postgresql,
    engine_support_of,
    engine_version_value,
    is_set,
    undetermined,
    unresolved_value,
    where,
)

_KB_PROFILE = {"bedrock-kb": Severity.ERROR}


def knowledge_bases_of(deployment: Deployment, cluster: Cluster) -> list[KnowledgeBase]:
    return [kb for kb in deployment.knowledge_bases if kb.cluster_address == cluster.address]


class DataApiEnabled(ClusterRule):
    id = "AV201"
    title = "The RDS Data API is enabled"
    severity = Severity.WARNING
    profile_severity = _KB_PROFILE
    rationale = (
        "Amazon Bedrock Knowledge Bases reach Aurora through the RDS Data API "
        "(enable_http_endpoint = true; for provisioned and Serverless v2 clusters from AWS provider "
        f"{facts.PROVIDER_ARGUMENTS['enable_http_endpoint'].version})."
    )
    risk = "Creating the knowledge base, or ingesting into it, fails."
    doc_url = facts.URL_DATA_API
    fix = 'resource "aws_rds_cluster" "this" {\n  enable_http_endpoint = true\n}'

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        v = c.http_endpoint
        if not v.known:
            yield unresolved_value(c, v, "enable_http_endpoint")
            return
        if v.value is not True:
            left_out = " (left out: the default is false)" if v.defaulted else ""
            yield self.failed(
                c.address, f"enable_http_endpoint is false{left_out}, so the Data API is off", where(v, c)
            )
            return
        if aurora_postgresql(c) is False:
            yield self.passed(c.address, "enable_http_endpoint is true", where(v, c))
            return
        if c.engine_mode.known and c.engine_mode.value == facts.SERVERLESS_V1_ENGINE_MODE:
            yield self._serverless_v1(c)
            return
        support, reason = engine_support_of(c)
        version = engine_version_value(c)
        if support is None or support.data_api is None:
            why = reason or (support.note if support else "") or "the facts table has no answer"
            yield undetermined(
                c.address, "whether the engine version supports the Data API", why, where(version, c)
            )
        elif support.data_api is False:
            first = facts.minimum_for("data_api", support.version) or facts.lowest_minimum("data_api")
            yield self.failed(
                c.address,
                f"enable_http_endpoint is true but Aurora PostgreSQL {support.version} has no Data API "
                f"(it starts at {first})",
                where(version, c),
            )
        else:
            yield self.passed(
                c.address, f"the Data API is enabled on Aurora PostgreSQL {support.version}", where(v, c)
            )


    def _serverless_v1(self, c: Cluster) -> Result:
        """Serverless v1 had its own Data API engine list; the provisioned and v2 minimums do not apply."""
        version = engine_version_value(c)
        if not version.known:
            return unresolved_value(c, version, "whether the Serverless v1 engine version has the Data API")
        parsed = facts.parse_version(str(version.value))
        if parsed is not None and parsed[0] in facts.SERVERLESS_V1_DATA_API_MAJORS:
            return self.passed(
                c.address,
                f"the Data API is enabled on Serverless v1 Aurora PostgreSQL {version.value} (v1 had it on "
                f"{', '.join(f'{m}.x' for m in facts.SERVERLESS_V1_DATA_API_MAJORS)})",
                where(c.http_endpoint, c),
            )
        return undetermined(
            c.address,
            f"whether Serverless v1 Aurora PostgreSQL {version.value} has the Data API",
            "the facts table lists the Serverless v1 Data API on "
            f"{', '.join(f'{m}.x' for m in facts.SERVERLESS_V1_DATA_API_MAJORS)} only",
            where(version, c),
        )


class CredentialsInSecretsManager(ClusterRule):
    id = "AV202"
    title = "The database credentials are in AWS Secrets Manager"
    severity = Severity.WARNING
    profile_severity = _KB_PROFILE
    rationale = (
        "A knowledge base reads the database credentials from a Secrets Manager secret "
        "(credentials_secret_arn); manage_master_user_password = true lets RDS create and rotate it."
    )
    risk = "There is no secret to give the knowledge base, and the password lives in Terraform state."
    doc_url = facts.URL_SECRETS_MANAGER
    fix = 'resource "aws_rds_cluster" "this" {\n  manage_master_user_password = true # replaces master_password\n}'

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        v = c.manage_master_password
        if c.master_user_secret_arn:
            yield self.passed(c.address, "RDS manages the master password in Secrets Manager", c.origin)
            return
        if v.known and v.value is True:
            yield self.passed(c.address, "manage_master_user_password is true", where(v, c))
            return
        if c.password_secret:
            yield self.passed(
                c.address,
                f"the master password is kept in Secrets Manager ({c.password_secret})",
                where(c.master_password, c),
            )
            return
        referenced = [kb for kb in knowledge_bases_of(deployment, c) if is_set(kb.credentials_secret_arn)]
        if referenced:
            kb = referenced[0]
            yield self.passed(
                c.address,
                f"{kb.address} reads the credentials from a Secrets Manager secret",
                where(kb.credentials_secret_arn, kb),
            )
        elif not v.known:
            yield unresolved_value(c, v, "manage_master_user_password")
        else:
            left_out = " is left out" if v.defaulted else " is false"
            yield self.failed(
                c.address,
                f"manage_master_user_password{left_out} and no knowledge base references a "
                "Secrets Manager secret for this cluster",
                where(v, c),
            )


class KnowledgeBaseConfiguration(Rule):
    id = "AV203"
    title = "The knowledge base points at an Aurora PostgreSQL cluster of this configuration, fully mapped"
    severity = Severity.WARNING
    profile_severity = _KB_PROFILE
    rationale = (
        "rds_configuration.resource_arn must be the ARN of the Aurora PostgreSQL cluster, and "
        "credentials_secret_arn, database_name, table_name and the field_mapping (primary_key_field, "
        "vector_field, text_field, metadata_field) must all be given."
    )
    risk = "The knowledge base cannot be created or points at the wrong database."
    doc_url = facts.URL_BEDROCK_KB_SETUP
    fix = (
        'resource "aws_bedrockagent_knowledge_base" "this" {\n'
        "  storage_configuration {\n"
        '    type = "RDS"\n'
        "    rds_configuration {\n"
        "      resource_arn           = aws_rds_cluster.this.arn\n"
        "      credentials_secret_arn = aws_rds_cluster.this.master_user_secret[0].secret_arn\n"
        '      database_name          = "postgres"\n'
        '      table_name             = "bedrock_integration.bedrock_kb"\n'
        "      field_mapping {\n"
        '        primary_key_field = "id"\n'
        '        vector_field      = "embedding"\n'
        '        text_field        = "chunks"\n'
        '        metadata_field    = "metadata"\n'
        "      }\n"
        "    }\n"
        "  }\n"
        "}"
    )

    def check(self, deployment: Deployment) -> Iterator[Result]:
        clusters = {c.address: c for c in deployment.clusters}
        for kb in deployment.knowledge_bases:
            yield from self._kb(kb, clusters)

    def _kb(self, kb: KnowledgeBase, clusters: dict[str, Cluster]) -> Iterator[Result]:
        st = kb.storage_type
        if not st.known:
            yield unresolved_value(kb, st, "storage_configuration.type")
            return
        if st.value != facts.KB_STORAGE_TYPE_RDS:
            return  # another vector store: nothing about Aurora to check
        results: list[Result] = []
        arn = kb.resource_arn
        if kb.cluster_address is not None:
            cluster = clusters.get(kb.cluster_address)
            problem = kb.cluster_problem
            if cluster is None and problem is not None and not problem.known:
                results.append(unresolved_value(kb, problem, f"whether {kb.cluster_address} is an Aurora cluster"))
            elif cluster is None and problem is not None:
                message = f"resource_arn refers to {kb.cluster_address}: {problem.value}"
                results.append(self.failed(kb.address, message, where(arn, kb)))
            elif cluster is None:
                results.append(
                    self.failed(
                        kb.address,
                        f"resource_arn refers to {kb.cluster_address}, which is not a cluster of this configuration",
                        where(arn, kb),
                    )
                )
            elif aurora_postgresql(cluster) is False:
                results.append(
                    self.failed(
                        kb.address,
                        f"resource_arn refers to {cluster.address}, whose engine "
                        f"is {cluster.engine.value!r}, not {facts.ENGINE}",
                        where(arn, kb),
                    )
                )
        elif not is_set(arn):
            results.append(self.failed(kb.address, "rds_configuration.resource_arn is missing", where(arn, kb)))
        elif not arn.known:
            results.append(unresolved_value(kb, arn, "which cluster resource_arn names"))
        else:
            results.append(
                self.failed(
                    kb.address,
                    f"resource_arn {arn.value!r} is not an aws_rds_cluster of this configuration",
                    where(arn, kb),
                )
            )
        fields: dict[str, Value[Any] | None] = {
            "credentials_secret_arn": kb.credentials_secret_arn,
            "database_name": kb.database_name,
            "table_name": kb.table_name,
        }
        fields.update({f"field_mapping.{n}": kb.field_mapping.get(n) for n in facts.KB_REQUIRED_FIELD_MAPPING})
        absent = [name for name, v in fields.items() if not is_set(v)]
        # An unknown an API answer left out (live) is not known to be set: unresolved, never a pass.
        unreported = [v for v in fields.values() if v is not None and not v.known and v.origin.api_call]
        if unreported:
            reasons = "; ".join(dict.fromkeys(v.reason for v in unreported))
            results.append(undetermined(kb.address, "whether rds_configuration is complete", reasons, kb.origin))
        if absent:
            results.append(self.failed(kb.address, f"rds_configuration lacks {', '.join(absent)}", kb.origin))
        exists = kb.credentials_secret_exists
        if exists is not None and "credentials_secret_arn" not in absent:
            secret = kb.credentials_secret_arn.get("?")
            if not exists.known:
                results.append(unresolved_value(kb, exists, f"whether the credentials secret {secret} exists"))
            elif exists.value is False:
                results.append(
                    self.failed(kb.address, f"the credentials secret {secret} does not exist", where(exists, kb))
                )
        if results:
            yield from results
        else:
            yield self.passed(
                kb.address,
                f"the knowledge base uses {kb.cluster_address} with a complete rds_configuration",
                where(arn, kb),
            )


def _loc(location: Location, fallback: Location) -> Location:
    return location if location.file or location.api_call else fallback


def _cluster_shape(cluster: Cluster | None, region: str | None) -> str | None:
    """The cluster's ARN with a hole for each part not known before apply."""
    from validator.iam import HOLE

    if cluster is None:
        return None
    ident = cluster.identifier.raw if cluster.identifier.known and cluster.identifier.raw else HOLE
    partition = facts.partition_of(region) if region else HOLE
    return f"arn:{partition}:rds:{region or HOLE}:{HOLE}:cluster:{ident}"


def _secret_shape(kb: KnowledgeBase, cluster: Cluster | None, region: str | None) -> str | None:
    from validator.iam import HOLE

    raw = kb.credentials_secret_arn.raw
    if cluster is None or not isinstance(raw, AttributeUnknown) or ".master_user_secret" not in raw.path:
        return None
    partition = facts.partition_of(region) if region else HOLE
    # RDS names the secret it manages rds!cluster-<uuid>.
    return f"arn:{partition}:secretsmanager:{region or HOLE}:{HOLE}:secret:rds!cluster-{HOLE}"


class KnowledgeBaseRoleAccess(Rule):
    id = "AV204"
    title = "The knowledge base's service role can reach what Bedrock needs"
    severity = Severity.WARNING
    profile_severity = _KB_PROFILE
    rationale = (
        f"Bedrock assumes the role in role_arn ({facts.BEDROCK_SERVICE_PRINCIPAL} must be trusted, "
        "preferably only for this account with aws:SourceAccount or aws:SourceArn) and uses it to call "
        + ", ".join(f"{a} on the {what}" for a, what in facts.KB_ROLE_PERMISSIONS)
        + ". Inline, customer managed and AWS managed policies are read; an explicit Deny wins."
    )
    risk = (
        'Creating the knowledge base fails with "The knowledge base storage configuration provided is '
        'invalid", or ingestion fails with AccessDenied.'
    )
    doc_url = facts.URL_BEDROCK_KB_ROLE
    fix = (
        'resource "aws_iam_role_policy" "knowledge_base" {\n'
        "  role = aws_iam_role.knowledge_base.id\n"
        "  policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [\n"
        '      { Effect = "Allow", Action = ["rds:DescribeDBClusters", "rds-data:ExecuteStatement",\n'
        '          "rds-data:BatchExecuteStatement"], Resource = [aws_rds_cluster.this.arn] },\n'
        '      { Effect = "Allow", Action = ["secretsmanager:GetSecretValue"],\n'
        "        Resource = [aws_rds_cluster.this.master_user_secret[0].secret_arn] },\n"
        '      { Effect = "Allow", Action = ["bedrock:InvokeModel"], Resource = [local.embedding_model_arn] },\n'
        "    ]\n"
        "  })\n"
        "}"
    )

    def check(self, deployment: Deployment) -> Iterator[Result]:
        clusters = {c.address: c for c in deployment.clusters}
        region = None
        if deployment.provider is not None and deployment.provider.region.known:
            region = str(deployment.provider.region.raw) or None
        for kb in deployment.knowledge_bases:
            if not kb.storage_type.known or kb.storage_type.value != facts.KB_STORAGE_TYPE_RDS:
                continue  # another vector store (AV203 says when the type is unknown)
            yield from self._kb(kb, clusters.get(kb.cluster_address or ""), region)

    def _kb(self, kb: KnowledgeBase, cluster: Cluster | None, region: str | None) -> Iterator[Result]:
        role = kb.role
        at = where(kb.role_arn, kb) if kb.role_arn is not None else kb.origin
        if role is None:
            if kb.role_arn is None or not is_set(kb.role_arn):
                yield self.failed(kb.address, "the knowledge base sets no role_arn", at)
            elif kb.role_missing:
                yield self.failed(kb.address, f"Bedrock cannot assume the service role: {kb.role_unresolved}", at)
            else:
                yield Result(Status.UNRESOLVED, f"the service role cannot be read: {kb.role_unresolved}",
                             kb.address, at)
            return
        yield self._trust(kb, role)
        yield self._permissions(kb, role, cluster, region)

    def _trust(self, kb: KnowledgeBase, role: IamRole) -> Result:
        from validator import iam  # the evaluator loads only when a knowledge base has a role

        doc = role.trust_policy
        at = _loc(doc.origin, role.origin) if doc is not None else role.origin
        verdict = iam.trusts_service(doc, facts.BEDROCK_SERVICE_PRINCIPAL)
        if verdict.decision is iam.Decision.ALLOW:
            if verdict.confused_deputy_guarded:
                return self.passed(kb.address, f"{role.address} trusts {facts.BEDROCK_SERVICE_PRINCIPAL}, "
                                   "limited by aws:SourceAccount/aws:SourceArn", _loc(verdict.origin, at))
            return self.passed(
                kb.address,
                f"{role.address} trusts {facts.BEDROCK_SERVICE_PRINCIPAL}; note: the trust policy sets no "
                "aws:SourceAccount or aws:SourceArn condition, which AWS recommends against the confused deputy",
                _loc(verdict.origin, at),
            )
        if verdict.decision is iam.Decision.UNKNOWN:
            return Result(Status.UNRESOLVED, f"whether {role.address} trusts {facts.BEDROCK_SERVICE_PRINCIPAL} "
                          f"cannot be determined: {verdict.reason}", kb.address, _loc(verdict.origin, at))
        return self.failed(kb.address, f"{role.address} cannot be assumed by {facts.BEDROCK_SERVICE_PRINCIPAL}: "
                           f"{verdict.reason}", _loc(verdict.origin, at))

    def _permissions(self, kb: KnowledgeBase, role: IamRole, cluster: Cluster | None,
                     region: str | None) -> Result:
        from validator import iam

        cluster_raw: object = cluster.arn if cluster is not None and cluster.arn else kb.resource_arn.raw
        targets = {
            "cluster": iam.Target.of("the cluster", cluster_raw, _cluster_shape(cluster, region)),
            "secret": iam.Target.of("the credentials secret", kb.credentials_secret_arn.raw,
                                    _secret_shape(kb, cluster, region)),
            "model": iam.Target.of(
                "the embedding model", kb.embedding_model_arn.raw if kb.embedding_model_arn else None
            ),
        }
        boundary = [role.boundary_policy] if role.boundary_policy is not None else None
        missing_: list[str] = []
        doubts: list[tuple[str, iam.Verdict]] = []
        denied: list[tuple[str, iam.Verdict]] = []
        for action, what in facts.KB_ROLE_PERMISSIONS:
            target = targets[what]
            verdict = iam.evaluate(role.policies, action, target, boundary)
            label = f"{action} on {target.describe()}"
            if verdict.decision is iam.Decision.ALLOW:
                continue
            if verdict.decision is iam.Decision.UNKNOWN:
                doubts.append((label, verdict))
            elif verdict.decision is iam.Decision.DENY:
                denied.append((label, verdict))
            else:
                missing_.append(label)
        at = next((p.origin for p in role.policies if _loc(p.origin, NOWHERE) is p.origin), role.origin)
        if denied:
            label, verdict = denied[0]
            others = "; ".join(v.reason for _, v in denied[1:])
            return self.failed(kb.address, f"{role.address} is denied {label}: {verdict.reason}"
                               + (f"; {others}" if others else ""), _loc(verdict.origin, at))
        if role.permissions_boundary is not None and boundary is None and not missing_ and not doubts:
            return Result(Status.UNRESOLVED, f"{role.address} has a permissions boundary the scan does not "
                          "read, which may narrow what its policies allow", kb.address,
                          _loc(role.permissions_boundary.origin, role.origin))
        if missing_ and not doubts and not role.incomplete:
            return self.failed(kb.address, f"{role.address} does not allow " + ", ".join(missing_), at)
        if doubts or missing_:
            reasons = [f"{label}: {v.reason}" for label, v in doubts] + role.incomplete
            lacking = f"it does not allow {', '.join(missing_)} unless " if missing_ else ""
            return Result(Status.UNRESOLVED, f"whether {role.address} allows what the knowledge base needs "
                          f"cannot be determined: {lacking}{'; '.join(reasons)}", kb.address,
                          _loc(doubts[0][1].origin, at) if doubts else at)
        return self.passed(kb.address, f"{role.address} allows "
                           + ", ".join(a for a, _ in facts.KB_ROLE_PERMISSIONS), at)
