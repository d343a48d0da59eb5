"""The one model every source produces and every rule reads.

A source (Terraform HCL, plan JSON, live AWS state, a database) fills these
classes; rules only ever read them. Every value carries its provenance, so a
finding can point at the line to change or the API call that reported it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from validator.facts import EngineSupport
from validator.lazy_dataclass import lazy_dataclass

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value comes from: a file and line, or an API call and an ARN."""

    file: str | None = None  # relative to the scanned root
    line: int | None = None
    api_call: str | None = None  # e.g. "rds:DescribeDBClusters"
    arn: str | None = None
    via: str | None = None  # human note, e.g. "default of var.db_password"

    def __str__(self) -> str:
        if self.file:
            return f"{self.file}:{self.line}" if self.line else self.file
        if self.api_call:
            return f"{self.api_call} {self.arn}" if self.arn else self.api_call
        return "<unknown>"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.file:
            out["file"] = self.file
            out["line"] = self.line
        if self.api_call:
            out["api_call"] = self.api_call
        if self.arn:
            out["arn"] = self.arn
        return out


NOWHERE = Location()


@dataclass(frozen=True)
class Unknown:
    """A value that cannot be known statically, with the reason why.

    ``refs`` names the resources the value depends on (for example the subnet a
    computed ``id`` belongs to), so the model can still follow references.
    """

    reason: str
    refs: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"


@lazy_dataclass(frozen=True, repr=False)
class UnknownElement(Unknown):
    """One element of an :class:`UnknownList`: unknown, but different from its other elements."""

    list_ref: str = ""  # the list it is taken from, e.g. "data.aws_availability_zones.available.names"
    index: int = 0


@lazy_dataclass(frozen=True, repr=False)
class UnknownList(Unknown):
    """A list known only at plan time whose elements are pairwise distinct (e.g. zone names).

    Indexing it with a known number gives an :class:`UnknownElement`, so distinct indexes
    stay distinct values.
    """

    def element(self, index: int) -> Unknown:
        if index < 0:
            return self
        ref = self.refs[0] if self.refs else ""
        return UnknownElement(self.reason, tuple(f"{r}[{index}]" for r in self.refs), ref, index)


@dataclass(frozen=True)
class AttributeUnknown(Unknown):
    """An attribute of a resource known only after apply, read directly (no function, no template).

    ``path`` names it (``aws_rds_cluster.kb.arn``, ``...master_user_secret[0].secret_arn``), so
    two values that read the same attribute compare equal although neither is known.
    """

    path: str = ""

    def __repr__(self) -> str:
        return f"AttributeUnknown({self.path!r})"


@lazy_dataclass(frozen=True)
class EncodedUnknown(Unknown):
    """``jsonencode()`` of a structure with unknown parts: the string is unknown, the structure is not.

    ``document`` is the structure encoded, its unknown leaves as :class:`Unknown`, so an IAM
    policy written with ``jsonencode`` can be read before the ARNs it names exist.
    """

    document: Any = None

    def __repr__(self) -> str:
        return f"EncodedUnknown({self.reason!r})"


class Secret(str):
    """A string that never shows its content in repr or str formatting."""

    def __repr__(self) -> str:
        return "Secret('****')"


@dataclass(frozen=True)
class Value(Generic[T]):
    """A model value with its provenance.

    ``defaulted`` marks a value the configuration leaves out (the provider's
    default applies); ``literal`` marks a value written as a literal in a file
    (an attribute, a variable default or a tfvars entry).
    """

    raw: T | Unknown
    origin: Location = NOWHERE
    defaulted: bool = False
    literal: bool = False

    @property
    def known(self) -> bool:
        return not isinstance(self.raw, Unknown) and not _contains_unknown(self.raw)

    @property
    def value(self) -> T:
        """The known value; call only when ``known`` is true."""
        if isinstance(self.raw, Unknown):
            raise ValueError(f"value is unknown: {self.raw.reason}")
        return self.raw

    @property
    def reason(self) -> str:
        unknown = _unknown_inside(self.raw)
        return unknown.reason if unknown else ""

    def get(self, default: Any = None) -> Any:
        return self.raw if self.known else default


def _contains_unknown(raw: Any) -> bool:
    return _unknown_inside(raw) is not None


