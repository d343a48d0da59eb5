"""Every fact the validator relies on, as data, with its source and confidence.

A fact is a typed record: a :class:`Fact` for a single value (registered in :data:`FACTS`
by :func:`fact`, which returns the value itself), or a row of one of the tables below
(:class:`MinVersion`, :class:`PgvectorRow`, :class:`ProviderArgument`, ...). Each names its
source and its :class:`Confidence`; rows of confidence M or L carry a comment saying why.
The live mode prefers what AWS itself reports (``DescribeDBEngineVersions``) over these tables.

Nothing else in the project hard-codes a version, a limit or a price: rules
call the lookup functions at the end of each section. ``tests/test_facts_registry.py``
fails on a fact nothing reads and on a known fact's literal copied elsewhere in ``validator/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Confidence(StrEnum):
    """How well a fact is known; the value is the letter reports print ("confidence H")."""

    HIGH = "H"  # read in a primary source (AWS documentation, the provider's own validation or changelog)
    MEDIUM = "M"  # a secondary source
    LOW = "L"  # inferred

    @property
    def rank(self) -> int:
        return {"H": 3, "M": 2, "L": 1}[self.value]


@dataclass(frozen=True)
class Fact(Generic[T]):
    """One value the validator relies on, where it was read, and how well it is known.

    ``distinctive``: the value stands for this fact wherever it is written in ``validator/``
    (5432, "provisioned", 128 ACU), so a copy of it elsewhere is drift and fails the tests.
    """

    name: str
    value: T
    confidence: Confidence
    source: str
    distinctive: bool = False


FACTS: dict[str, Fact[Any]] = {}


def fact(name: str, value: T, confidence: Confidence, source: str, *, distinctive: bool | None = None) -> T:
    """Record ``value`` as the fact ``name`` and give the value back, for ``NAME = fact("NAME", ...)``.

    Strings are distinctive unless told otherwise; numbers only when told.
    """
    if name in FACTS:
        raise ValueError(f"fact {name} is recorded twice")
    FACTS[name] = Fact(name, value, confidence, source, isinstance(value, str) if distinctive is None else distinctive)
    return value


# --------------------------------------------------------------------------- #
# Sources

URL_SV2_REQUIREMENTS = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.requirements.html"
)
URL_SV2_CAPACITY = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.setting-capacity.html"
)
URL_SV2_AUTO_PAUSE = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html"
URL_SV2_VERSIONS = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"
    "Concepts.Aurora_Fea_Regions_DB-eng.Feature.ServerlessV2.html"
)
URL_SV1_END_OF_LIFE = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless.relnotes.html"
URL_CREATE_DB_CLUSTER = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html"
URL_SCALING_API = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ServerlessV2ScalingConfiguration.html"
URL_PGVECTOR_EXTENSIONS = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/AuroraPostgreSQL.Extensions.html"
)
URL_PGVECTOR_0_4 = (
    "https://aws.amazon.com/about-aws/whats-new/2023/07/"
    "amazon-aurora-postgresql-pgvector-vector-storage-similarity-search/"
)
URL_PGVECTOR_0_5 = (
    "https://aws.amazon.com/about-aws/whats-new/2023/10/amazon-aurora-postgresql-pgvector-v0-5-0-hnsw-indexing/"
)
URL_BEDROCK_AURORA = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.VectorDB.html"
URL_BEDROCK_KB_SETUP = "https://docs.aws.amazon.com/bedrock/latest/userguide/knowledge-base-setup.html"
URL_DATA_API = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html"
URL_IAM_AUTH = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.html"
URL_IAM_AUTH_CONNECT = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.Connecting.html"
)
URL_SECRETS_MANAGER = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html"
URL_SUBNET_GROUPS = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"
    "USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Subnets"
)
URL_PUBLIC_ACCESS = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"
    "USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Hiding"
)
URL_SECURITY_GROUPS = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Overview.RDSSecurityGroups.html"
URL_ENCRYPTION = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Overview.Encryption.html"
URL_IDENTIFIERS = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/CHAP_Limits.html#RDS_Limits.Constraints"
URL_DELETE_CLUSTER = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_DeleteCluster.html"
URL_STOP_START = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-cluster-stop-start.html"
URL_PRICING = "https://aws.amazon.com/rds/aurora/pricing/"
URL_PROVIDER_RELEASES = "https://github.com/hashicorp/terraform-provider-aws/releases/tag/v{version}"
URL_PROVIDER_RDS_CLUSTER = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/rds_cluster"
URL_PROVIDER_ENGINE_VERSION = (
    "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/rds_engine_version"
)
URL_PROVIDER_AVAILABILITY_ZONES = (
    "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/availability_zones"
)
URL_PROVIDER_DEFAULT_SECURITY_GROUP = (
    "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/default_security_group"
)
URL_DEFAULT_SECURITY_GROUP = "https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html"
URL_SV1_DATA_API = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html#data-api.regions"
URL_PROVIDER_DB_SUBNET_GROUP = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/db_subnet_group"
URL_IAM_IDENTIFIERS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html"
URL_PROVIDER_UNIQUE_ID = "https://github.com/hashicorp/terraform-plugin-sdk/blob/main/helper/id/id.go"


# --------------------------------------------------------------------------- #
# Versions


@lru_cache(maxsize=1024)  # rules ask about the same few versions again and again
def parse_version(text: str) -> tuple[int, ...] | None:
    """``"16.4"`` -> ``(16, 4)``; None when the text does not start with a number.

    Trailing non-numeric parts (``"15.4.limitless"``, ``"5.0.0-beta1"``) are ignored.
    """
    match = re.match(r"^\s*v?(\d+(?:\.\d+)*)", str(text))
    if not match:
        return None
    return tuple(int(p) for p in match.group(1).split("."))


def compare_versions(a: str | tuple[int, ...], b: str | tuple[int, ...]) -> int:
    """-1, 0 or 1 like ``cmp``; missing components count as zero (16 == 16.0)."""
    ta = parse_version(a) if isinstance(a, str) else a
    tb = parse_version(b) if isinstance(b, str) else b
    if ta is None or tb is None:
        raise ValueError(f"not a version: {a if ta is None else b!r}")
    width = max(len(ta), len(tb))
    pa = ta + (0,) * (width - len(ta))
    pb = tb + (0,) * (width - len(tb))
    return (pa > pb) - (pa < pb)


def version_at_least(version: str | tuple[int, ...], minimum: str | tuple[int, ...]) -> bool:
    return compare_versions(version, minimum) >= 0


# --------------------------------------------------------------------------- #
# Aurora Serverless v2


@dataclass(frozen=True)
class MinVersion:
    """The first engine version of one major that has a feature."""

    major: int
    version: str
    confidence: Confidence
    source: str


def _mins(rows: list[tuple[str, Confidence]], source: str) -> dict[int, MinVersion]:
    out: dict[int, MinVersion] = {}
    for version, confidence in rows:
        parsed = parse_version(version)
        assert parsed is not None
        out[parsed[0]] = MinVersion(parsed[0], version, confidence, source)
    return out


# Serverless v2 on Aurora PostgreSQL: 13.6, 14.3, 15.2, 16.1, 17.4. No earlier major has it.
SERVERLESS_V2_MIN: dict[int, MinVersion] = _mins(
    [
        ("13.6", Confidence.HIGH),
        ("14.3", Confidence.HIGH),
        ("15.2", Confidence.HIGH),
        ("16.1", Confidence.HIGH),
        ("17.4", Confidence.HIGH),
    ],
    URL_SV2_VERSIONS,
)

# Maximum capacity 256 ACU (otherwise 128).
ACU_256_MIN: dict[int, MinVersion] = _mins(
    [
        ("13.13", Confidence.HIGH),
        ("14.10", Confidence.HIGH),
        ("15.5", Confidence.HIGH),
        ("16.1", Confidence.HIGH),
        # M: the capacity table lists 17.x only in the auto-pause row (0-256 ACU), so
        # every 17 version with Serverless v2 is taken to allow 256.
        ("17.4", Confidence.MEDIUM),
    ],
    URL_SV2_CAPACITY,
)

# Minimum capacity 0 ACU (automatic pause and resume).
AUTO_PAUSE_MIN: dict[int, MinVersion] = _mins(
    [
        ("13.15", Confidence.HIGH),
        ("14.12", Confidence.HIGH),
        ("15.7", Confidence.HIGH),
        ("16.3", Confidence.HIGH),
        # M: the documentation says "and 17.x" without a minor; 17.4 is the first 17 with Serverless v2.
        ("17.4", Confidence.MEDIUM),
    ],
    URL_SV2_AUTO_PAUSE,
)

ACU_STEP = fact("ACU_STEP", 0.5, Confidence.HIGH, URL_SCALING_API)  # capacities are multiples of 0.5 ACU
ACU_MIN_WITHOUT_AUTO_PAUSE = fact("ACU_MIN_WITHOUT_AUTO_PAUSE", 0.5, Confidence.HIGH, URL_SCALING_API)
ACU_MIN_WITH_AUTO_PAUSE = fact("ACU_MIN_WITH_AUTO_PAUSE", 0.0, Confidence.HIGH, URL_SV2_AUTO_PAUSE)
ACU_MAX_OLD = fact("ACU_MAX_OLD", 128.0, Confidence.HIGH, URL_SV2_CAPACITY, distinctive=True)
ACU_MAX_NEW = fact("ACU_MAX_NEW", 256.0, Confidence.HIGH, URL_SV2_CAPACITY, distinctive=True)
# The provider 5.100.0 validates max_capacity in 1-256 ("expected ... to be in the range
# (1.000000 - 256.000000)", seen with terraform validate); AWS documents "higher than 0.5".
ACU_MAX_FLOOR = fact("ACU_MAX_FLOOR", 1.0, Confidence.HIGH, URL_PROVIDER_RDS_CLUSTER)

# The provider validates seconds_until_auto_pause in 300-86400; AWS's default is 300.
AUTO_PAUSE_SECONDS_MIN = fact("AUTO_PAUSE_SECONDS_MIN", 300, Confidence.HIGH, URL_SV2_AUTO_PAUSE)
AUTO_PAUSE_SECONDS_MAX = fact("AUTO_PAUSE_SECONDS_MAX", 86_400, Confidence.HIGH, URL_SV2_AUTO_PAUSE, distinctive=True)
AUTO_PAUSE_SECONDS_DEFAULT = fact("AUTO_PAUSE_SECONDS_DEFAULT", 300, Confidence.HIGH, URL_SV2_AUTO_PAUSE)

# engine_mode "serverless" (Serverless v1) reached its end of life.
SERVERLESS_V1_END_OF_LIFE = fact("SERVERLESS_V1_END_OF_LIFE", "2025-03-31", Confidence.HIGH, URL_SV1_END_OF_LIFE)
ENGINE = fact("ENGINE", "aurora-postgresql", Confidence.HIGH, URL_SV2_REQUIREMENTS)
# Serverless v2 clusters; the provider default.
ENGINE_MODE = fact("ENGINE_MODE", "provisioned", Confidence.HIGH, URL_PROVIDER_RDS_CLUSTER)
SERVERLESS_INSTANCE_CLASS = fact("SERVERLESS_INSTANCE_CLASS", "db.serverless", Confidence.HIGH, URL_SV2_REQUIREMENTS)
# A DB subnet group spans at least two Availability Zones.
MIN_SUBNET_AZS = fact("MIN_SUBNET_AZS", 2, Confidence.HIGH, URL_SUBNET_GROUPS)
# A stopped cluster is started again after 7 days.
STOPPED_CLUSTER_RESTART_DAYS = fact("STOPPED_CLUSTER_RESTART_DAYS", 7, Confidence.HIGH, URL_STOP_START)
# Aurora PostgreSQL's port when none is given.
DEFAULT_PORT = fact("DEFAULT_PORT", 5432, Confidence.HIGH, URL_CREATE_DB_CLUSTER, distinctive=True)
# The AWS pricing pages' month.
HOURS_PER_MONTH = fact("HOURS_PER_MONTH", 730, Confidence.HIGH, URL_PRICING, distinctive=True)


# --------------------------------------------------------------------------- #
# pgvector, Data API and Bedrock Knowledge Bases


@dataclass(frozen=True)
class PgvectorRow:
    """Engine ``version`` and later minors of its major ship at least ``pgvector``."""

    version: str
    pgvector: str
    confidence: Confidence
    source: str


# HNSW indexes; Bedrock Knowledge Bases need it.
PGVECTOR_FOR_HNSW = fact("PGVECTOR_FOR_HNSW", "0.5.0", Confidence.HIGH, URL_BEDROCK_AURORA)

PGVECTOR_ROWS: tuple[PgvectorRow, ...] = (
    # 0.4.x: H for the engine versions; L for the patch level, so recorded as "0.4".
    PgvectorRow("12.15", "0.4", Confidence.LOW, URL_PGVECTOR_0_4),
    PgvectorRow("13.11", "0.4", Confidence.LOW, URL_PGVECTOR_0_4),
    PgvectorRow("14.8", "0.4", Confidence.LOW, URL_PGVECTOR_0_4),
    PgvectorRow("15.3", "0.4", Confidence.LOW, URL_PGVECTOR_0_4),
    PgvectorRow("12.16", "0.5.0", Confidence.HIGH, URL_PGVECTOR_0_5),
    PgvectorRow("13.12", "0.5.0", Confidence.HIGH, URL_PGVECTOR_0_5),
    PgvectorRow("14.9", "0.5.0", Confidence.HIGH, URL_PGVECTOR_0_5),
    PgvectorRow("15.4", "0.5.0", Confidence.HIGH, URL_PGVECTOR_0_5),
    # L: 0.5.1 is confirmed for 16.1 only by secondary sources; 15.5, 14.10, 13.13 are inferred.
    PgvectorRow("16.1", "0.5.1", Confidence.LOW, URL_PGVECTOR_EXTENSIONS),
    PgvectorRow("15.5", "0.5.1", Confidence.LOW, URL_PGVECTOR_EXTENSIONS),
    PgvectorRow("14.10", "0.5.1", Confidence.LOW, URL_PGVECTOR_EXTENSIONS),
    PgvectorRow("13.13", "0.5.1", Confidence.LOW, URL_PGVECTOR_EXTENSIONS),
    PgvectorRow("12.19", "0.7.0", Confidence.HIGH, URL_PGVECTOR_EXTENSIONS),
    PgvectorRow("13.15", "0.7.0", Confidence.HIGH, URL_PGVECTOR_EXTENSIONS),
    PgvectorRow("14.12", "0.7.0", Confidence.HIGH, URL_PGVECTOR_EXTENSIONS),
    PgvectorRow("15.7", "0.7.0", Confidence.HIGH, URL_PGVECTOR_EXTENSIONS),
    PgvectorRow("16.3", "0.7.0", Confidence.HIGH, URL_PGVECTOR_EXTENSIONS),
    # L: inferred. Aurora PostgreSQL 17.4 came out in 2025, after pgvector 0.8.0 (2024-10);
    # the exact list of minors with 0.8.0 is not confirmed. Live mode reads pg_extension instead.
    PgvectorRow("17.4", "0.8.0", Confidence.LOW, URL_PGVECTOR_EXTENSIONS),
)
# Majors below the lowest one here never shipped pgvector on Aurora (the announcement names
# 12.15 and higher only); majors above the highest one here are unknown.

DATA_API_MIN: dict[int, MinVersion] = _mins(
    [
        ("13.11", Confidence.HIGH),
        ("14.8", Confidence.HIGH),
        ("15.3", Confidence.HIGH),
        ("16.1", Confidence.HIGH),
        ("17.4", Confidence.HIGH),
    ],
    URL_DATA_API,
)

BEDROCK_KB_MIN: dict[int, MinVersion] = _mins(
    [
        ("12.16", Confidence.HIGH),
        ("13.12", Confidence.HIGH),
        ("14.9", Confidence.HIGH),
        ("15.4", Confidence.HIGH),
        ("16.1", Confidence.HIGH),
        # L: not in the Bedrock list; follows from pgvector >= 0.5.0 and the Data API on 17.4.
        ("17.4", Confidence.LOW),
    ],
    URL_BEDROCK_AURORA,
)

# The columns a knowledge base's rds_configuration.field_mapping must name.
KB_REQUIRED_FIELD_MAPPING = fact(
    "KB_REQUIRED_FIELD_MAPPING",
    ("primary_key_field", "vector_field", "text_field", "metadata_field"),
    Confidence.HIGH,
    URL_BEDROCK_AURORA,
)
KB_OPTIONAL_FIELD_MAPPING = fact(
    "KB_OPTIONAL_FIELD_MAPPING", ("custom_metadata_field",), Confidence.HIGH, URL_BEDROCK_AURORA
)
KB_STORAGE_TYPE_RDS = fact("KB_STORAGE_TYPE_RDS", "RDS", Confidence.HIGH, URL_BEDROCK_KB_SETUP)


# --------------------------------------------------------------------------- #
# Engine support lookup


def _lowest(*confidences: Confidence) -> Confidence:
    return min((Confidence(c) for c in confidences), key=lambda c: c.rank, default=Confidence.HIGH)


@dataclass(frozen=True)
class EngineSupport:
    """What an Aurora PostgreSQL engine version supports.

    ``None`` means unknown (no row in the table). ``pgvector`` is the lowest pgvector
    version the engine version is known to ship, ``""`` when it ships none, None when
    unknown. ``confidence`` is the lowest confidence of the rows used.
    """

    version: str
    serverless_v2: bool | None
    max_acu: float | None
    min_acu_floor: float | None  # 0 with auto-pause, 0.5 without
    auto_pause: bool | None
    pgvector: str | None
    data_api: bool | None
    bedrock_kb: bool | None
    confidence: Confidence
    source: str
    note: str = ""

    def over(self, fallback: EngineSupport | None) -> EngineSupport:
        """This answer with its unknown fields filled from ``fallback``."""
        if fallback is None:
            return self
        filled = {
            name: getattr(fallback, name)
            for name in (
                "serverless_v2",
                "max_acu",
                "min_acu_floor",
                "auto_pause",
                "pgvector",
                "data_api",
                "bedrock_kb",
            )
            if getattr(self, name) is None
        }
        if not filled:
            return self
        return replace(
            self,
            **filled,
            confidence=_lowest(self.confidence, fallback.confidence),
            source=f"{self.source}; {fallback.source}",
        )

    @property
    def pgvector_has_hnsw(self) -> bool | None:
        """Whether the shipped pgvector has HNSW (0.5.0 or later); None when unknown."""
        if self.pgvector is None:
            return None
        if self.pgvector == "":
            return False
        return version_at_least(self.pgvector, PGVECTOR_FOR_HNSW)


def _feature(parsed: tuple[int, ...], table: dict[int, MinVersion]) -> tuple[bool | None, MinVersion | None]:
    """Whether ``parsed`` meets the table; the row used (None when outside the table)."""
    major = parsed[0]
    if major in table:
        row = table[major]
        if len(parsed) < 2:
            return None, row  # only the major is given: the minor AWS selects is unknown
        return version_at_least(parsed, row.version), row
    if major < min(table):
        return False, None  # the feature starts at the lowest major in the table
    return None, None  # a newer major than the table knows


def _pgvector(parsed: tuple[int, ...]) -> tuple[str | None, Confidence, str]:
    """(pgvector version, confidence, source) for an engine version."""
    major = parsed[0]
    rows = [r for r in PGVECTOR_ROWS if parse_version(r.version)[0] == major]  # type: ignore[index]
    if not rows:
        majors = [parse_version(r.version)[0] for r in PGVECTOR_ROWS]  # type: ignore[index]
        if major < min(majors):
            return "", Confidence.HIGH, URL_PGVECTOR_0_4
        return None, Confidence.LOW, URL_PGVECTOR_EXTENSIONS
    if len(parsed) < 2:
        return None, Confidence.LOW, URL_PGVECTOR_EXTENSIONS
    best: PgvectorRow | None = None
    for row in rows:
        if version_at_least(parsed, row.version) and (best is None or version_at_least(row.pgvector, best.pgvector)):
            best = row
    if best is None:
        first = min(rows, key=lambda r: parse_version(r.version))  # type: ignore[arg-type,return-value]
        return "", first.confidence, first.source  # before the first pgvector release of this major
    return best.pgvector, best.confidence, best.source


@lru_cache(maxsize=256)
def engine_support(version: str) -> EngineSupport:
    """What the facts table knows about an Aurora PostgreSQL engine version.

    A version below a known minimum gets False; a major the table has no row for
    (for example 18) gets None for every feature.
    """
    parsed = parse_version(version)
    if parsed is None:
        return EngineSupport(
            version, None, None, None, None, None, None, None, Confidence.LOW, "", note=f"{version!r} is not a version"
        )
    sv2, sv2_row = _feature(parsed, SERVERLESS_V2_MIN)
    acu256, acu_row = _feature(parsed, ACU_256_MIN)
    pause, pause_row = _feature(parsed, AUTO_PAUSE_MIN)
    data_api, api_row = _feature(parsed, DATA_API_MIN)
    kb, kb_row = _feature(parsed, BEDROCK_KB_MIN)
    pgv, pgv_conf, pgv_src = _pgvector(parsed)

    max_acu: float | None = None
    floor: float | None = None
    if sv2 is False:
        pause = False  # auto-pause never predates Serverless v2
    elif sv2:
        max_acu = ACU_MAX_NEW if acu256 else ACU_MAX_OLD if acu256 is False else None
        floor = ACU_MIN_WITH_AUTO_PAUSE if pause else ACU_MIN_WITHOUT_AUTO_PAUSE if pause is False else None
    rows = [r for r in (sv2_row, acu_row, pause_row, api_row, kb_row) if r is not None]
    confidence = _lowest(*(r.confidence for r in rows), pgv_conf)
    sources = sorted({r.source for r in rows} | ({pgv_src} if pgv_src else set()))
    note = ""
    if len(parsed) < 2:
        note = f"engine_version {version!r} names only the major version; the minor AWS selects is unknown"
    elif sv2 is None:
        note = f"the facts table has no row for Aurora PostgreSQL {parsed[0]}"
    return EngineSupport(
        version=version,
        serverless_v2=sv2,
        max_acu=max_acu,
        min_acu_floor=floor,
        auto_pause=pause,
        pgvector=pgv,
        data_api=data_api,
        bedrock_kb=kb,
        confidence=confidence,
        source="; ".join(sources),
        note=note,
    )


def minimum_for(feature: str, version: str) -> str | None:
    """The first version of ``version``'s major with a feature, e.g. ``minimum_for("auto_pause", "16.1")``.

    ``feature`` is one of serverless_v2, acu_256, auto_pause, data_api, bedrock_kb, pgvector_hnsw.
    None when the major has no row.
    """
    parsed = parse_version(version)
    if parsed is None:
        return None
    if feature == "pgvector_hnsw":
        rows = [
            r
            for r in PGVECTOR_ROWS
            if parse_version(r.version)[0] == parsed[0]  # type: ignore[index]
            and version_at_least(r.pgvector, PGVECTOR_FOR_HNSW)
        ]
        return min((r.version for r in rows), key=parse_version, default=None)  # type: ignore[arg-type]
    table = {
        "serverless_v2": SERVERLESS_V2_MIN,
        "acu_256": ACU_256_MIN,
        "auto_pause": AUTO_PAUSE_MIN,
        "data_api": DATA_API_MIN,
        "bedrock_kb": BEDROCK_KB_MIN,
    }[feature]
    row = table.get(parsed[0])
    return row.version if row else None


def lowest_minimum(feature: str) -> str:
    """The first version of any major with a feature, e.g. 13.6 for serverless_v2."""
    table = {
        "serverless_v2": SERVERLESS_V2_MIN,
        "auto_pause": AUTO_PAUSE_MIN,
        "data_api": DATA_API_MIN,
        "bedrock_kb": BEDROCK_KB_MIN,
        "acu_256": ACU_256_MIN,
    }[feature]
    return table[min(table)].version


def versions_text(table: dict[int, MinVersion]) -> str:
    """The minimums of a table as prose: "13.6, 14.3, 15.2, 16.1, 17.4"."""
    return ", ".join(table[major].version for major in sorted(table))


def pgvector_hnsw_text() -> str:
    """The first version of each major with pgvector 0.5.0 or later: "12.16, 13.12, ..."."""
    majors = sorted({parse_version(r.version)[0] for r in PGVECTOR_ROWS})  # type: ignore[index]
    firsts = [minimum_for("pgvector_hnsw", str(m)) for m in majors]
    return ", ".join(v for v in firsts if v)


# An example engine version for fix snippets: at or above every minimum in this file for its
# major (Serverless v2, 256 ACU, auto-pause, pgvector 0.7.0, Data API, Bedrock). M: the minor's
# availability in a given region is not checked here.
EXAMPLE_ENGINE_VERSION = fact("EXAMPLE_ENGINE_VERSION", "16.6", Confidence.MEDIUM, URL_SV2_VERSIONS)


# --------------------------------------------------------------------------- #
# Terraform AWS provider: the first version that accepts an argument


@dataclass(frozen=True)
class ProviderArgument:
    name: str
    version: str
    what: str
    confidence: Confidence
    source: str


def _arg(name: str, version: str, what: str, confidence: Confidence = Confidence.HIGH) -> ProviderArgument:
    return ProviderArgument(name, version, what, confidence, URL_PROVIDER_RELEASES.format(version=version))


# Names in Deployment.arguments_used[cluster address]. Plain names are aws_rds_cluster
# arguments written in the configuration (nested ones by their own name, e.g.
# "seconds_until_auto_pause"). Pseudo-arguments describe a value rather than an argument:
#   "min_capacity=0"    serverlessv2_scaling_configuration.min_capacity is 0
#   "max_capacity>128"  serverlessv2_scaling_configuration.max_capacity is above 128
# A dotted name ("serverlessv2_scaling_configuration.seconds_until_auto_pause") is matched
# by its last part.
PSEUDO_MIN_CAPACITY_ZERO = "min_capacity=0"
PSEUDO_MAX_CAPACITY_ABOVE_128 = "max_capacity>128"
PROVIDER_ARGUMENTS: dict[str, ProviderArgument] = {
    a.name: a
    for a in (
        _arg("serverlessv2_scaling_configuration", "4.12.0", "serverlessv2_scaling_configuration"),
        _arg("manage_master_user_password", "4.61.0", "manage_master_user_password"),
        _arg("master_user_secret_kms_key_id", "4.61.0", "master_user_secret_kms_key_id"),
        _arg("enable_http_endpoint", "5.64.0", "enable_http_endpoint on a provisioned cluster"),
        _arg(PSEUDO_MAX_CAPACITY_ABOVE_128, "5.72.0", "max_capacity above 128"),
        _arg(PSEUDO_MIN_CAPACITY_ZERO, "5.80.0", "min_capacity = 0"),
        _arg("seconds_until_auto_pause", "5.81.0", "seconds_until_auto_pause"),
    )
}


def provider_arguments_text() -> str:
    """ "serverlessv2_scaling_configuration 4.12.0, ..., seconds_until_auto_pause 5.81.0"."""
    rows = sorted(PROVIDER_ARGUMENTS.values(), key=lambda r: (parse_version(r.version), r.name))
    return ", ".join(f"{r.what} {r.version}" for r in rows)


def provider_floor() -> str:
    """The provider version every argument in the table needs: a constraint's safe lower bound."""
    return max((r.version for r in PROVIDER_ARGUMENTS.values()), key=parse_version)  # type: ignore[arg-type]


