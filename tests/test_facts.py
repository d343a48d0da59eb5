"""The facts table (validator.facts) and Terraform version constraints (validator.sources.terraform.version)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from validator import facts
from validator.facts import EngineSupport, engine_support
from validator.sources.terraform import version as tfversion

FACTS_SOURCE = Path(facts.__file__).read_text(encoding="utf-8").splitlines()

# --------------------------------------------------------------------------- #
# Engine support


@pytest.mark.parametrize(
    ("version", "sv2", "max_acu", "floor", "pause", "pgvector", "data_api", "kb"),
    [
        ("16.4", True, 256, 0, True, "0.7.0", True, True),
        ("16.1", True, 256, 0.5, False, "0.5.1", True, True),
        ("15.2", True, 128, 0.5, False, "", False, False),
        ("15.3", True, 128, 0.5, False, "0.4", True, False),
        ("15.4", True, 128, 0.5, False, "0.5.0", True, True),
        ("15.5", True, 256, 0.5, False, "0.5.1", True, True),
        ("14.12", True, 256, 0, True, "0.7.0", True, True),
        ("13.6", True, 128, 0.5, False, "", False, False),
        ("13.5", False, None, None, False, "", False, False),
        ("17.1", False, None, None, False, "", False, False),  # below the 17.4 minimum
        ("17.4", True, 256, 0, True, "0.8.0", True, True),
        ("12.16", False, None, None, False, "0.5.0", False, True),
        ("11.9", False, None, None, False, "", False, False),
    ],
)
def test_engine_support_table(version, sv2, max_acu, floor, pause, pgvector, data_api, kb) -> None:
    s = engine_support(version)
    got = (s.serverless_v2, s.max_acu, s.min_acu_floor, s.auto_pause, s.pgvector, s.data_api, s.bedrock_kb)
    assert got == (sv2, max_acu, floor, pause, pgvector, data_api, kb)
    assert s.source.startswith("https://")
    assert s.confidence in ("H", "M", "L")


def test_unknown_major_is_unknown_not_false() -> None:
    s = engine_support("18.0")
    assert (s.serverless_v2, s.max_acu, s.auto_pause, s.pgvector, s.data_api, s.bedrock_kb) == (None,) * 6
    assert "18" in s.note


def test_major_only_version_is_unknown() -> None:
    s = engine_support("16")
    assert s.serverless_v2 is None and s.pgvector is None
    assert "only the major" in s.note


def test_garbage_version_is_unknown() -> None:
    s = engine_support("latest")
    assert s.serverless_v2 is None and "not a version" in s.note


def test_confidence_is_the_lowest_of_the_rows_used() -> None:
    assert engine_support("16.4").confidence == "H"
    assert engine_support("16.1").confidence == "L"  # pgvector 0.5.1 on 16.1 is L
    assert engine_support("17.4").confidence == "L"  # pgvector on 17 is inferred


def test_pgvector_hnsw() -> None:
    assert engine_support("15.4").pgvector_has_hnsw is True
    assert engine_support("15.3").pgvector_has_hnsw is False
    assert engine_support("15.2").pgvector_has_hnsw is False
    assert engine_support("18.0").pgvector_has_hnsw is None


def test_reported_support_wins_and_gaps_come_from_the_table() -> None:
    reported = EngineSupport("16.4", True, 128.0, None, None, "0.8.0", None, None, "H", "rds:DescribeDBEngineVersions")
    merged = reported.over(engine_support("16.4"))
    assert merged.max_acu == 128.0  # AWS's own answer wins
    assert merged.pgvector == "0.8.0"
    assert merged.auto_pause is True and merged.min_acu_floor == 0  # filled from the table
    assert merged.source.startswith("rds:DescribeDBEngineVersions; ")
    full = EngineSupport("16.4", True, 256.0, 0.0, True, "0.8.0", True, True, "H", "rds")
    assert full.over(engine_support("16.4")) is full


def test_minimum_for() -> None:
    assert facts.minimum_for("auto_pause", "16.1") == "16.3"
    assert facts.minimum_for("serverless_v2", "17.1") == "17.4"
    assert facts.minimum_for("pgvector_hnsw", "15.2") == "15.4"
    assert facts.minimum_for("data_api", "18.1") is None
    assert facts.lowest_minimum("serverless_v2") == "13.6"


def test_every_minimum_is_at_or_after_serverless_v2_of_its_major() -> None:
    for table in (facts.ACU_256_MIN, facts.AUTO_PAUSE_MIN):
        for major, row in table.items():
            assert facts.version_at_least(row.version, facts.SERVERLESS_V2_MIN[major].version), row


# --------------------------------------------------------------------------- #
# Sources and confidence comments

_ROW = re.compile(r"^\s*(\(|[A-Za-z_]+\()")  # a table row: a tuple or a constructor call
_ROW_CONFIDENCE = re.compile(r"Confidence\.(MEDIUM|LOW)\s*[,)]")


def _comment_above(i: int) -> str:
    """The comment block above line ``i``, skipping rows of the same table."""
    j = i - 1
    while j >= 0 and not FACTS_SOURCE[j].strip().startswith("#"):
        assert _ROW.match(FACTS_SOURCE[j]), f"facts.py:{i + 1} has confidence M/L without a comment above it"
        j -= 1
    block = []
    while j >= 0 and FACTS_SOURCE[j].strip().startswith("#"):
        block.append(FACTS_SOURCE[j])
        j -= 1
    return " ".join(block)


def test_rows_of_confidence_m_or_l_have_a_comment() -> None:
    rows = [i for i, line in enumerate(FACTS_SOURCE) if _ROW_CONFIDENCE.search(line) and _ROW.match(line)]
    assert len(rows) >= 10  # the table has many such rows; a broken pattern would find none
    for i in rows:
        comment = FACTS_SOURCE[i] if "#" in FACTS_SOURCE[i] else _comment_above(i)
        assert re.search(r"\b(M|L)\b", comment), f"facts.py:{i + 1}: the comment does not give the confidence"


def test_every_row_has_a_source_url_and_a_confidence() -> None:
    rows = [
        *facts.SERVERLESS_V2_MIN.values(), *facts.ACU_256_MIN.values(), *facts.AUTO_PAUSE_MIN.values(),
        *facts.DATA_API_MIN.values(), *facts.BEDROCK_KB_MIN.values(), *facts.PGVECTOR_ROWS,
        *facts.PROVIDER_ARGUMENTS.values(), *facts.ACU_PRICES.values(),
    ]  # fmt: skip
    for row in rows:
        assert row.source.startswith("https://"), row
        assert row.confidence in ("H", "M", "L"), row


# --------------------------------------------------------------------------- #
# Provider arguments, identifiers, prices


def test_provider_requirements_match_names_and_pseudo_arguments() -> None:
    rows = facts.provider_requirements(
        {"engine", "serverlessv2_scaling_configuration.seconds_until_auto_pause", "min_capacity=0",
         "manage_master_user_password"}
    )  # fmt: skip
    assert [(r.name, r.version) for r in rows] == [
        ("seconds_until_auto_pause", "5.81.0"),
        ("min_capacity=0", "5.80.0"),
        ("manage_master_user_password", "4.61.0"),
    ]
    assert facts.provider_requirements({"engine", "tags"}) == []
    assert facts.PROVIDER_ARGUMENTS[facts.PSEUDO_MAX_CAPACITY_ABOVE_128].version == "5.72.0"


@pytest.mark.parametrize(
    ("value", "problems"),
    [
        ("kb-store", []),
        ("project_name-dev", ["only lowercase"]),
        ("Kb", ["only lowercase", "first character"]),
        ("1abc", ["first character"]),
        ("a--b-", ["two consecutive", "end with a hyphen"]),
        ("a" * 64, ["longer than 63"]),
    ],
)
def test_identifier_problems(value: str, problems: list[str]) -> None:
    found = facts.identifier_problems(value)
    assert len(found) == len(problems)
    for (text, _), expected in zip(found, problems, strict=True):
        assert expected in text
    assert all(at_plan for text, at_plan in found if "longer" not in text)


def test_subnet_group_name_problems() -> None:
    assert facts.subnet_group_name_problems("my group.x_y-z") == []
    assert facts.subnet_group_name_problems("My Group")[0][0].startswith("only lowercase")
    assert facts.subnet_group_name_problems("default")[0][0] == '"default" is reserved'
    assert "255" in facts.subnet_group_name_problems("a" * 256)[0][0]


def test_monthly_compute_floor() -> None:
    assert facts.monthly_compute_floor(0.5, "us-east-1") == 43.80
    assert facts.monthly_compute_floor(0.5, "ap-northeast-1") == 73.00
    assert facts.monthly_compute_floor(2, "us-east-1", "io-optimized") == 233.60
    assert facts.monthly_compute_floor(0.5, "eu-west-3") is None
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", facts.PRICES_QUOTED)


# --------------------------------------------------------------------------- #
# Version comparison


@given(st.lists(st.integers(0, 30), min_size=1, max_size=3), st.lists(st.integers(0, 30), min_size=1, max_size=3))
def test_compare_versions_is_a_total_order(a: list[int], b: list[int]) -> None:
    va, vb = ".".join(map(str, a)), ".".join(map(str, b))
    pad = lambda x: tuple(x) + (0,) * (3 - len(x))  # noqa: E731
    assert facts.compare_versions(va, vb) == (pad(a) > pad(b)) - (pad(a) < pad(b))
    assert facts.compare_versions(va, vb) == -facts.compare_versions(vb, va)


def test_compare_versions_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        facts.compare_versions("x", "1")
    assert facts.parse_version("15.4.limitless") == (15, 4)


# --------------------------------------------------------------------------- #
# Terraform version constraints


@pytest.mark.parametrize(
    ("constraint", "lowest"),
    [
        ("~> 4.0", "4.0.0"),
        (">= 5.0, < 6.0", "5.0.0"),
        ("5.100.0", "5.100.0"),
        ("= 5.81.0", "5.81.0"),
        ("~> 5.80", "5.80.0"),
        ("> 5.79.9, != 5.79.10", "5.79.11"),
        ("~> 5", "5.0.0"),
        ("< 6.0", "0.0.0"),
        (">= 6.0, < 5.0", None),
        ("= 5.0.0-beta1", "5.0.0-beta1"),
    ],
)
def test_lowest_allowed(constraint: str, lowest: str | None) -> None:
    found = tfversion.lowest_allowed(constraint)
    assert (str(found) if found else None) == lowest


def test_pessimistic_operator() -> None:
    assert tfversion.allows("~> 1.2.3", "1.2.9")
    assert not tfversion.allows("~> 1.2.3", "1.3.0")
    assert tfversion.allows("~> 1.2", "1.9.0")
    assert not tfversion.allows("~> 1.2", "2.0.0")
    assert tfversion.allows("~> 1", "7.0.0")
    assert not tfversion.allows(">= 1.0", "1.1.0-beta1")  # pre-releases only by exact match


def test_admits_below() -> None:
    assert tfversion.admits_below("~> 4.0", "5.81.0")
    assert not tfversion.admits_below(">= 5.81.0", "5.81.0")
    assert not tfversion.admits_below(">= 6.0, < 5.0", "5.81.0")


@pytest.mark.parametrize("bad", ["", "latest", ">= banana", "~>", "1.2.3.4"])
def test_bad_constraints_raise_one_line_errors(bad: str) -> None:
    with pytest.raises(tfversion.ConstraintError) as info:
        tfversion.parse_constraint(bad)
    assert "\n" not in str(info.value)


_GRID = [f"{a}.{b}.{c}" for a, b, c in itertools.product(range(4), range(4), range(9))]
_clause = st.tuples(
    st.sampled_from(["=", "!=", ">", ">=", "<", "<=", "~>"]),
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(1, 3),
)


@given(st.lists(_clause, min_size=1, max_size=3))
def test_lowest_allowed_is_the_smallest_admitted_version(
    clauses: list[tuple[str, int, int, int, int]],
) -> None:
    parts = []
    for op, a, b, c, written in clauses:
        parts.append(f"{op} {'.'.join(map(str, (a, b, c)[:written]))}")
    constraint = ", ".join(parts)
    admitted = [v for v in _GRID if tfversion.allows(constraint, v)]
    lowest = tfversion.lowest_allowed(constraint)
    if admitted:
        assert lowest is not None and str(lowest) == admitted[0], constraint
    else:
        assert lowest is None or str(lowest) not in _GRID, constraint


def test_example_engine_version_supports_everything_the_rules_ask_for() -> None:
    s = engine_support(facts.EXAMPLE_ENGINE_VERSION)
    assert (s.serverless_v2, s.auto_pause, s.data_api, s.bedrock_kb, s.pgvector_has_hnsw) == (True,) * 5
    assert s.max_acu == facts.ACU_MAX_NEW


def test_prose_is_generated_from_the_tables() -> None:
    assert facts.versions_text(facts.SERVERLESS_V2_MIN) == "13.6, 14.3, 15.2, 16.1, 17.4"
    assert facts.pgvector_hnsw_text().startswith("12.16, 13.12, 14.9, 15.4, 16.1")
    assert facts.provider_floor() == "5.81.0"
    assert facts.provider_arguments_text().endswith("seconds_until_auto_pause 5.81.0")


@given(st.text(alphabet="abz09-_A", min_size=1, max_size=45), st.integers(min_value=0, max_value=10**26 - 1))
def test_a_valid_identifier_prefix_makes_a_valid_identifier(prefix: str, n: int) -> None:
    """prefix + the provider's 26-digit suffix is a valid identifier exactly when the prefix passes."""
    identifier = prefix + f"{n:026d}"
    assert len(identifier) == len(prefix) + facts.IDENTIFIER_PREFIX_SUFFIX_LENGTH
    prefix_ok = not facts.identifier_prefix_problems(prefix)
    assert prefix_ok == (not facts.identifier_problems(identifier))


def test_prefix_problems_at_plan_time_are_the_providers() -> None:
    """A trailing hyphen is fine (the suffix follows); the length is AWS's check, at apply time."""
    assert facts.identifier_prefix_problems("kb-") == []
    assert facts.identifier_prefix_problems("a" * 37) == []
    assert facts.identifier_prefix_problems("a" * 38) == [(facts.identifier_prefix_problems("a" * 38)[0][0], False)]
    assert all(at_plan for _, at_plan in facts.identifier_prefix_problems("Kb--x"))


def test_data_echoes_only_exact_versions() -> None:
    assert facts.data_echo("aws_rds_engine_version", "engine", "aurora-postgresql")
    assert facts.data_echo("aws_rds_engine_version", "version", "16.6")
    assert not facts.data_echo("aws_rds_engine_version", "version", "16")
    assert not facts.data_echo("aws_rds_engine_version", "version_actual", "16.6")
    assert not facts.data_echo("aws_rds_engine_version", "version", "16.6.limitless")


def test_storage_encrypted_default_by_engine_mode() -> None:
    assert facts.STORAGE_ENCRYPTED_DEFAULT == {"provisioned": False, "serverless": True}