def _unknown_inside(raw: Any) -> Unknown | None:
    """The first Unknown in ``raw`` or at any depth of its lists and maps."""
    if isinstance(raw, Unknown):
        return raw
    if isinstance(raw, (list, tuple)):
        for item in raw:
            found = _unknown_inside(item)
            if found:
                return found
    elif isinstance(raw, dict):
        for item in raw.values():
            found = _unknown_inside(item)
            if found:
                return found
    return None


def known(raw: Any, origin: Location = NOWHERE, **kw: Any) -> Value[Any]:
    return Value(raw, origin, **kw)


def missing(default: Any, origin: Location) -> Value[Any]:
    """An argument left out: the provider default applies, located at the block."""
    return Value(default, origin, defaulted=True)


# --------------------------------------------------------------------------- #
# Resources


@dataclass
class Resource:
    """Common part: the address (or ARN) and where the resource is declared."""

    address: str
    origin: Location


@dataclass
class Scaling:
    min_capacity: Value[float]
    max_capacity: Value[float]
    seconds_until_auto_pause: Value[int | None]  # None: not reported, the default applies
    origin: Location = NOWHERE


@dataclass
class Instance(Resource):
    identifier: Value[str]
    instance_class: Value[str]
    publicly_accessible: Value[bool]
    engine: Value[str]
    # Why this declaration may stand for no instance or several (an unknown count or
    # for_each); empty when it is exactly one instance.
    uncertain: str = ""
    identifier_prefix: Value[str] | None = None  # the identifier_prefix argument, when written


@dataclass
class Subnet(Resource):
    availability_zone: Value[str]


@dataclass
class SubnetGroup(Resource):
    name: Value[str]
    # None inside a list means a subnet reference that could not be followed.
    subnets: Value[list[Subnet]]


@dataclass
class IngressRule:
    """One ingress permission of a security group."""

    from_port: Value[int]
    to_port: Value[int]
    protocol: Value[str]
    cidr_blocks: Value[list[str]]  # IPv4 and IPv6 together
    origin: Location
    source: str = ""  # address of the rule resource or inline block description

    def covers_port(self, port: int) -> bool | None:
        """Whether the rule admits TCP ``port``; None when unknown."""
        if not (self.protocol.known and self.from_port.known and self.to_port.known):
            return None
        proto = str(self.protocol.value).lower()
        if proto in ("-1", "all"):
            return True
        if proto not in ("tcp", "6"):
            return False
        lo, hi = int(self.from_port.value), int(self.to_port.value)
        if lo == -1 and hi == -1:
            return True
        return lo <= port <= hi


@dataclass
class SecurityGroup(Resource):
    name: Value[str]
    ingress: list[IngressRule] = field(default_factory=list)


@dataclass
class Cluster(Resource):
    identifier: Value[str]
    engine: Value[str]
    engine_mode: Value[str]
    engine_version: Value[str]
    iam_auth: Value[bool]
    http_endpoint: Value[bool]
    manage_master_password: Value[bool]
    master_username: Value[str]
    master_password: Value[Any]  # Secret, None or Unknown; never printed
    storage_encrypted: Value[bool]
    deletion_protection: Value[bool]
    skip_final_snapshot: Value[bool]
    final_snapshot_identifier: Value[str | None]
    scaling: Scaling | None
    port: Value[Any]  # an int; None or "" when written empty, anything else when mistyped
    instances: list[Instance] = field(default_factory=list)
    subnet_group: SubnetGroup | None = None
    subnet_group_ref: Value[str] | None = None  # the db_subnet_group_name argument
    security_groups: list[SecurityGroup] = field(default_factory=list)
    # vpc_security_group_ids, each entry the address of the group in ``security_groups``
    # it names, or an Unknown saying why it names none (so ``known`` means complete).
    security_group_refs: Value[list[Any]] | None = None
    # Live-only facts (None in static sources).
    arn: str | None = None
    status: str | None = None
    region: str | None = None
    master_user_secret_arn: str | None = None
    stopped_since: str | None = None  # ISO time the cluster was last stopped
    # What AWS itself reports about the engine version (DescribeDBEngineVersions),
    # preferred over the facts table when present.
    reported_engine_support: EngineSupport | None = None
    identifier_prefix: Value[str] | None = None  # cluster_identifier_prefix, when written
    # The Secrets Manager secret version of the configuration that holds the master password
    # (a resource storing the password it is given, or a data source it is read from).
    password_secret: str = ""
    # vpc_security_group_ids is left out and the configuration does not manage the VPC's
    # default security group: the group applies as AWS creates it.
    default_group_as_created: bool = False