def provider_requirements(arguments: set[str] | frozenset[str]) -> list[ProviderArgument]:
    """The table rows for the arguments in use, newest requirement first."""
    rows = {PROVIDER_ARGUMENTS[a.rsplit(".", 1)[-1]] for a in arguments if a.rsplit(".", 1)[-1] in PROVIDER_ARGUMENTS}
    return sorted(rows, key=lambda r: (parse_version(r.version), r.name), reverse=True)


# --------------------------------------------------------------------------- #
# Provider defaults that depend on other arguments

# aws_rds_cluster.storage_encrypted left out, by engine_mode: false for provisioned clusters (Serverless
# v2 included), true for Serverless v1, whose storage is always encrypted. (H, URL_PROVIDER_RDS_CLUSTER)
SERVERLESS_V1_ENGINE_MODE = fact("SERVERLESS_V1_ENGINE_MODE", "serverless", Confidence.HIGH, URL_SV1_END_OF_LIFE)
STORAGE_ENCRYPTED_DEFAULT: dict[str, bool] = fact(
    "STORAGE_ENCRYPTED_DEFAULT",
    {ENGINE_MODE: False, SERVERLESS_V1_ENGINE_MODE: True},
    Confidence.HIGH,
    URL_PROVIDER_RDS_CLUSTER,
)

