"""The reference configurations validate and plan with the real terraform and AWS provider.

``reference/terraform`` and ``reference/terraform-bedrock`` must plan offline;
the article as published must fail at plan time on its cluster identifier,
which is the bug the validator reports before terraform does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import tfsupport

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {
    "reference": REPO / "reference" / "terraform",
    "bedrock": REPO / "reference" / "terraform-bedrock",
    "article": REPO / "tests" / "fixtures" / "article_as_published",
}
TF_FILES = ("main.tf", "variables.tf", "modules/network/network.tf", "modules/aurora/aurora.tf")
IDENTIFIER_ERROR = re.compile(
    r'only lowercase alphanumeric characters and hyphens allowed in "?cluster_identifier"?'
)
VALID_RDS_IDENTIFIER = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")

needs_terraform = pytest.mark.skipif(
    not tfsupport.terraform_available(), reason=tfsupport.skip_reason() or "-"
)


@pytest.fixture(scope="session")
def workdirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One initialised working copy per configuration, shared by the whole session.

    The article pins ``~> 4.0`` while the mirror holds only provider 5.x, so
    its copy gets an override that relaxes the constraint; its .tf files stay
    as published.
    """
    if not tfsupport.terraform_available():
        pytest.skip(tfsupport.skip_reason())
    root = tmp_path_factory.mktemp("terraform")
    dirs = {}
    for name, src in CONFIGS.items():
        work = tfsupport.copy_module(src, root / name)
        if name == "article":
            tfsupport.relax_provider_constraint(work, ">= 4.0")
        tfsupport.init(work)
        dirs[name] = work
    return dirs


@pytest.fixture(scope="session")
def reference_plan(workdirs: dict[str, Path]) -> dict[str, Any]:
    return tfsupport.plan_json(workdirs["reference"])


@pytest.fixture(scope="session")
def bedrock_plan(workdirs: dict[str, Path]) -> dict[str, Any]:
    return tfsupport.plan_json(workdirs["bedrock"])


def one(plan: dict[str, Any], type_name: str) -> dict[str, Any]:
    found = tfsupport.resources_of_type(plan, type_name)
    assert len(found) == 1, f"expected one {type_name}, found {[r['address'] for r in found]}"
    return found[0]["values"]


def _strip_comment(line: str) -> str:
    # None of these files has a '#' inside a string literal.
    return line.split("#", 1)[0].rstrip()


# --------------------------------------------------------------------------- #
# Static checks of the files themselves (no terraform needed)


def test_fixture_is_the_article_code_verbatim() -> None:
    """The fixture keeps the article's two bugs that the reference fixes."""
    main = (CONFIGS["article"] / "main.tf").read_text(encoding="utf-8")
    variables = (CONFIGS["article"] / "variables.tf").read_text(encoding="utf-8")
    assert 'version = "~> 4.0"' in main
    assert 'default     = "project_name"' in variables
    assert not list(CONFIGS["article"].rglob("zz_*")), "overrides belong in temporary copies only"


@pytest.mark.parametrize("name", TF_FILES)
def test_reference_changes_only_comments_and_two_values(name: str) -> None:
    """Same lines as the article (so line numbers match) apart from comments and two fixes."""
    article = (CONFIGS["article"] / name).read_text(encoding="utf-8").splitlines()
    reference = (CONFIGS["reference"] / name).read_text(encoding="utf-8").splitlines()
    assert len(reference) == len(article)
    changed = {
        (name, number): (_strip_comment(old), _strip_comment(new))
        for number, (old, new) in enumerate(zip(article, reference, strict=True), start=1)
        if _strip_comment(old) != _strip_comment(new)
    }
    expected = {
        ("main.tf", 7): ('      version = "~> 4.0"', '      version = "~> 5.0"'),
        ("variables.tf", 4): ('  default     = "project_name"', '  default     = "project-name"'),
    }
    assert changed == {key: pair for key, pair in expected.items() if key[0] == name}


# --------------------------------------------------------------------------- #
# terraform init / validate / plan


@pytest.mark.terraform
@needs_terraform
@pytest.mark.parametrize("name", list(CONFIGS))
def test_terraform_validate(workdirs: dict[str, Path], name: str) -> None:
    result = tfsupport.validate(workdirs[name])
    assert result["valid"] is True
    assert result["error_count"] == 0