@lazy_dataclass(frozen=True)
class PolicyStatement:
    """One IAM policy statement; each element a string or an :class:`Unknown`.

    ``actions``/``resources`` are None when the statement uses ``NotAction``/``NotResource``
    instead (then ``not_actions``/``not_resources`` hold the list). ``principals`` maps a
    principal type (``Service``, ``AWS``, ``Federated``, ``*``) to its values. ``conditions``
    maps an operator to {key: [values]}; an Unknown anywhere means the scan cannot read it.
    """

    effect: Any  # "Allow", "Deny" or Unknown
    actions: tuple[Any, ...] | None = None
    not_actions: tuple[Any, ...] | None = None
    resources: tuple[Any, ...] | None = None
    not_resources: tuple[Any, ...] | None = None
    principals: Any = None  # dict[str, tuple[Any, ...]] | Unknown | None
    not_principals: Any = None
    conditions: Any = None  # dict[str, dict[str, tuple[Any, ...]]] | Unknown | None
    sid: str = ""
    origin: Location = NOWHERE


@lazy_dataclass(frozen=True)
class PolicyDocument:
    """An IAM policy document and where it comes from.

    ``statements`` is an Unknown (with the reason) when the document cannot be read.
    ``name`` says which policy it is: an inline policy, a customer managed policy's address or
    ARN, or an AWS managed policy's ARN.
    """

    name: str
    statements: tuple[PolicyStatement, ...] | Unknown
    origin: Location = NOWHERE


@lazy_dataclass
class IamRole(Resource):
    """An IAM role: its trust policy and every permissions policy in effect on it.

    ``policies`` holds inline policies (``inline_policy`` blocks, ``aws_iam_role_policy``,
    ``GetRolePolicy``) and attached managed policies alike. ``incomplete`` lists why the set
    may miss a policy (an attachment whose role or policy cannot be followed, a refused call).
    """

    name: Value[str]
    arn: Value[Any]
    trust_policy: PolicyDocument | None
    policies: list[PolicyDocument] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    # Permissions boundary ARN, when one is set (it can only narrow the permissions), and its
    # document when the source could read it.
    permissions_boundary: Value[Any] | None = None
    boundary_policy: PolicyDocument | None = None


@lazy_dataclass
class KnowledgeBase(Resource):
    storage_type: Value[str]
    resource_arn: Value[Any]
    credentials_secret_arn: Value[Any]
    database_name: Value[str]
    table_name: Value[str]
    field_mapping: dict[str, Value[str]]
    # Address of the cluster the resource_arn refers to, when it could be followed.
    cluster_address: str | None = None
    # Live only (None elsewhere): whether the credentials secret exists
    # (secretsmanager:DescribeSecret), and why cluster_address names no audited cluster
    # (no such cluster, another engine); either may be an Unknown with the reason.
    credentials_secret_exists: Value[bool] | None = None
    cluster_problem: Value[str] | None = None
    # The service role (role_arn) and the embedding model (embedding_model_arn).
    role_arn: Value[Any] | None = None
    embedding_model_arn: Value[Any] | None = None
    # The role role_arn names, when the source could read it; role_unresolved says why not.
    role: IamRole | None = None
    role_unresolved: str = ""
    role_missing: bool = False  # the role does not exist (a live answer): role_unresolved says so


@dataclass
class Provider:
    """The AWS provider configuration: region and version constraint."""

    region: Value[str]
    version_constraint: Value[str | None]
    origin: Location = NOWHERE


@lazy_dataclass
class DatabaseIndex:
    name: str
    table: str
    method: str  # hnsw, ivfflat, gin, btree ...
    definition: str
    columns: list[str]  # key columns or expressions, as pg_get_indexdef prints them
    opclasses: list[str]
    valid: bool = True  # false after a failed CREATE INDEX CONCURRENTLY
    partial: bool = False  # has a WHERE clause, so it serves only some queries