# The Data API on Serverless v1 clusters had its own engine list, apart from the provisioned and
# Serverless v2 minimums in DATA_API_MIN. M: the v1 list (Aurora PostgreSQL 10.x, 11.x and the 13.x
# v1 versions) comes from the v1 documentation of the Data API, which AWS no longer keeps current.
SERVERLESS_V1_DATA_API_MAJORS: tuple[int, ...] = fact(
    "SERVERLESS_V1_DATA_API_MAJORS", (10, 11, 13), Confidence.MEDIUM, URL_SV1_DATA_API
)


# --------------------------------------------------------------------------- #
# Networking semantics


# A cluster that names no vpc_security_group_ids gets its VPC's default security group. As AWS creates
# it, the default group admits inbound traffic only from its own members (and allows all outbound);
# aws_default_security_group adopts it and replaces its rules with the ones written.
# (H, URL_DEFAULT_SECURITY_GROUP and URL_PROVIDER_DEFAULT_SECURITY_GROUP)
DEFAULT_SECURITY_GROUP_INGRESS = fact(
    "DEFAULT_SECURITY_GROUP_INGRESS",
    "only traffic from members of the group itself",
    Confidence.HIGH,
    URL_DEFAULT_SECURITY_GROUP,
)
DEFAULT_SECURITY_GROUP_TYPE = fact(
    "DEFAULT_SECURITY_GROUP_TYPE", "aws_default_security_group", Confidence.HIGH, URL_PROVIDER_DEFAULT_SECURITY_GROUP
)


