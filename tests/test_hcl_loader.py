"""The HCL source: evaluation, modules, variables and provenance."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from validator.errors import InputError
from validator.model import Unknown
from validator.sources.terraform.hcl import load_root

REPO = Path(__file__).resolve().parent.parent


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def local_value(tmp_path: Path, expr: str, extra: str = "", **kw) -> object:
    """Evaluate ``expr`` as a cluster's engine_version, the simplest way to read a value back."""
    write(tmp_path, {"main.tf": f"""
        {extra}
        resource "aws_rds_cluster" "c" {{
          engine_version = {expr}
        }}
    """})
    loaded = load_root(tmp_path, **kw)
    return loaded.deployment.clusters[0].engine_version.raw


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('"16.4"', "16.4"),
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ('format("%s-%02d", "a", 7)', "a-07"),
        ('lower("ABC")', "abc"),
        ('upper("abc")', "ABC"),
        ('length(concat(["a"], ["b", "c"]))', 3),
        ('element(["a", "b"], 3)', "b"),
        ('lookup({a = 1}, "b", 2)', 2),
        ('merge({a = 1}, {b = 2})["b"]', 2),
        ('coalesce("", "x")', "x"),
        ('try(local.missing_map["k"], "fallback")', "fallback"),
        ('length(toset(["a", "a", "b"]))', 2),
        ('tolist(["x"])[0]', "x"),
        ('true && false ? "yes" : "no"', "no"),
        ('1 > 2 || 3 >= 3 ? "yes" : "no"', "yes"),
        ('[for s in ["a", "b"] : upper(s)][1]', "B"),
        ('{for k, v in {a = 1, b = 2} : k => v * 10}["b"]', 20),
        ('[for s in ["a", "", "c"] : s if s != ""][1]', "c"),
        ('cidrsubnet("10.0.0.0/16", 8, 2)', "10.0.2.0/24"),
        ('"${upper("a")}-${1 + 1}"', "A-2"),
        ('!false', True),
        ('-3 + 5', 2),
        ('"line\\nnext"', "line\nnext"),
        ('"$${literal}"', "${literal}"),
    ],
)
def test_expressions_evaluate(tmp_path: Path, expr: str, expected: object) -> None:
    assert local_value(tmp_path, expr, 'locals { missing_map = {} }') == expected


def test_heredoc_with_interpolation(tmp_path: Path) -> None:
    value = local_value(tmp_path, "<<-EOT\n    v${local.x}\n  EOT", 'locals { x = "16" }')
    assert value == "v16\n"


def test_variable_without_default_is_unknown_with_reason(tmp_path: Path) -> None:
    value = local_value(tmp_path, "var.engine_version", 'variable "engine_version" {}')
    assert isinstance(value, Unknown)
    assert value.reason == "var.engine_version has no default and no value was given"


def test_unknown_function_stays_unknown(tmp_path: Path) -> None:
    value = local_value(tmp_path, 'timestamp()')
    assert isinstance(value, Unknown) and "timestamp" in value.reason


def test_type_error_becomes_unknown_not_a_crash(tmp_path: Path) -> None:
    value = local_value(tmp_path, '"a" * 2')
    assert isinstance(value, Unknown) and "not a number" in value.reason


def test_conditional_on_unknown_with_equal_branches_is_known(tmp_path: Path) -> None:
    value = local_value(tmp_path, 'var.x ? "16.4" : "16.4"', 'variable "x" {}')
    assert value == "16.4"