@pytest.mark.terraform
@needs_terraform
def test_article_constraint_excludes_the_mirrored_provider(tmp_path: Path) -> None:
    """Why the article's copy needs the relaxed constraint: ``~> 4.0`` cannot init."""
    mirror = tfsupport.plugin_dir()
    assert mirror is not None
    versions = [p.name for p in (mirror / tfsupport.MIRROR_NAME / "hashicorp" / "aws").iterdir()]
    if any(v.startswith("4.") for v in versions):
        pytest.skip(f"the mirror holds a 4.x provider ({versions})")
    work = tfsupport.copy_module(CONFIGS["article"], tmp_path / "article")
    with pytest.raises(tfsupport.TerraformError) as caught:
        tfsupport.init(work)
    assert "no available releases match the given constraints ~> 4.0" in " ".join(caught.value.output.split())


@pytest.mark.terraform
@needs_terraform
def test_article_plan_fails_on_cluster_identifier(workdirs: dict[str, Path]) -> None:
    with pytest.raises(tfsupport.TerraformError) as caught:
        tfsupport.plan_json(workdirs["article"])
    output = caught.value.output
    assert IDENTIFIER_ERROR.search(output), output[-2000:]
    assert "modules/aurora/aurora.tf line 22" in output
    assert "Error:" in str(caught.value)


@pytest.mark.terraform
@needs_terraform
def test_article_plans_once_the_prefix_is_valid(workdirs: dict[str, Path]) -> None:
    """The identifier is the article's only plan-time error."""
    plan = tfsupport.plan_json(workdirs["article"], extra_vars={"project_prefix": "project-name"})
    cluster = one(plan, "aws_rds_cluster")
    assert cluster["cluster_identifier"] == "project-name-dev-aurora-postgres-serverless-v2"
    assert VALID_RDS_IDENTIFIER.match(cluster["cluster_identifier"])


@pytest.mark.terraform
@needs_terraform
def test_reference_plan_keeps_the_dev_only_choices(reference_plan: dict[str, Any]) -> None:
    cluster = one(reference_plan, "aws_rds_cluster")
    assert cluster["cluster_identifier"] == "project-name-dev-aurora-postgres-serverless-v2"
    assert cluster["engine"] == "aurora-postgresql"
    assert cluster["engine_mode"] == "provisioned"
    assert cluster["engine_version"] == "16.4"
    assert cluster["serverlessv2_scaling_configuration"][0]["min_capacity"] == 0.5
    assert cluster["serverlessv2_scaling_configuration"][0]["max_capacity"] == 5
    assert cluster["iam_database_authentication_enabled"] is True
    assert cluster["master_password"], "the plaintext default must stay for the validator to flag"
    assert cluster["skip_final_snapshot"] is False
    assert cluster["final_snapshot_identifier"] is None

    instance = one(reference_plan, "aws_rds_cluster_instance")
    assert instance["instance_class"] == "db.serverless"
    assert instance["publicly_accessible"] is True

    group = one(reference_plan, "aws_security_group")
    open_ports = {rule["from_port"] for rule in group["ingress"] if "0.0.0.0/0" in rule["cidr_blocks"]}
    assert open_ports == {443, 5432}
    assert len(tfsupport.resources_of_type(reference_plan, "aws_internet_gateway")) == 1
    constraint = reference_plan["configuration"]["provider_config"]["aws"]["version_constraint"]
    assert constraint == "~> 5.0"


@pytest.mark.terraform
@needs_terraform
def test_bedrock_plan_cluster_is_hardened(bedrock_plan: dict[str, Any]) -> None:
    cluster = one(bedrock_plan, "aws_rds_cluster")
    assert VALID_RDS_IDENTIFIER.match(cluster["cluster_identifier"])
    assert VALID_RDS_IDENTIFIER.match(cluster["final_snapshot_identifier"])
    expected = {
        "engine": "aurora-postgresql",
        "engine_mode": "provisioned",
        "engine_version": "16.6",
        "manage_master_user_password": True,
        "enable_http_endpoint": True,
        "iam_database_authentication_enabled": True,
        "storage_encrypted": True,
        "deletion_protection": True,
        "skip_final_snapshot": False,
    }
    assert {key: cluster[key] for key in expected} == expected
    assert cluster.get("master_password") is None
    assert cluster["serverlessv2_scaling_configuration"] == [
        {"min_capacity": 0, "max_capacity": 4, "seconds_until_auto_pause": 600}
    ]
    instance = one(bedrock_plan, "aws_rds_cluster_instance")
    assert instance["instance_class"] == "db.serverless"
    assert instance["publicly_accessible"] is False
    constraint = bedrock_plan["configuration"]["provider_config"]["aws"]["version_constraint"]
    assert constraint == ">= 5.81.0, < 6.0.0"