@dataclass(frozen=True)
class DataEcho:
    """A data source attribute equal to the argument of the same data block (when ``exact`` allows)."""

    data_type: str
    attribute: str
    argument: str
    # "any": every written value is echoed; "full_version": only a version with a minor ("16.6"),
    # since a major alone ("16") selects a version AWS chooses.
    exact: str
    confidence: Confidence
    source: str


# Data source attributes that echo their arguments, so a value that reads them is known statically.
# aws_rds_engine_version filters DescribeDBEngineVersions by engine and version and sets engine and
# version from the version found; a version given with its minor finds exactly that version.
# version_actual and the other attributes are AWS's answer and stay unknown. (H, the provider's
# data source code; URL_PROVIDER_ENGINE_VERSION)
DATA_ECHOES: dict[tuple[str, str], DataEcho] = {
    (e.data_type, e.attribute): e
    for e in (
        DataEcho("aws_rds_engine_version", "engine", "engine", "any", Confidence.HIGH, URL_PROVIDER_ENGINE_VERSION),
        DataEcho(
            "aws_rds_engine_version", "version", "version", "full_version", Confidence.HIGH, URL_PROVIDER_ENGINE_VERSION
        ),
    )
}

# Data source list attributes whose elements are pairwise distinct: distinct indexes of one such list
# are distinct values (an Availability Zone appears once in names). The list itself is read at plan
# time. (H by construction, URL_PROVIDER_AVAILABILITY_ZONES)
DISTINCT_LISTS: frozenset[tuple[str, str]] = fact(
    "DISTINCT_LISTS",
    frozenset({("aws_availability_zones", "names"), ("aws_availability_zones", "zone_ids")}),
    Confidence.HIGH,
    URL_PROVIDER_AVAILABILITY_ZONES,
)


