"""Plan JSON and HCL agree: the same verdict from every rule, on real plans.

Each case is a copy of a reference configuration, changed by editing its HCL
text, planned offline by the real terraform with the mirrored AWS provider.
The verdict of every rule (rule id, status, resource) from ``--plan`` must be
the HCL verdict. Where the plan legitimately knows less (a value known only
after apply), the plan's verdict must be ``unresolved``, never another pass or
fail, and the case is listed in ``KNOWN_AFTER_APPLY`` with the reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tfsupport

from validator.engine import Finding, evaluate
from validator.pytest_plugin import TerraformCopy
from validator.sources.terraform.hcl import load_root
from validator.sources.terraform.plan import load_plan

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.skipif(not tfsupport.terraform_available(), reason=tfsupport.skip_reason() or "-"),
]

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference" / "terraform"
BEDROCK = REPO / "reference" / "terraform-bedrock"
PARALLEL_PLANS = 2  # terraform is CPU-bound; more than the cores only slows every plan down

Edit = Callable[[TerraformCopy], None]


def _set(target: str, path: str, value: str) -> Edit:
    return lambda c: c.set(c.find(target), path, value)


def _remove(target: str, path: str) -> Edit:
    return lambda c: c.remove(c.find(target), path)


@dataclass(frozen=True)
class Case:
    source: Path
    edits: tuple[Edit, ...]
    # Verdicts the changes must produce on both sides, so the comparison cannot pass vacuously.
    expect: tuple[tuple[str, str, str], ...]  # (rule id, status, resource)
    plan_vars: dict[str, Any] | None = None  # given to terraform plan only (as a -var-file)


CLUSTER = "module.aurora.aws_rds_cluster.aurora_cluster"
INSTANCE = "module.aurora.aws_rds_cluster_instance.aurora_instance"
SUBNET_GROUP = "module.aurora.aws_db_subnet_group.aurora_subnet_group"
KB_CLUSTER = "module.aurora.aws_rds_cluster.aurora"

OPEN_5432 = """
resource "aws_vpc_security_group_ingress_rule" "open_postgres" {
  security_group_id = aws_security_group.db.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
}
"""

# Subnets made by for_each, reached through a for expression in a module output.
EXTRA_SUBNETS = """
resource "aws_subnet" "extra" {
  for_each          = toset(["10.0.50.0/24", "10.0.51.0/24"])
  vpc_id            = aws_vpc.main.id
  cidr_block        = each.key
  availability_zone = var.availability_zones[0]
}
"""

# The VPC's default group, managed by the configuration, opened to the internet on 5432.
OPEN_DEFAULT_GROUP = """
resource "aws_vpc_security_group_ingress_rule" "default_open" {
  security_group_id = aws_default_security_group.default.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
}
"""

# A plan costs about 8 s of CPU (two provider start-ups), so changes that concern
# different rules share one copy: every rule's verdict is compared anyway, and
# each change's own verdict is asserted in ``expect``.
CASES: dict[str, Case] = {
    "reference": Case(REFERENCE, (), (("AV301", "fail", "module.network.aws_security_group.aurora_sg"),)),
    "bedrock": Case(BEDROCK, (), (("AV203", "pass", "module.aurora.aws_bedrockagent_knowledge_base.main"),)),
    "reference_changed": Case(
        REFERENCE,
        (
            _set("aurora cluster", "engine_mode", '"serverless"'),
            _set("aurora cluster", "iam_database_authentication_enabled", "false"),
            _set("aurora instance", "instance_class", '"db.r6g.large"'),
            _set('subnet "public_subnet_c"', "availability_zone", '"ap-northeast-1a"'),
            _remove("aurora cluster", "serverlessv2_scaling_configuration"),
            # 66 characters: the provider accepts it at plan time, AWS would not at apply time.
            lambda c: c.set(c.variable("env"), "default", '"development-environment"'),
        ),
        (
            ("AV102", "fail", CLUSTER),
            ("AV106", "fail", CLUSTER),
            ("AV103", "fail", INSTANCE),
            ("AV105", "fail", SUBNET_GROUP),
            ("AV104", "fail", CLUSTER),
            ("AV108", "fail", CLUSTER),
        ),
    ),
    "bedrock_changed": Case(
        BEDROCK,
        (
            lambda c: c.add_file_text("modules/network/open.tf", OPEN_5432),
            _remove("aurora cluster", "manage_master_user_password"),
            _set("aurora cluster", "master_password", '"correct-horse-battery"'),
            # Two writers by count, and the subnet group's subnets from for_each in one zone.
            _set("writer instance", "count", "2"),
            _set("writer instance", "identifier", '"${var.project_prefix}-${var.env}-kb-aurora-${count.index}"'),
            lambda c: c.replace_text(
                "modules/aurora/aurora.tf",
                "aws_rds_cluster_instance.writer.id",
                "aws_rds_cluster_instance.writer[0].id",
            ),
            lambda c: c.add_file_text("modules/network/extra.tf", EXTRA_SUBNETS),
            lambda c: c.replace_text(
                "modules/network/network.tf",
                "value = [aws_subnet.private_a.id, aws_subnet.private_b.id]",
                "value = concat([aws_subnet.private_a.id], [for s in aws_subnet.extra : s.id])",
            ),
        ),
        (
            ("AV301", "fail", "module.network.aws_security_group.db"),
            ("AV302", "fail", KB_CLUSTER),
            ("AV103", "pass", "module.aurora.aws_rds_cluster_instance.writer[1]"),
            ("AV108", "pass", "module.aurora.aws_rds_cluster_instance.writer[1]"),
            ("AV105", "fail", "module.aurora.aws_db_subnet_group.aurora"),
        ),
    ),
    "bedrock_semantics": Case(
        BEDROCK,
        (
            # No vpc_security_group_ids: the VPC's default group applies, which the configuration manages.
            _remove("aurora cluster", "vpc_security_group_ids"),
            lambda c: c.add_file_text("modules/network/default_open.tf", OPEN_DEFAULT_GROUP),
            # An instance named by a prefix (the provider appends 26 digits).
            _remove("writer instance", "identifier"),
            _set("writer instance", "identifier_prefix", '"kb-writer-"'),
        ),
        (
            ("AV301", "fail", "module.network.aws_default_security_group.default"),
            ("AV108", "pass", "module.aurora.aws_rds_cluster_instance.writer"),
        ),
    ),
    "reference_v1_default_encryption": Case(
        REFERENCE,
        (
            _set("aurora cluster", "engine_mode", '"serverless"'),
            _remove("aurora cluster", "storage_encrypted"),
        ),
        (("AV304", "pass", CLUSTER),),
    ),
}

# The article's identifier bug: terraform plan itself fails, so there is no plan to read.
PLAN_FAILS: dict[str, Case] = {
    "identifier_underscore": Case(
        REFERENCE, (lambda c: c.set(c.variable("project_prefix"), "default", '"project_name"'),), ()
    ),
}

# The plan gets the password from outside the configuration (as CI would, from a secret).
OUTSIDE_PASSWORD = "from-a-ci-secret-7731"
VAR_CASES: dict[str, Case] = {
    "password_from_outside": Case(REFERENCE, (), (), {"aurora_root_password": OUTSIDE_PASSWORD}),
}

# (case, rule id, resource): why the plan cannot know what the HCL source knows.
# In each, the plan's verdict must be "unresolved".
KNOWN_AFTER_APPLY = {
    (case, "AV108", INSTANCE): (
        "identifier is built from aws_rds_cluster.aurora_cluster.id, which the plan knows only after apply; "
        "the HCL source equates a cluster's id with its cluster_identifier"
    )
    for case in ("reference", "reference_changed", "reference_v1_default_encryption")
}


def verdicts(findings: list[Finding]) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for f in findings:
        out.setdefault((f.rule_id, f.result.resource), set()).add(f.status.value)
    return out


@dataclass
class Planned:
    workdir: Path
    plan: Path | None
    error: tfsupport.TerraformError | None
    seconds: float


def _prepare(name: str, case: Case, base: Path) -> Path:
    work = base / name
    config = TerraformCopy(case.source, work)
    for edit in case.edits:
        edit(config)
    return work


def _plan(work: Path, plan_vars: dict[str, Any] | None) -> Planned:
    start = time.monotonic()
    try:
        doc = tfsupport.plan_json(work, extra_vars=plan_vars)
    except tfsupport.TerraformError as exc:
        return Planned(work, None, exc, time.monotonic() - start)
    path = work.parent / f"{work.name}.plan.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return Planned(work, path, None, time.monotonic() - start)


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Planned]:
    """Every case planned once, two at a time (terraform is CPU-bound: more would not help on two cores)."""
    base = tmp_path_factory.mktemp("plans")
    cases = {**CASES, **PLAN_FAILS, **VAR_CASES}
    works = {name: _prepare(name, case, base) for name, case in cases.items()}
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=PARALLEL_PLANS) as pool:
        jobs = [pool.submit(_plan, works[name], cases[name].plan_vars) for name in works]
        results = {name: job.result() for name, job in zip(works, jobs, strict=True)}
    elapsed = time.monotonic() - start
    print(f"\n{len(results)} plans in {elapsed:.1f} s wall ({sum(r.seconds for r in results.values()):.1f} s total)")
    return results


# The same, for the plan alone: without the configuration, a policy jsonencode()d from ARNs known
# only after apply is one unknown string in the plan, so the knowledge base's role cannot be read.
KB = "module.aurora.aws_bedrockagent_knowledge_base.main"
KNOWN_AFTER_APPLY_WITHOUT_CONFIGURATION = {
    (case, "AV204", KB): (
        "the role's trust and permissions policies are jsonencode() of ARNs known only after apply: the plan "
        "holds one unknown string for each, the configuration holds their statements"
    )
    for case in ("bedrock", "bedrock_changed", "bedrock_semantics")
}


def _loaded(p: Planned, with_config: bool) -> Any:
    assert p.plan is not None, f"terraform plan failed: {p.error}"
    return load_plan(p.plan, p.workdir if with_config else None)


@pytest.mark.parametrize("with_config", [False, True], ids=["plan-only", "plan-and-configuration"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_verdicts_equal_hcl_verdicts(case: str, with_config: bool, planned: dict[str, Planned]) -> None:
    p = planned[case]
    hcl = verdicts(evaluate(load_root(p.workdir).deployment))
    loaded = _loaded(p, with_config)
    assert not loaded.errors
    plan = verdicts(evaluate(loaded.deployment))
    assert set(plan) == set(hcl), (
        f"rules/resources differ: plan only {set(plan) - set(hcl)}, hcl only {set(hcl) - set(plan)}"
    )
    for key, statuses in sorted(hcl.items()):
        if (case, *key) in KNOWN_AFTER_APPLY or (
            not with_config and (case, *key) in KNOWN_AFTER_APPLY_WITHOUT_CONFIGURATION
        ):
            assert plan[key] == {"unresolved"}, f"{key}: expected unresolved in the plan, got {plan[key]}"
            assert statuses != {"unresolved"}, f"{key}: listed as known after apply but HCL is unresolved too"
        else:
            assert plan[key] == statuses, f"{case} {key}: plan says {plan[key]}, HCL says {statuses}"
    for rule, status, resource in CASES[case].expect:
        assert status in hcl.get((rule, resource), set()), f"the change did not make {rule} {status} on {resource}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_locations_and_messages_match_with_the_configuration(case: str, planned: dict[str, Planned]) -> None:
    p = planned[case]
    hcl = {
        (f.rule_id, f.result.resource, str(f.result.location), f.result.message)
        for f in evaluate(load_root(p.workdir).deployment)
    }
    plan = {
        (f.rule_id, f.result.resource, str(f.result.location), f.result.message)
        for f in evaluate(_loaded(p, True).deployment)
    }
    differing = {row for row in plan ^ hcl if (case, row[0], row[1]) not in KNOWN_AFTER_APPLY}
    assert not differing, "\n".join(f"{'plan' if r in plan else 'hcl '} {r}" for r in sorted(differing))


@pytest.mark.parametrize("case", sorted(CASES))
def test_without_the_configuration_locations_name_the_resource(case: str, planned: dict[str, Planned]) -> None:
    loaded = _loaded(planned[case], False)
    findings = evaluate(loaded.deployment)
    assert findings
    for f in findings:
        loc = f.result.location
        assert loc.file is None, f"{f.rule_id}: {loc}"
        assert loc.via, f"{f.rule_id} on {f.result.resource} has no address"


def test_the_identifier_bug_stops_terraform_and_the_validator_says_so(planned: dict[str, Planned]) -> None:
    p = planned["identifier_underscore"]
    assert p.plan is None and p.error is not None, "terraform plan accepted an identifier with an underscore"
    assert "cluster_identifier" in p.error.output
    findings = [f for f in evaluate(load_root(p.workdir).deployment) if f.rule_id == "AV108"]
    failed = [f for f in findings if f.status.value == "fail" and f.result.resource == CLUSTER]
    assert failed and "terraform plan would fail" in failed[0].result.message


def test_known_after_apply_cases_are_real(planned: dict[str, Planned]) -> None:
    """Every listed difference occurs: a stale entry would hide a future regression."""
    for case, rule, resource in [*KNOWN_AFTER_APPLY, *KNOWN_AFTER_APPLY_WITHOUT_CONFIGURATION]:
        plan = verdicts(evaluate(_loaded(planned[case], False).deployment))
        assert plan.get((rule, resource)) == {"unresolved"}, (case, rule, resource)


def test_literal_password_is_never_printed(planned: dict[str, Planned], capsys: pytest.CaptureFixture[str]) -> None:
    from validator.cli import main

    p = planned["bedrock_changed"]
    assert p.plan is not None
    for extra in ([], [str(p.workdir)]):
        for fmt in ("text", "json"):
            main(["--plan", str(p.plan), *extra, "--format", fmt, "--show-passed"])
            out = capsys.readouterr()
            assert "AV302" in out.out
            assert "correct-horse-battery" not in out.out + out.err


def test_a_password_given_to_the_plan_from_outside(planned: dict[str, Planned]) -> None:
    """HCL alone sees the literal default; the plan was given another value, so it cannot be called literal."""
    p = planned["password_from_outside"]
    hcl = [f for f in evaluate(load_root(p.workdir).deployment) if f.rule_id == "AV302"]
    assert [f.status.value for f in hcl] == ["fail"]
    alone = [f for f in evaluate(_loaded(p, False).deployment) if f.rule_id == "AV302"]
    assert [f.status.value for f in alone] == ["unresolved"]
    assert "var.aurora_root_password" in alone[0].result.message
    with_config = [f for f in evaluate(_loaded(p, True).deployment) if f.rule_id == "AV302"]
    assert [f.status.value for f in with_config] == ["pass"]
    for f in alone + with_config:
        assert OUTSIDE_PASSWORD not in f.result.message