@pytest.mark.terraform
@needs_terraform
def test_bedrock_plan_network_is_private(bedrock_plan: dict[str, Any]) -> None:
    subnets = tfsupport.resources_of_type(bedrock_plan, "aws_subnet")
    assert len({s["values"]["availability_zone"] for s in subnets}) == 2
    assert all(s["values"]["map_public_ip_on_launch"] is False for s in subnets)
    assert tfsupport.resources_of_type(bedrock_plan, "aws_internet_gateway") == []
    for table in tfsupport.resources_of_type(bedrock_plan, "aws_route_table"):
        assert table["values"]["route"] == []

    groups = {r["name"]: r for r in tfsupport.resources_of_type(bedrock_plan, "aws_security_group")}
    ingress = groups["db"]["values"]["ingress"]
    assert [(rule["from_port"], rule["to_port"], rule["cidr_blocks"]) for rule in ingress] == [
        (5432, 5432, [])
    ]
    # The source group's id is only known after apply.
    change = next(rc for rc in bedrock_plan["resource_changes"] if rc["address"] == groups["db"]["address"])
    assert change["change"]["after_unknown"]["ingress"][0]["security_groups"] is True


@pytest.mark.terraform
@needs_terraform
def test_bedrock_plan_knowledge_base_uses_the_cluster(bedrock_plan: dict[str, Any]) -> None:
    kb = one(bedrock_plan, "aws_bedrockagent_knowledge_base")
    vector = kb["knowledge_base_configuration"][0]
    assert vector["type"] == "VECTOR"
    model = vector["vector_knowledge_base_configuration"][0]
    assert model["embedding_model_arn"] == (
        "arn:aws:bedrock:ap-northeast-1::foundation-model/amazon.titan-embed-text-v2:0"
    )
    storage = kb["storage_configuration"][0]
    assert storage["type"] == "RDS"
    rds = storage["rds_configuration"][0]
    assert rds["table_name"] == "bedrock_integration.bedrock_kb"
    assert rds["database_name"] == "vectordb"
    assert rds["field_mapping"] == [
        {
            "primary_key_field": "id",
            "vector_field": "embedding",
            "text_field": "chunks",
            "metadata_field": "metadata",
        }
    ]
    # The cluster ARN and the secret ARN are references, resolved at apply.
    refs = _kb_config_refs(bedrock_plan)
    assert "aws_rds_cluster.aurora.arn" in refs["resource_arn"]
    assert "aws_rds_cluster.aurora.master_user_secret" in refs["credentials_secret_arn"]


def _kb_config_refs(plan: dict[str, Any]) -> dict[str, list[str]]:
    module = plan["configuration"]["root_module"]["module_calls"]["aurora"]["module"]
    kb = next(r for r in module["resources"] if r["type"] == "aws_bedrockagent_knowledge_base")
    rds = kb["expressions"]["storage_configuration"][0]["rds_configuration"][0]
    return {key: rds[key].get("references", []) for key in ("resource_arn", "credentials_secret_arn")}


@pytest.mark.terraform
@needs_terraform
def test_bedrock_role_policy_is_scoped(bedrock_plan: dict[str, Any]) -> None:
    module = bedrock_plan["configuration"]["root_module"]["module_calls"]["aurora"]["module"]
    policy = next(r for r in module["resources"] if r["type"] == "aws_iam_role_policy")
    refs = set(policy["expressions"]["policy"]["references"])
    assert {"aws_rds_cluster.aurora.arn", "local.embedding_model_arn"} <= refs
    source = (CONFIGS["bedrock"] / "modules" / "aurora" / "knowledge_base.tf").read_text(encoding="utf-8")
    for action in (
        "rds:DescribeDBClusters",
        "rds-data:ExecuteStatement",
        "rds-data:BatchExecuteStatement",
        "secretsmanager:GetSecretValue",
        "bedrock:InvokeModel",
    ):
        assert f'"{action}"' in source
    assert '"*"' not in source