def data_echo(data_type: str, attribute: str, written: object) -> bool:
    """Whether ``data.<data_type>.x.<attribute>`` is the value written as its argument."""
    echo = DATA_ECHOES.get((data_type, attribute))
    if echo is None or not isinstance(written, str):
        return False
    if echo.exact == "full_version":
        return re.fullmatch(r"\d+(\.\d+)+", written) is not None
    return True


# --------------------------------------------------------------------------- #
# RDS identifiers (the provider's own validation, seen with terraform validate on
# provider 5.100.0; lengths from the RDS naming constraints). (H)

# DB cluster and DB instance identifiers.
IDENTIFIER_MAX_LENGTH = fact("IDENTIFIER_MAX_LENGTH", 63, Confidence.HIGH, URL_IDENTIFIERS)
# The provider's validation.
SUBNET_GROUP_NAME_MAX_LENGTH = fact("SUBNET_GROUP_NAME_MAX_LENGTH", 255, Confidence.HIGH, URL_PROVIDER_DB_SUBNET_GROUP)


def identifier_problems(value: str) -> list[tuple[str, bool]]:
    """Why a cluster or instance identifier is rejected, each with whether plan already fails.

    The pattern checks are the provider's (plan time); the length is checked by AWS (apply time).
    """
    problems: list[tuple[str, bool]] = []
    if not re.fullmatch(r"[0-9a-z-]+", value):
        problems.append(("only lowercase alphanumeric characters and hyphens are allowed", True))
    if not re.match(r"[a-z]", value):
        problems.append(("the first character must be a letter", True))
    if "--" in value:
        problems.append(("two consecutive hyphens are not allowed", True))
    if value.endswith("-"):
        problems.append(("it cannot end with a hyphen", True))
    if len(value) > IDENTIFIER_MAX_LENGTH:
        problems.append((f"it is longer than {IDENTIFIER_MAX_LENGTH} characters", False))
    return problems