def test_variable_precedence(tmp_path: Path) -> None:
    write(tmp_path, {
        "main.tf": """
            variable "v" { default = "default" }
            resource "aws_rds_cluster" "c" { engine_version = var.v }
        """,
        "terraform.tfvars": 'v = "tfvars"\n',
        "b.auto.tfvars": 'v = "auto-b"\n',
        "a.auto.tfvars": 'v = "auto-a"\n',
        "extra.tfvars": 'v = "var-file"\n',
    })

    def version(**kw) -> object:
        return load_root(tmp_path, **kw).deployment.clusters[0].engine_version

    env = {"TF_VAR_v": "env"}
    assert version(env=env).raw == "auto-b"  # *.auto.tfvars in lexical order win over terraform.tfvars
    assert version(env=env).origin.file == "b.auto.tfvars"
    assert version(env=env, var_files=[tmp_path / "extra.tfvars"]).raw == "var-file"
    assert version(env=env, var_files=[tmp_path / "extra.tfvars"], cli_vars={"v": "cli"}).raw == "cli"
    for name in ("terraform.tfvars", "a.auto.tfvars", "b.auto.tfvars"):
        (tmp_path / name).unlink()
    assert version(env=env).raw == "env"
    assert version(env={}).raw == "default"


def test_tf_var_of_declared_number_type_is_converted(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": """
        variable "max" { type = number }
        resource "aws_rds_cluster" "c" {
          serverlessv2_scaling_configuration {
            min_capacity = 0.5
            max_capacity = var.max
          }
        }
    """})
    scaling = load_root(tmp_path, env={"TF_VAR_max": "8"}).deployment.clusters[0].scaling
    assert scaling is not None and scaling.max_capacity.raw == 8


def test_module_inputs_outputs_and_provenance(tmp_path: Path) -> None:
    write(tmp_path, {
        "variables.tf": """
            variable "password" {
              default = "hunter2-hunter2"
            }
        """,
        "main.tf": """
            module "net" {
              source = "./modules/net"
            }
            module "db" {
              source     = "./modules/db"
              subnet_ids = module.net.subnet_ids
              password   = var.password
            }
        """,
        "modules/net/net.tf": """
            resource "aws_subnet" "a" {
              availability_zone = "eu-west-1a"
            }
            resource "aws_subnet" "b" {
              availability_zone = "eu-west-1b"
            }
            output "subnet_ids" {
              value = [aws_subnet.a.id, aws_subnet.b.id]
            }
        """,
        "modules/db/db.tf": """
            variable "subnet_ids" {}
            variable "password" {}
            resource "aws_db_subnet_group" "g" {
              name       = "db-subnets"
              subnet_ids = var.subnet_ids
            }
            resource "aws_rds_cluster" "c" {
              cluster_identifier   = "db"
              db_subnet_group_name = aws_db_subnet_group.g.name
              master_password      = var.password
            }
        """,
    })
    loaded = load_root(tmp_path)
    assert loaded.errors == []
    cluster = loaded.deployment.clusters[0]
    assert cluster.address == "module.db.aws_rds_cluster.c"
    assert cluster.origin.file == "modules/db/db.tf"
    group = cluster.subnet_group
    assert group is not None and group.address == "module.db.aws_db_subnet_group.g"
    zones = [s.availability_zone.raw for s in group.subnets.raw]
    assert zones == ["eu-west-1a", "eu-west-1b"]
    # The password's provenance is the variable default two levels up, and it is a literal.
    password = cluster.master_password
    assert (password.origin.file, password.origin.line, password.literal) == ("variables.tf", 3, True)
    assert "hunter2" not in repr(password)


def test_count_and_for_each_expand_resources(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": """
        variable "zones" { default = { a = "eu-west-1a", b = "eu-west-1b" } }
        resource "aws_subnet" "s" {
          for_each          = var.zones
          availability_zone = each.value
        }
        resource "aws_db_subnet_group" "g" {
          name       = "g"
          subnet_ids = [for s in aws_subnet.s : s.id]
        }
        resource "aws_rds_cluster" "c" {
          cluster_identifier   = "c"
          db_subnet_group_name = aws_db_subnet_group.g.id
        }
        resource "aws_rds_cluster_instance" "i" {
          count              = 2
          identifier         = "c-${count.index}"
          cluster_identifier = aws_rds_cluster.c.id
          instance_class     = "db.serverless"
        }
    """})
    cluster = load_root(tmp_path).deployment.clusters[0]
    assert [i.identifier.raw for i in cluster.instances] == ["c-0", "c-1"]
    assert [i.address for i in cluster.instances] == ["aws_rds_cluster_instance.i[0]", "aws_rds_cluster_instance.i[1]"]
    assert cluster.subnet_group is not None
    assert sorted(s.availability_zone.raw for s in cluster.subnet_group.subnets.raw) == ["eu-west-1a", "eu-west-1b"]


def test_left_out_arguments_take_provider_defaults(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": 'resource "aws_rds_cluster" "c" {\n  engine = "aurora-postgresql"\n}\n'})
    cluster = load_root(tmp_path).deployment.clusters[0]
    assert cluster.engine_mode.raw == "provisioned" and cluster.engine_mode.defaulted
    assert cluster.iam_auth.raw is False and cluster.iam_auth.defaulted
    assert cluster.engine_mode.origin.line == 1  # the block's line


def test_parse_error_names_file_and_line_and_other_files_still_load(tmp_path: Path) -> None:
    write(tmp_path, {
        "good.tf": 'resource "aws_rds_cluster" "c" {\n  engine = "aurora-postgresql"\n}\n',
        "bad.tf": 'resource "aws_subnet" "s" {\n  availability_zone = \n}\n',
    })
    loaded = load_root(tmp_path)
    assert [str(e) for e in loaded.errors] == ["bad.tf:3: parse error: unexpected '}'"]
    assert len(loaded.deployment.clusters) == 1


def test_binary_and_non_utf8_files_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_rds_cluster" "c" {}\n')
    (tmp_path / "bin.tf").write_bytes(b"\x00\x01\x02")
    (tmp_path / "latin.tf").write_bytes(b'# caf\xe9\n')
    errors = sorted(str(e) for e in load_root(tmp_path).errors)
    assert errors == ["bin.tf: error: binary file, not Terraform text", "latin.tf: error: not UTF-8 text (byte 5)"]


def test_missing_local_module_is_an_error_and_values_unresolved(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": """
        module "db" {
          source = "./nowhere"
        }
        resource "aws_rds_cluster" "c" {
          engine_version = module.db.version
        }
    """})
    loaded = load_root(tmp_path)
    assert [str(e) for e in loaded.errors] == [
        "main.tf:2: error: module.db source './nowhere' is not a directory"
    ]
    value = loaded.deployment.clusters[0].engine_version.raw
    assert isinstance(value, Unknown) and "does not exist" in value.reason


def test_remote_module_is_unresolved_not_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": """
        module "aurora" {
          source = "terraform-aws-modules/rds-aurora/aws"
        }
        resource "aws_rds_cluster" "c" {
          engine_version = module.aurora.version
        }
    """})
    loaded = load_root(tmp_path)
    assert loaded.errors == []
    value = loaded.deployment.clusters[0].engine_version.raw
    assert isinstance(value, Unknown) and "has not installed" in value.reason
    [call] = loaded.deployment.module_calls
    assert (call.address, call.source) == ("module.aurora", "terraform-aws-modules/rds-aurora/aws")
    assert "terraform init has not installed" in call.unread


def test_directory_without_tf_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no \.tf files"):
        load_root(tmp_path)


def test_self_referencing_locals_do_not_loop(tmp_path: Path) -> None:
    value = local_value(tmp_path, "local.a", "locals {\n  a = local.b\n  b = local.a\n}")
    assert isinstance(value, Unknown) and "refers to itself" in value.reason


def test_reference_deployment_model(tmp_path: Path) -> None:
    deployment = load_root(REPO / "reference" / "terraform").deployment
    (cluster,) = deployment.clusters
    assert cluster.identifier.raw == "project-name-dev-aurora-postgres-serverless-v2"
    assert [i.instance_class.raw for i in cluster.instances] == ["db.serverless"]
    assert [g.address for g in cluster.security_groups] == ["module.network.aws_security_group.aurora_sg"]
    assert deployment.provider is not None and deployment.provider.region.raw == "ap-northeast-1"


def test_modules_that_feed_each_other_do_not_loop(tmp_path: Path) -> None:
    write(tmp_path, {
        "main.tf": """
            module "a" {
              source = "./m"
              x      = module.b.out
            }
            module "b" {
              source = "./m"
              x      = module.a.out
            }
            resource "aws_rds_cluster" "c" {
              engine_version = module.a.out
            }
        """,
        "m/m.tf": 'variable "x" {}\noutput "out" {\n  value = var.x\n}\n',
    })
    value = load_root(tmp_path).deployment.clusters[0].engine_version.raw
    assert isinstance(value, Unknown) and "depends on its own outputs" in value.reason


def test_json_variable_files_are_read_with_their_lines(tmp_path: Path) -> None:
    write(tmp_path, {
        "main.tf": """
            variable "v" { default = "default" }
            resource "aws_rds_cluster" "c" { engine_version = var.v }
        """,
        "terraform.tfvars.json": '{\n  "other": 1,\n  "v": "from-json"\n}\n',
    })
    version = load_root(tmp_path).deployment.clusters[0].engine_version
    assert (version.raw, version.origin.file, version.origin.line, version.literal) == (
        "from-json", "terraform.tfvars.json", 3, True
    )
    (tmp_path / "terraform.tfvars.json").write_text("{not json")
    loaded = load_root(tmp_path)
    assert [e.kind for e in loaded.errors] == ["parse error"]
    assert loaded.errors[0].where.startswith("terraform.tfvars.json:")


def test_remote_module_installed_by_terraform_init_is_followed(tmp_path: Path) -> None:
    write(tmp_path, {
        "main.tf": """
            module "db" {
              source  = "example/aurora/aws"
              version = "1.0.0"
              engine_version = "16.4"
            }
        """,
        ".terraform/modules/db/main.tf": """
            variable "engine_version" {}
            resource "aws_rds_cluster" "this" {
              engine_version = var.engine_version
            }
        """,
        ".terraform/modules/modules.json": (
            '{"Modules": [{"Key": "", "Source": "", "Dir": "."},'
            ' {"Key": "db", "Source": "registry.terraform.io/example/aurora/aws", "Dir": ".terraform/modules/db"}]}'
        ),
    })
    (cluster,) = load_root(tmp_path).deployment.clusters
    assert cluster.address == "module.db.aws_rds_cluster.this"
    assert cluster.engine_version.raw == "16.4"
    assert cluster.origin.file == ".terraform/modules/db/main.tf"


def test_a_module_calling_itself_reports_each_error_once(tmp_path: Path) -> None:
    """Every nesting level of a cycle loads the same files; their errors are one line each."""
    (tmp_path / "main.tf").write_text(
        'module "self" {\n  source = "./"\n}\n\nmodule "missing" {\n  source = "./nope"\n}\n', encoding="utf-8"
    )
    errors = [str(e) for e in load_root(tmp_path).errors]
    assert errors == [
        "main.tf:1: error: module.self source './' calls a module that calls it: a cycle",
        "main.tf:5: error: module.missing source './nope' is not a directory",
    ]


def test_a_value_for_an_undeclared_variable_is_an_input_error(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": 'variable "v" {}\nresource "aws_rds_cluster" "c" {\n  engine_version = var.v\n}\n'})
    loaded = load_root(tmp_path, cli_vars={"v": "16.4", "typo": "x"})
    assert [str(e) for e in loaded.errors] == [f"--var typo: error: {tmp_path} declares no variable 'typo'"]
    assert loaded.deployment.clusters[0].engine_version.raw == "16.4"