@lazy_dataclass
class DatabaseColumn:
    name: str
    data_type: str  # as format_type() prints it: uuid, vector(1024), text, jsonb ...
    not_null: bool = False


@lazy_dataclass
class DatabaseTable:
    schema: str
    name: str
    columns: dict[str, DatabaseColumn]
    primary_key: list[str]
    indexes: list[DatabaseIndex]

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@lazy_dataclass
class Database:
    """What a database reports about itself (source: a PostgreSQL connection)."""

    origin: Location
    server_version: str
    current_user: str
    vector_installed: str | None  # installed version of the vector extension
    vector_available: str | None  # default_version in pg_available_extensions
    table: DatabaseTable | None
    table_name: str  # schema.table asked for
    privileges: dict[str, bool] = field(default_factory=dict)  # usage, select, insert, update, delete
    is_master_user: bool | None = None
    expected_dimensions: int | None = None
    expected_dimensions_origin: str = ""
    column_names: dict[str, str] = field(default_factory=dict)  # role -> column name
    database_name: str = ""
    schema_exists: bool = False
    # The role whose privileges were checked (the connecting user unless told otherwise).
    privilege_role: str = ""
    master_reason: str = ""  # why the role counts as the master user
    embedding_model: str | None = None  # model id the table must fit, when given
    distance: str = "cosine"  # cosine, l2 or inner: the operator class queries need
    # Column roles configured explicitly (CLI or knowledge base field_mapping); the
    # optional custom_metadata column is required only when configured.
    configured_roles: frozenset[str] = frozenset()
    # A database-level location (no table) for findings about the server itself.
    server_origin: Location = NOWHERE
    # Why the knowledge bases could not be read (e.g. an operation AWS refused), for AV607.
    knowledge_bases_unreadable: str = ""


@dataclass
class ModuleCall:
    """A ``module`` block whose source the scan read, or could not read (``unread`` says why)."""

    address: str  # "module.db", "module.app.module.db"
    source: str  # the source argument as written ("terraform-aws-modules/rds-aurora/aws")
    origin: Location
    version: str = ""  # the version argument, when written
    unread: str = ""  # why its files were not read; "" when they were
    installed_at: str = ""  # the directory terraform init installed it in, for a remote source


@lazy_dataclass(frozen=True)
class RefusedCall:
    """An optional AWS call the live source could not make, and what it did instead."""

    operation: str  # "rds:DescribeDBInstances"
    code: str  # the error code AWS answered ("AccessDenied")
    region: str
    consequence: str
    denied: bool = True  # AWS refused the permission; False: the call failed otherwise
    message: str = ""

    @property
    def reason(self) -> str:
        if self.denied:
            return f"{self.operation} was refused ({self.code}) in {self.region}"
        detail = f": {self.message}" if self.message else ""
        return f"{self.operation} failed ({self.code}{detail}) in {self.region}"


@dataclass
class Deployment:
    """Everything one source knows about one deployment."""

    kind: str  # a registered source kind (validator.sources.KINDS)
    root: str  # directory, plan file or account/region description
    clusters: list[Cluster] = field(default_factory=list)
    knowledge_bases: list[KnowledgeBase] = field(default_factory=list)
    security_groups: list[SecurityGroup] = field(default_factory=list)
    provider: Provider | None = None
    database: Database | None = None
    # Terraform arguments in use per cluster address (for AV404).
    arguments_used: dict[str, set[str]] = field(default_factory=dict)
    # Comments that suppress rules: (file, line) -> list of (rule_id, reason).
    suppressions: dict[tuple[str, int], list[tuple[str, str]]] = field(default_factory=dict)
    # Resource address -> (file, first line, last line) of its block, for suppressions.
    spans: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    # AWS operations the live source was refused or that failed, for AV503.
    refused_calls: list[RefusedCall] = field(default_factory=list)
    # The Terraform deployment declaring this live one, compared with it for drift (``--live PATH``).
    # (Not the accepted-findings baseline of ``--baseline``, which is ``validator.baseline``.)
    declared: Deployment | None = None
    # The AWS account a live deployment is in (12 digits); None for the other sources.
    account: str | None = None
    # Module calls of a Terraform configuration (HCL source): read or not, for AV002.
    module_calls: list[ModuleCall] = field(default_factory=list)