# The provider appends a 26-digit unique suffix to cluster_identifier_prefix and identifier_prefix
# (helper/id UniqueIDSuffixLength). (H, URL_PROVIDER_UNIQUE_ID)
IDENTIFIER_PREFIX_SUFFIX_LENGTH = fact("IDENTIFIER_PREFIX_SUFFIX_LENGTH", 26, Confidence.HIGH, URL_PROVIDER_UNIQUE_ID)
IDENTIFIER_PREFIX_MAX_LENGTH = fact(
    "IDENTIFIER_PREFIX_MAX_LENGTH",
    IDENTIFIER_MAX_LENGTH - IDENTIFIER_PREFIX_SUFFIX_LENGTH,  # 37
    Confidence.HIGH,
    URL_IDENTIFIERS,
)


def identifier_prefix_problems(value: str) -> list[tuple[str, bool]]:
    """Why a cluster_identifier_prefix or identifier_prefix is rejected, each with whether plan fails.

    The provider checks the characters, the first letter and double hyphens at plan time (a trailing
    hyphen is fine: the suffix follows); the identifier it makes is prefix plus 26 digits, which AWS
    rejects at apply time when longer than 63 characters (seen with terraform validate, provider 5.100.0).
    """
    problems: list[tuple[str, bool]] = []
    if not re.fullmatch(r"[0-9a-z-]+", value):
        problems.append(("only lowercase alphanumeric characters and hyphens are allowed", True))
    if not re.match(r"[a-z]", value):
        problems.append(("the first character must be a letter", True))
    if "--" in value:
        problems.append(("two consecutive hyphens are not allowed", True))
    if len(value) > IDENTIFIER_PREFIX_MAX_LENGTH:
        problems.append((
            f"it is longer than {IDENTIFIER_PREFIX_MAX_LENGTH} characters, so with the "
            f"{IDENTIFIER_PREFIX_SUFFIX_LENGTH}-digit suffix the provider appends the identifier is longer than "
            f"{IDENTIFIER_MAX_LENGTH}",
            False,
        ))
    return problems


def subnet_group_name_problems(value: str) -> list[tuple[str, bool]]:
    """Why a DB subnet group name is rejected; all are plan-time checks of the provider."""
    problems: list[tuple[str, bool]] = []
    if not re.fullmatch(r"[0-9a-z_. -]+", value):
        problems.append(
            (
                "only lowercase alphanumeric characters, hyphens, underscores, periods and spaces are allowed",
                True,
            )
        )
    if len(value) > SUBNET_GROUP_NAME_MAX_LENGTH:
        problems.append((f"it is longer than {SUBNET_GROUP_NAME_MAX_LENGTH} characters", True))
    if value.lower() == "default":
        problems.append(('"default" is reserved', True))
    return problems


