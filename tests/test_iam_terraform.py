"""AV204 on Terraform written the ways public modules write IAM (HCL source).

Each case takes the passing AV204 fixture and swaps its role section (from the
``aws_iam_role`` block to the knowledge base) for another way to write the role.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rulekit import FIXTURES, describe, of_rule, scan

from validator.rules import Status

BASE = (FIXTURES / "AV204" / "pass" / "jsonencode_by_reference.tf").read_text(encoding="utf-8")

TRUST = '''
resource "aws_iam_role" "kb" {
  name               = "kb-role"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "bedrock.amazonaws.com" },
      Condition = { StringEquals = { "aws:SourceAccount" = "111122223333" } } }]
  })
  %s
}
'''
MODEL = "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"


def av204(tmp_path: Path, role_section: str, base: str = BASE) -> list[tuple[str, str]]:
    start = base.index('resource "aws_iam_role" "kb"')
    end = base.index('resource "aws_bedrockagent_knowledge_base" "kb"')
    (tmp_path / "main.tf").write_text(base[:start] + role_section + "\n" + base[end:], encoding="utf-8")
    findings = of_rule(scan(tmp_path), "AV204")
    assert findings, "AV204 said nothing"
    return [(f.status.value, f.result.message) for f in findings]


def permissions(results: list[tuple[str, str]]) -> tuple[str, str]:
    assert len(results) == 2, results
    return results[1]


def inline(policy: str) -> str:
    return TRUST % "" + f'''
resource "aws_iam_role_policy" "kb" {{
  role   = aws_iam_role.kb.id
  policy = {policy}
}}
'''


FULL_DOC = f'''
data "aws_iam_policy_document" "kb" {{
  statement {{
    actions   = ["rds:DescribeDBClusters", "rds-data:ExecuteStatement", "rds-data:BatchExecuteStatement"]
    resources = [aws_rds_cluster.kb.arn]
  }}
  statement {{
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.kb.arn]
  }}
  statement {{
    sid       = "Model"
    actions   = ["bedrock:InvokeModel"]
    resources = ["{MODEL}"]
  }}
}}
'''


def test_source_and_override_documents(tmp_path: Path) -> None:
    section = FULL_DOC + '''
data "aws_iam_policy_document" "combined" {
  source_policy_documents   = [data.aws_iam_policy_document.kb.json]
  override_policy_documents = [jsonencode({
    Statement = [{ Sid = "Model", Effect = "Deny", Action = "bedrock:*", Resource = "*" }]
  })]
}
''' + inline("data.aws_iam_policy_document.combined.json")
    status, message = permissions(av204(tmp_path, section))
    assert status == "fail" and "denies bedrock:InvokeModel" in message


def test_a_source_document_alone_passes(tmp_path: Path) -> None:
    section = FULL_DOC + '''
data "aws_iam_policy_document" "combined" {
  source_policy_documents = [data.aws_iam_policy_document.kb.json]
}
''' + inline("data.aws_iam_policy_document.combined.json")
    assert permissions(av204(tmp_path, section))[0] == "pass"


def test_dynamic_statements_over_a_map_of_objects_with_optional(tmp_path: Path) -> None:
    section = f'''
variable "grants" {{
  type = map(object({{
    actions   = list(string)
    resources = optional(list(string), ["*"])
  }}))
  default = {{
    data   = {{ actions = ["rds:DescribeDBClusters", "rds-data:*"], resources = ["*"] }}
    secret = {{ actions = ["secretsmanager:GetSecretValue"], resources = ["*"] }}
    model  = {{ actions = ["bedrock:InvokeModel"], resources = ["{MODEL}"] }}
  }}
}}

data "aws_iam_policy_document" "kb" {{
  dynamic "statement" {{
    for_each = var.grants
    content {{
      sid       = statement.key
      actions   = statement.value.actions
      resources = statement.value.resources
    }}
  }}
}}
''' + inline("data.aws_iam_policy_document.kb.json")
    assert permissions(av204(tmp_path, section))[0] == "pass"


def test_dynamic_statements_over_an_unknown_collection_are_unresolved(tmp_path: Path) -> None:
    section = '''
variable "grants" {
  type = map(list(string))
}

data "aws_iam_policy_document" "kb" {
  dynamic "statement" {
    for_each = var.grants
    content {
      actions   = statement.value
      resources = ["*"]
    }
  }
}
''' + inline("data.aws_iam_policy_document.kb.json")
    status, message = permissions(av204(tmp_path, section))
    assert status == "unresolved" and "var.grants" in message


def test_managed_policy_arns_with_a_customer_policy_and_not_actions(tmp_path: Path) -> None:
    section = TRUST % "managed_policy_arns = [aws_iam_policy.kb.arn]" + '''
resource "aws_iam_policy" "kb" {
  name   = "kb"
  policy = data.aws_iam_policy_document.kb.json
}

data "aws_iam_policy_document" "kb" {
  statement {
    not_actions   = ["iam:*", "sts:*"]
    resources     = ["*"]
  }
  statement {
    effect        = "Deny"
    actions       = ["rds-data:*"]
    not_resources = [aws_rds_cluster.kb.arn]
  }
}
'''
    assert permissions(av204(tmp_path, section))[0] == "pass"


def test_an_aws_managed_policy_not_in_the_table_is_unresolved(tmp_path: Path) -> None:
    section = TRUST % 'managed_policy_arns = ["arn:aws:iam::aws:policy/PowerUserAccess"]'
    status, message = permissions(av204(tmp_path, section))
    assert status == "unresolved" and "PowerUserAccess is an AWS managed policy the scan has no copy of" in message


MANAGED = TRUST % '''managed_policy_arns = [
    "arn:aws:iam::aws:policy/AmazonRDSDataFullAccess",
    "arn:aws:iam::aws:policy/AmazonRDSReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonBedrockFullAccess",
  ]'''


def test_managed_policies_and_a_secret_arn_known_only_after_apply(tmp_path: Path) -> None:
    """AmazonRDSDataFullAccess allows rds-db-credentials/* secrets: aws_secretsmanager_secret.kb may be one."""
    status, message = permissions(av204(tmp_path, MANAGED))
    assert status == "unresolved" and "rds-db-credentials" in message, message


def test_managed_policies_miss_the_secret_rds_manages(tmp_path: Path) -> None:
    """RDS names the secret it manages rds!cluster-...: no rds-db-credentials/* pattern matches it."""
    base = BASE.replace("credentials_secret_arn = aws_secretsmanager_secret.kb.arn",
                        "credentials_secret_arn = aws_rds_cluster.kb.master_user_secret[0].secret_arn")
    status, message = permissions(av204(tmp_path, MANAGED, base))
    assert status == "fail" and message.endswith(
        "does not allow secretsmanager:GetSecretValue on aws_rds_cluster.kb.master_user_secret[0].secret_arn"
    ), message


def test_a_role_policy_linked_by_role_name(tmp_path: Path) -> None:
    section = TRUST % "" + '''
resource "aws_iam_role_policy" "kb" {
  role   = "kb-role"
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })
}
'''
    assert permissions(av204(tmp_path, section))[0] == "pass"


def test_a_policy_attached_to_a_role_the_scan_cannot_tell_keeps_a_failure_unresolved(tmp_path: Path) -> None:
    section = TRUST % "" + '''
variable "role_name" {
  type = string
}

resource "aws_iam_role_policy_attachment" "extra" {
  role       = var.role_name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
'''
    status, message = permissions(av204(tmp_path, section))
    assert status == "unresolved" and "var.role_name" in message


def test_a_template_around_the_cluster_arn_is_not_taken_for_it(tmp_path: Path) -> None:
    section = inline('jsonencode({ Statement = [{ Effect = "Allow", Action = "*", '
                     'Resource = "${aws_rds_cluster.kb.arn}:extra" }] })')
    status, message = permissions(av204(tmp_path, section))
    assert status == "unresolved", message


@pytest.mark.parametrize(
    ("resource", "expected"),
    [("arn:aws:rds:*:*:cluster:*", "pass"), ("arn:aws:rds:us-east-1:*:cluster:kb-store", "pass"),
     ("arn:aws:rds:*:*:cluster:other", "fail"), ("arn:aws:rds:eu-west-1:*:cluster:*", "fail"),
     ("arn:aws:rds:us-east-1:111122223333:cluster:kb-store", "unresolved")],
)
def test_cluster_patterns_against_a_cluster_known_only_after_apply(tmp_path: Path, resource: str,
                                                                   expected: str) -> None:
    section = inline(f'''jsonencode({{ Statement = [
    {{ Effect = "Allow", Action = ["rds:DescribeDBClusters", "rds-data:*"], Resource = "{resource}" }},
    {{ Effect = "Allow", Action = ["secretsmanager:GetSecretValue", "bedrock:InvokeModel"], Resource = "*" }},
  ] }})''')
    status, message = permissions(av204(tmp_path, section))
    assert status == expected, message


def test_a_permissions_boundary_narrows_what_the_policies_allow(tmp_path: Path) -> None:
    section = TRUST % 'permissions_boundary = "arn:aws:iam::aws:policy/AmazonRDSReadOnlyAccess"' + '''
resource "aws_iam_role_policy" "kb" {
  role   = aws_iam_role.kb.id
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })
}
'''
    status, message = permissions(av204(tmp_path, section))
    assert status == "fail" and "rds-data:ExecuteStatement" in message, message


def test_no_role_arn_fails_and_the_messages_locate_the_role(tmp_path: Path) -> None:
    text = BASE.replace("  role_arn = aws_iam_role.kb.arn\n", "")
    (tmp_path / "main.tf").write_text(text)
    findings = of_rule(scan(tmp_path), "AV204")
    assert [f.status for f in findings] == [Status.FAIL], describe(findings)
    assert "sets no role_arn" in findings[0].result.message


def test_unknowns_keep_their_attribute_path_and_jsonencode_its_structure(tmp_path: Path) -> None:
    from validator.model import AttributeUnknown, EncodedUnknown, Unknown
    from validator.sources.terraform.hcl import load_root

    (tmp_path / "main.tf").write_text('''
resource "aws_rds_cluster" "kb" {
  cluster_identifier = "kb"
}

locals {
  direct   = aws_rds_cluster.kb.arn
  indexed  = aws_rds_cluster.kb.master_user_secret[0].secret_arn
  template = "${aws_rds_cluster.kb.arn}/x"
  called   = lower(aws_rds_cluster.kb.arn)
  encoded  = jsonencode({ Resource = [aws_rds_cluster.kb.arn], Action = "rds-data:*" })
  plain    = jsonencode({ Action = "rds-data:*" })
}
''', encoding="utf-8")
    module = load_root(tmp_path).root_module
    direct, indexed = module.local("direct"), module.local("indexed")
    assert isinstance(direct, AttributeUnknown) and direct.path == "aws_rds_cluster.kb.arn"
    assert isinstance(indexed, AttributeUnknown)
    assert indexed.path == "aws_rds_cluster.kb.master_user_secret[0].secret_arn"
    for derived in (module.local("template"), module.local("called")):
        assert isinstance(derived, Unknown) and not isinstance(derived, AttributeUnknown)
        assert derived.refs == ("aws_rds_cluster.kb",)
    encoded = module.local("encoded")
    assert isinstance(encoded, EncodedUnknown) and encoded.refs == ("aws_rds_cluster.kb",)
    assert encoded.document == {"Resource": [direct], "Action": "rds-data:*"}
    assert module.local("plain") == '{"Action":"rds-data:*"}'