# --------------------------------------------------------------------------- #
# Prices (USD per ACU-hour, Aurora Serverless v2)

# The date the figures were recorded in the project's fact sheet from URL_PRICING.
PRICES_QUOTED = "2026-11-26"


@dataclass(frozen=True)
class AcuPrice:
    region: str
    storage_config: str  # "standard" or "io-optimized"
    usd_per_acu_hour: float
    confidence: Confidence
    source: str = URL_PRICING
    quoted: str = PRICES_QUOTED


ACU_PRICES: dict[tuple[str, str], AcuPrice] = {
    (p.region, p.storage_config): p
    for p in (
        # M: the pricing page is rendered by script; the figure is confirmed by secondary sources.
        AcuPrice("us-east-1", "standard", 0.12, Confidence.MEDIUM),
        # M: secondary sources.
        AcuPrice("ap-northeast-1", "standard", 0.20, Confidence.MEDIUM),
        # M: secondary sources.
        AcuPrice("us-east-1", "io-optimized", 0.16, Confidence.MEDIUM),
        # L: about 0.26, inferred from the Standard to I/O-Optimized ratio.
        AcuPrice("ap-northeast-1", "io-optimized", 0.26, Confidence.LOW),
    )
}


def acu_price(region: str, storage_config: str = "standard") -> AcuPrice | None:
    return ACU_PRICES.get((region, storage_config))


def monthly_compute_floor(min_acu: float, region: str, storage_config: str = "standard") -> float | None:
    """USD a month at ``min_acu`` for every hour; None without a price for the region."""
    price = acu_price(region, storage_config)
    if price is None:
        return None
    return round(min_acu * HOURS_PER_MONTH * price.usd_per_acu_hour, 2)


# --------------------------------------------------------------------------- #
# Database facts
# --- database facts ---
# Used by the database checks (AV6xx); keep this section last.

URL_TITAN_EMBEDDINGS = "https://docs.aws.amazon.com/bedrock/latest/userguide/titan-embedding-models.html"
URL_COHERE_EMBED = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html"


@dataclass(frozen=True)
class EmbeddingModel:
    """A Bedrock embedding model and the vector sizes it can produce."""

    model_id: str
    dimensions: int  # the default output size
    supported: tuple[int, ...]  # every size a knowledge base may configure, default first
    confidence: Confidence
    source: str


EMBEDDING_MODELS: dict[str, EmbeddingModel] = {
    m.model_id: m
    for m in (
        EmbeddingModel("amazon.titan-embed-text-v1", 1536, (1536,), Confidence.HIGH, URL_TITAN_EMBEDDINGS),
        EmbeddingModel("amazon.titan-embed-text-v2:0", 1024, (1024, 512, 256), Confidence.HIGH, URL_TITAN_EMBEDDINGS),
        # M: Cohere Embed v3 is 1024 wide per the Bedrock parameter page and secondary sources.
        EmbeddingModel("cohere.embed-english-v3", 1024, (1024,), Confidence.MEDIUM, URL_COHERE_EMBED),
        # M: as above.
        EmbeddingModel("cohere.embed-multilingual-v3", 1024, (1024,), Confidence.MEDIUM, URL_COHERE_EMBED),
    )
}


def embedding_model(name: str) -> EmbeddingModel | None:
    """The model for an id or foundation-model ARN; a missing ``:0`` version suffix is tolerated."""
    model_id = name.strip().rsplit("foundation-model/", 1)[-1]
    if model_id in EMBEDDING_MODELS:
        return EMBEDDING_MODELS[model_id]
    base = model_id.split(":", 1)[0]
    for known_id, model in EMBEDDING_MODELS.items():
        if known_id.split(":", 1)[0] == base:
            return model
    return None


# The text search configuration Bedrock's hybrid search uses on the text column, and so the
# one the GIN index must be built with (H for the set-up SQL, URL_BEDROCK_AURORA).
# M: that Bedrock rejects a table without this index comes from secondary sources.
KB_TEXT_SEARCH_CONFIG = fact("KB_TEXT_SEARCH_CONFIG", "simple", Confidence.HIGH, URL_BEDROCK_AURORA)


# --------------------------------------------------------------------------- #
# The knowledge base's service role (AV204)

URL_BEDROCK_KB_ROLE = "https://docs.aws.amazon.com/bedrock/latest/userguide/kb-permissions.html"
URL_AWS_MANAGED_POLICY = "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/{name}.html"
BEDROCK_SERVICE_PRINCIPAL = fact(
    "BEDROCK_SERVICE_PRINCIPAL", "bedrock.amazonaws.com", Confidence.HIGH, URL_BEDROCK_KB_ROLE
)

# What the service role must allow, on which resource of the knowledge base (kb-permissions.html:
# "Permissions to access your vector database in Amazon RDS (Aurora)" and "to access models").
# M: the project's fact sheet rates the list as read in secondary sources.
KB_ROLE_PERMISSIONS: tuple[tuple[str, str], ...] = fact(
    "KB_ROLE_PERMISSIONS",
    (
        ("rds:DescribeDBClusters", "cluster"),
        ("rds-data:ExecuteStatement", "cluster"),
        ("rds-data:BatchExecuteStatement", "cluster"),
        ("secretsmanager:GetSecretValue", "secret"),
        ("bedrock:InvokeModel", "model"),
    ),
    Confidence.MEDIUM,
    URL_BEDROCK_KB_ROLE,
)

# ARN prefixes of AWS managed policies (commercial, China, GovCloud partitions).
AWS_MANAGED_POLICY_PREFIXES = fact(
    "AWS_MANAGED_POLICY_PREFIXES",
    ("arn:aws:iam::aws:policy/", "arn:aws-cn:iam::aws:policy/", "arn:aws-us-gov:iam::aws:policy/"),
    Confidence.HIGH,
    URL_IAM_IDENTIFIERS,
)


@dataclass(frozen=True)
class ManagedPolicy:
    """An AWS managed policy, reduced to the statements about actions AV204 asks for.

    The statements kept are copied from the policy's page in the AWS Managed Policy Reference
    (``source``) at the version given; statements about other actions are left out, which
    cannot change an answer about these five actions (AWS managed policies have no Deny).
    """

    version: str
    document: dict[str, Any]
    source: str
    confidence: Confidence = Confidence.HIGH


def _managed(name: str, version: str, *statements: dict[str, Any]) -> tuple[str, ManagedPolicy]:
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    return name, ManagedPolicy(version, doc, URL_AWS_MANAGED_POLICY.format(name=name))


AWS_MANAGED_POLICIES: dict[str, ManagedPolicy] = dict(
    [
        _managed("AdministratorAccess", "v1", {"Effect": "Allow", "Action": "*", "Resource": "*"}),
        _managed("AmazonBedrockFullAccess", "v1+", {"Sid": "BedrockAll", "Effect": "Allow",
                                                    "Action": ["bedrock:*"], "Resource": "*"}),
        _managed(
            "AmazonRDSDataFullAccess",
            "v3",
            {"Sid": "SecretsManagerDbCredentialsAccess", "Effect": "Allow",
             "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutResourcePolicy",
                        "secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret",
                        "secretsmanager:DescribeSecret", "secretsmanager:TagResource"],
             "Resource": "arn:aws:secretsmanager:*:*:secret:rds-db-credentials/*"},
            {"Sid": "RDSDataServiceAccess", "Effect": "Allow",
             "Action": ["rds-data:BatchExecuteStatement", "rds-data:BeginTransaction",
                        "rds-data:CommitTransaction", "rds-data:ExecuteStatement",
                        "rds-data:RollbackTransaction"],
             "Resource": "*"},
        ),
        _managed("AmazonRDSReadOnlyAccess", "v1+", {"Effect": "Allow", "Action": ["rds:Describe*"],
                                                    "Resource": "*"}),
        _managed("AmazonRDSFullAccess", "v1+", {"Effect": "Allow", "Action": ["rds:*"], "Resource": "*"}),
        _managed("SecretsManagerReadWrite", "v1+", {"Effect": "Allow", "Action": ["secretsmanager:*"],
                                                    "Resource": "*"}),
    ]
)


def partition_of(region: str) -> str:
    """The ARN partition of a region name."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def role_name_of(arn: str) -> str:
    """The role name in an IAM role ARN (arn:aws:iam::123456789012:role/path/name)."""
    return arn.rsplit("/", 1)[-1] if ":role/" in arn else arn


# --------------------------------------------------------------------------- #
# --- GitHub code scanning: what it ingests of a SARIF file ---
# (H) https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning
URL_GITHUB_SARIF = (
    "https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/"
    "sarif-support-for-code-scanning"
)
GITHUB_SARIF_MAX_RUNS = fact("GITHUB_SARIF_MAX_RUNS", 20, Confidence.HIGH, URL_GITHUB_SARIF)  # runs per file
GITHUB_SARIF_MAX_RESULTS_PER_RUN = fact("GITHUB_SARIF_MAX_RESULTS_PER_RUN", 25_000, Confidence.HIGH, URL_GITHUB_SARIF)
GITHUB_SARIF_MAX_RULES_PER_RUN = fact("GITHUB_SARIF_MAX_RULES_PER_RUN", 25_000, Confidence.HIGH, URL_GITHUB_SARIF)
GITHUB_SARIF_MAX_LOCATIONS_PER_RESULT = fact(
    "GITHUB_SARIF_MAX_LOCATIONS_PER_RESULT", 1_000, Confidence.HIGH, URL_GITHUB_SARIF
)
# Only 10 are shown.
GITHUB_SARIF_MAX_TAGS_PER_RULE = fact("GITHUB_SARIF_MAX_TAGS_PER_RULE", 20, Confidence.HIGH, URL_GITHUB_SARIF)
# security-severity (a string, 0.0 to 10.0) ranks alerts tagged "security":
# above 9.0 critical, 7.0 to 8.9 high, 4.0 to 6.9 medium, 0.1 to 3.9 low.
GITHUB_SECURITY_SEVERITY_BANDS = fact(
    "GITHUB_SECURITY_SEVERITY_BANDS",
    (("critical", 9.0), ("high", 7.0), ("medium", 4.0), ("low", 0.1)),
    Confidence.HIGH,
    URL_GITHUB_SARIF,
)

# --------------------------------------------------------------------------- #
# --- Many accounts: sts:AssumeRole and organizations:ListAccounts ---
# The bounds and patterns are also in botocore's sts 2011-06-15 service model.
URL_ASSUME_ROLE = "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"
ASSUME_ROLE_DURATION_MIN = fact("ASSUME_ROLE_DURATION_MIN", 900, Confidence.HIGH, URL_ASSUME_ROLE)  # 15 minutes
# 12 hours; a role's own MaxSessionDuration may be lower.
ASSUME_ROLE_DURATION_MAX = fact("ASSUME_ROLE_DURATION_MAX", 43_200, Confidence.HIGH, URL_ASSUME_ROLE)
# What STS grants when DurationSeconds is left out.
ASSUME_ROLE_DURATION_DEFAULT = fact("ASSUME_ROLE_DURATION_DEFAULT", 3_600, Confidence.HIGH, URL_ASSUME_ROLE)
ROLE_SESSION_NAME_PATTERN = fact("ROLE_SESSION_NAME_PATTERN", r"[\w+=,.@-]{2,64}", Confidence.HIGH, URL_ASSUME_ROLE)
EXTERNAL_ID_PATTERN = fact("EXTERNAL_ID_PATTERN", r"[\w+=,.@:/-]{2,1224}", Confidence.HIGH, URL_ASSUME_ROLE)
# An account's State (2025; Status is deprecated): only ACTIVE accounts can be audited.
URL_LIST_ACCOUNTS = "https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html"
LIST_ACCOUNTS_MAX_RESULTS = fact("LIST_ACCOUNTS_MAX_RESULTS", 20, Confidence.HIGH, URL_LIST_ACCOUNTS)
# "ACTIVE" is a common word (ASFF's RecordState is one too): not distinctive.
ACCOUNT_ACTIVE_STATE = fact(
    "ACCOUNT_ACTIVE_STATE", "ACTIVE", Confidence.HIGH, URL_LIST_ACCOUNTS, distinctive=False
)
ACCOUNT_ID_PATTERN = fact("ACCOUNT_ID_PATTERN", r"\d{12}", Confidence.HIGH, URL_LIST_ACCOUNTS)
