"""Differential test: our evaluator against terraform on the same expressions.

The rule: where the evaluator claims a value is known, it is terraform's value (in terraform's JSON
terms); where terraform fails, the evaluator claims no value. A curated table covers every function
the evaluator implements, every operator, templates, heredocs, splats, null, numbers beyond float64
and wrong-type calls; hypothesis adds generated expressions. Each set is one batch for terraform.
"""

from __future__ import annotations

import pytest
import tforacle
from hypothesis import HealthCheck, given, settings

from validator.model import Unknown
from validator.sources.terraform.hcl.functions import FUNCTIONS, NOT_STATIC

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(tforacle.TERRAFORM is None, reason="terraform is not on PATH: it is the oracle"),
]

HEREDOC = "<<EOT\nhello\n  ${upper(\"x\")}\nEOT\n"
HEREDOC_TRIM = "<<-EOT\n    a\n      b ${1 + 1}\n    EOT\n"

CURATED: list[str] = [
    # operators
    "1 + 2 * 3", "(1 + 2) * 3", "10 - 4 - 3", "7 / 2", "7 % 3", "-7 % 3", "7 % -3", "7.5 % 2", "-5.5 % 2",
    "5 % 0", "1 / 3", "2 / 3 * 3", "0.1 + 0.2", "1 / 0", "0 / 0", "-(1)", "-0", "!true", "!false",
    "true && false", "true || false", "false || true && false", "1 < 2", "2 <= 2", "3 > 4", "4 >= 4",
    "1 == 1.0", "1 == \"1\"", "true == \"true\"", "null == null", "[1] == [1.0]", "{a = 1} == {a = 1}",
    "\"a\" != \"b\"", "\"1\" + 1", "\"a\" + 1", "true + 1", "null + 1", "!null", "!\"true\"",
    "1 < \"2\"", "true && \"false\"",
    # numbers beyond float64, exact decimals, big integers
    "1e999", "-1e999", "1e-999", "1e999 * 1e999", "1e999 / 3", "1e400 % 7", "floor(1e999)", "ceil(-1e999)",
    "format(\"%d\", 1e999)", "\"${1e999}\"", "[1, 2][1e999]", "substr(\"abc\", 1e999, 1)",
    "substr(\"abc\", 1, 1e999)", "123456789012345678901234567890 * 987654321098765432109876543210",
    "pow(10, 200) + 1", "pow(2, 600)", "\"${pow(2, 600)}\"", "9007199254740993", "\"${9007199254740993}\"",
    "1e308 * 10", "10 / 3", "\"${10 / 3}\"", "0.1 * 3", "1.5e3", "1.0", "tostring(1e20)", "\"${1e21}\"",
    "12345678901234567890123456789012345678901234567890 % 7", "element([1, 2, 3], 1e999)",
    "range(1e999)", "format(\"%d\", 1.5)", "format(\"%f\", 0.1)", "format(\"%.3f\", 1e30)", "abs(-1e999)",
    "max(1e999, 2)", "min(-1e999, 0)", "signum(-1e999)", "signum(-3)", "signum(0)",
    # wrong-type calls
    "keys([1])", "values(\"x\")", "length(1)", "upper([])", "lookup([1], \"a\")", "merge([1])", "tobool(\"yes\")",
    "tonumber(\"0x10\")", "tonumber(\" 1\")", "tonumber(\"1e3\")", "tonumber(\"NaN\")", "tonumber(\"inf\")",
    "tonumber(\".5\")", "tonumber(\"+5\")", "tonumber(null)", "tostring([1])", "tostring(null)", "tobool(null)",
    "tobool(\"true\")", "join(\",\", \"a\")", "concat(1)", "flatten(1)", "element(\"x\", 0)", "zipmap(1, 2)",
    # templates, heredocs, directives, escapes
    "\"${1}\"", "\"${true}\"", "\"${null}\"", "\"a${null}\"", "\"a${[1]}\"", "\"x${1 + 1}y\"", "\"$${x}\"",
    "\"%%{x}\"", "\"a\\nb\\t\\\"c\\\\\"", "\"\\u00e9\"", "\"%{ if true }yes%{ else }no%{ endif }\"",
    "\"%{ for x in [1, 2] }${x},%{ endfor }\"", HEREDOC, HEREDOC_TRIM, "<<EOT\n%{ if true }t%{ endif }\nEOT\n",
    "\"a %{~ if false ~} b %{~ else ~} c %{~ endif ~} d\"", "\"%{ for k, v in {b = 1, a = 2} }${k}=${v};%{ endfor }\"",
    "\"%{ for i, x in [\"p\", \"q\"] }${i}${x}%{ endfor }\"", "\"%{ if 1 }x%{ endif }\"", "\"%{ endif }\"",
    "<<EOT\n%{ for x in [\"a\", \"b\"] ~}\n- ${x}\n%{ endfor ~}\nEOT\n", "\"%{ for x in 5 }${x}%{ endfor }\"",
    # heredocs as terraform reads them from CRLF files and with tab indentation
    "<<EOT\r\nhello\r\n  world\r\nEOT\r\n", "<<-EOT\r\n    in\r\n      dent\r\n    EOT\r\n",
    "<<-EOT\n\t\ta\n\t\t  b\n\t\tEOT\n", "<<-EOT\n  a\n\tb\n  EOT\n", "<<EOT\r\nv${1 + 1}\r\nEOT\r\n",
    # conditionals and type unification
    "true ? 1 : \"a\"", "false ? 1 : \"2\"", "true ? \"a\" : 1", "false ? [1] : [\"a\"]", "true ? [1] : [\"a\"]",
    "true ? {a = 1} : {a = \"x\"}", "true ? 1 : true", "null ? 1 : 2", "\"true\" ? 1 : 2", "1 ? 1 : 2",
    "true ? null : 1", "false ? null : \"x\"",
    # collections, splats, for, index
    "[1, 2, 3][1]", "[1, 2, 3][-1]", "[1, 2, 3][3]", "[1, 2][\"1\"]", "{a = 1}[\"a\"]", "{a = 1}[\"b\"]",
    "{a = 1}.a", "{a = 1}.b", "[{a = 1}, {a = 2}][*].a", "[{a = 1}, {a = 2}].*.a", "null[*]", "\"x\"[*]",
    "[[1, 2], [3]][*][0]", "[for x in [1, 2, 3] : x * 2]", "[for i, x in [\"a\", \"b\"] : \"${i}${x}\"]",
    "{for k, v in {a = 1, b = 2} : k => v + 1}", "{for x in [\"a\", \"b\", \"a\"] : x => 1...}",
    "{for x in [\"a\", \"a\"] : x => 1}", "[for x in [1, 2, 3] : x if x > 1]", "{for k, v in {b = 1, a = 2} : v => k}",
    "[for x in 5 : x]", "[for x in null : x]", "{a = 1, b = [true, null]}", "{\"a b\" = 1}", "{(\"k${1}\") = 2}",
    "{a = 1, a = 2}", "[for k, v in {b = 1, a = 2} : k]",
    # null handling
    "null", "[null]", "coalesce(null, \"x\")", "coalesce(null, null)", "coalesce(\"\", \"b\")", "coalesce(1, \"x\")",
    "compact([\"a\", \"\", null])", "length(null)", "one([])", "one([null])", "one([1, 2])",
    "lookup({a = null}, \"a\")",
    "try(null.x, \"fallback\")", "can(null.x)", "try({a = 1}.b, 2)", "can([1][5])", "try(1)", "try(keys([1]), 7)",
    # strings
    "chomp(\"a\\r\\n\\n\")", "chomp(\"a\\n \")", "endswith(\"abc\", \"bc\")", "startswith(\"abc\", \"ab\")",
    "strcontains(\"abc\", \"d\")", "format(\"%s-%02d\", \"a\", 7)", "format(\"%v\", 1.5)",
    "format(\"%v\", [1, \"a\"])", "format(\"%#v\", {a = 1})",
    "format(\"%5.1f|%-4d|%x|%X|%o|%b|%e\", 3.14159, 7, 255, 255, 8, 5, 1234.5)",
    "format(\"%q\", \"a\\\"b<\")", "format(\"%s\", true)", "format(\"%d\", \"12\")", "format(\"%t\", \"true\")",
    "format(\"%s %s\", \"a\")", "format(\"%s\", \"a\", \"b\")", "format(\"%[2]s %[1]s\", \"a\", \"b\")",
    "format(\"%%\")",
    "format(\"%+d % d\", 5, 5)", "format(\"%08.3f\", -3.14159)", "format(\"%.2s\", \"abc\")",
    "format(\"%E\", 0.000123)",
    "format(\"%w\", 1)", "format(\"%s\", null)", "format(\"%v\", null)",
    "formatlist(\"%s-%d\", [\"a\", \"b\"], 1)", "formatlist(\"%s\", [])",
    "formatlist(\"%s%s\", [\"a\"], [\"b\", \"c\"])",
    "indent(2, \"a\\nb\\n\")", "join(\",\", [\"a\", 1, true])", "join(\"-\", [\"a\"], [\"b\"])", "join(\",\", [])",
    "lower(\"AbC\")", "upper(\"straße\")", "upper(1)", "title(\"hELLO wORLD-foo_bar\")", "title(\"élan vital\")",
    "regex(\"[a-z]+\", \"123abc\")", "regex(\"(a)(b)\", \"ab\")", "regex(\"(?P<x>a)|(?P<y>b)\", \"b\")",
    "regex(\"(a)|(b)\", \"b\")", "regex(\"[a-z]+\", \"123\")", "regex(\"^b$\", \"b\\n\")", "regex(\"\\\\d+\", \"a42\")",
    "regexall(\"a*\", \"baaa\")", "regexall(\"[0-9]\", \"a1b2\")", "regexall(\"(a)(b)?\", \"aab\")",
    "regex(\"(a\", \"a\")", "regex(\"a{1001}\", \"a\")", "regex(\"(a)\\\\1\", \"aa\")", "regex(\"(?i)ABC\", \"xabc\")",
    "replace(\"abc\", \"b\", \"x\")", "replace(\"abc\", \"/b/\", \"x\")",
    "replace(\"a1b22\", \"/([0-9]+)/\", \"<$1>\")",
    "replace(\"hello\", \"/l+/\", \"$$\")", "split(\",\", \"a,b,,c\")", "split(\"\", \"abc\")", "split(\",\", \"\")",
    "strrev(\"abc\")", "strrev(\"héllo\")", "substr(\"hello\", 1, 3)", "substr(\"hello\", -3, -1)",
    "substr(\"hello\", 4, 10)", "substr(\"hello\", 6, 1)", "substr(\"héllo\", 1, 2)", "length(\"héllo\")",
    "trim(\"?!hello?!\", \"!?\")", "trimprefix(\"abc\", \"a\")", "trimprefix(\"abc\", \"x\")",
    "trimsuffix(\"abc\", \"c\")",
    "trimspace(\"  a b \\n\")", "trimspace(\"\\u00a0a\")",
    # numbers
    "abs(-3.5)", "ceil(1.2)", "floor(-1.2)", "ceil(-0.5)", "floor(-0.5)", "log(8, 2)", "log(10, 10)", "log(1, 10)",
    "log(0, 2)", "max(1, 2.5)", "min(3, 1, 2)", "min()", "max(\"3\", 10)", "parseint(\"ff\", 16)",
    "parseint(\"-1010\", 2)", "parseint(\"zz\", 36)", "parseint(\"12\", 1)", "parseint(\"9\", 8)", "pow(2, 10)",
    "pow(2, 0.5)", "pow(2, -2)", "pow(0, 0)", "pow(-8, 3)", "pow(2, 1.5)", "pow(10, 400)", "sum([1, 2.5])",
    "sum([])", "sum([\"1\", 2])",
    # collections
    "alltrue([])", "alltrue([true, \"true\"])", "anytrue([false])", "anytrue([])", "chunklist([1, 2, 3], 2)",
    "chunklist([1, 2], 0)", "coalescelist([], [1])", "coalescelist([], [])", "concat([1], [\"a\"])",
    "contains([1, 2], 2)", "contains([\"1\"], 1)", "distinct([1, \"1\"])", "distinct([\"b\", \"a\", \"b\"])",
    "element([1, 2, 3], 4)", "element([1, 2, 3], -1)", "element([], 0)", "flatten([[1, [2]], 3])", "flatten([])",
    "index([\"a\", \"b\"], \"b\")", "index([\"a\"], \"z\")", "keys({b = 1, a = 2})", "values({b = 1, a = 2})",
    "length([1, 2])", "length({a = 1})", "length(\"\")", "lookup({a = 1}, \"b\", 2)", "lookup({a = 1}, \"b\")",
    "lookup({a = 1}, \"a\", \"x\")", "matchkeys([\"a\", \"b\"], [\"x\", \"y\"], [\"y\"])",
    "merge({a = 1}, {a = \"x\"})",
    "merge({a = 1}, null, {b = 2})", "merge()", "one([\"x\"])", "range(3)", "range(3, 0, -1)", "range(0, 1, 0.25)",
    "range(0)", "range(1, 5, 0)", "range(5, 1)", "reverse([1, 2, 3])",
    "setintersection([\"a\", \"b\"], [\"b\", \"c\"])",
    "setproduct([\"a\", \"b\"], [1, 2])", "setproduct([\"a\"], [])", "setsubtract([\"a\", \"b\"], [\"a\"])",
    "setsubtract([18.25], [\"x\"])", "setintersection([1], [\"1\"])", "setsubtract([1, 2], [2])",
    "format(\"%v\", 1422010510)", "format(\"%v\", 0.0001)", "format(\"%v\", 0.00001)", "format(\"%v\", 123456)",
    "format(\"%v\", 1000000)", "format(\"%v\", -4.675202830508154e-38)", "format(\"%v\", 1234567.5)",
    "setunion([\"b\"], [\"a\"])", "slice([1, 2, 3], 1, 2)", "slice([1, 2, 3], 1, 5)", "slice([1, 2, 3], 2, 1)",
    "sort([\"b\", \"a\", \"B\"])", "sort([3, 1, 2])", "sort([\"b\", 1])",
    "transpose({a = [\"1\", \"2\"], b = [\"2\"]})",
    "zipmap([\"a\", \"b\"], [1, 2])", "zipmap([\"a\"], [1, 2])", "tolist([1, \"a\"])", "tolist([[1], [\"a\"]])",
    "toset([3, 1, 10])", "toset([\"b\", \"a\", \"B\", \"a\"])", "toset([true, false])", "toset([1, \"a\"])",
    "tomap({a = 1, b = \"x\"})", "tomap({a = 1, b = [1]})", "tolist([true, 1])",
    # encoding and hashes
    "base64encode(\"héllo\")", "base64decode(\"aGk=\")", "base64decode(\"!!\")", "base64decode(\"/w==\")",
    "jsonencode({b = 1, a = [1.5, \"x\", null, true]})", "jsonencode(\"<>&\")", "jsonencode(0.1)", "jsonencode(1e21)",
    "jsondecode(\"{\\\"a\\\": 1e3}\")", "jsondecode(\"[1, \\\"x\\\", null, true, 0.1]\")", "jsondecode(\"nope\")",
    "jsondecode(\"1e999\")", "jsondecode(\"NaN\")", "jsondecode(\"\\\"\\\\u00e9\\\"\")",
    "urlencode(\"a b/c?d=é~\")", "csvdecode(\"a,b\\n1,2\\n\")", "csvdecode(\"a,b\\n1\\n\")",
    "csvdecode(\"a\\n\\\"x,y\\\"\\n\")",
    "textencodebase64(\"hi\", \"UTF-16LE\")", "textdecodebase64(\"aABpAA==\", \"UTF-16LE\")",
    "textencodebase64(\"é\", \"US-ASCII\")", "md5(\"a\")", "sha1(\"a\")", "sha256(\"a\")", "sha512(\"a\")",
    "base64sha256(\"a\")", "base64sha512(\"a\")", "uuidv5(\"dns\", \"example.com\")",
    "uuidv5(\"6ba7b811-9dad-11d1-80b4-00c04fd430c8\", \"x\")", "uuidv5(\"nope\", \"x\")",
    # paths, networks, time
    "basename(\"a/b/c.txt\")", "basename(\"/\")", "basename(\"\")", "dirname(\"a/b/c\")", "dirname(\"c\")",
    "dirname(\"/a\")", "cidrhost(\"10.0.0.0/24\", -1)", "cidrhost(\"10.0.0.0/24\", 256)", "cidrhost(\"fd00::/64\", 5)",
    "cidrnetmask(\"10.0.0.0/12\")", "cidrnetmask(\"fd00::/64\")", "cidrsubnet(\"10.0.0.0/16\", 8, 2)",
    "cidrsubnet(\"10.0.0.0/16\", 8, 256)", "cidrsubnet(\"fd00::/56\", 8, 1)", "cidrsubnet(\"10.0.0.0/30\", 4, 0)",
    "cidrsubnets(\"10.0.0.0/16\", 8, 4, 8)", "cidrsubnets(\"10.0.0.0/30\", 1, 1, 1)",
    "cidrsubnet(\"10.0.0.1/16\", 8, 1)",
    "cidrsubnet(\"10.0.0.0\", 8, 1)", "formatdate(\"YYYY-MM-DD hh:mm:ss ZZZ EEE MMM\", \"2024-02-29T13:04:05Z\")",
    "formatdate(\"h:mm AA 'at' D MMMM YY\", \"2024-02-29T13:04:05+09:00\")", "formatdate(\"YYYY\", \"nope\")",
    "timeadd(\"2024-01-01T00:00:00Z\", \"1h30m\")", "timeadd(\"2024-01-01T00:00:00Z\", \"-10m\")",
    "timecmp(\"2024-01-01T00:00:00Z\", \"2024-01-01T01:00:00+01:00\")",
    # sensitivity and functions that stay unknown
    "nonsensitive(1)", "nonsensitive(sensitive(\"x\"))", "ephemeralasnull(1)", "timestamp()", "uuid()", "bcrypt(\"x\")",
    "abspath(\".\")", "file(\"/etc/hostname\")",
    "base64gzip(\"a\")", "yamldecode(\"a: 1\")", "yamlencode({a = 1})", "templatestring(\"x\", {})",
]


def _report(outcomes: list[tforacle.Outcome]) -> str:
    bad = [o for o in outcomes if not o.agrees]
    lines = [f"{len(bad)} of {len(outcomes)} disagree:"]
    for o in bad[:20]:
        lines.append(f"  {o.expr!r}\n    ours: {o.ours!r:.200}\n    terraform: {o.theirs!r:.200}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def curated() -> list[tforacle.Outcome]:
    return tforacle.compare(list(dict.fromkeys(CURATED)))


def test_curated_table_agrees_with_terraform(curated: list[tforacle.Outcome]) -> None:
    assert all(o.agrees for o in curated), _report(curated)
    claimed = sum(o.claimed for o in curated)
    failed = sum(isinstance(o.theirs, tforacle.Failed) for o in curated)
    assert claimed > len(curated) * 0.6, "the evaluator knows most curated values"
    assert failed > 40, "the table holds expressions terraform rejects"


def test_curated_table_calls_every_function_of_the_library() -> None:
    called = tforacle.functions_called(CURATED)
    assert set(FUNCTIONS) - called == set()
    assert {"timestamp", "uuid", "bcrypt", "file"} <= called & set(NOT_STATIC)


def test_functions_that_stay_unknown_say_why() -> None:
    for expr in ("timestamp()", "uuid()", "bcrypt(\"x\")", "file(\"x\")", "abspath(\".\")"):
        value = tforacle.ours(expr)
        assert isinstance(value, Unknown) and "not evaluated statically: it depends on" in value.reason


def test_library_covers_terraform_pure_functions() -> None:
    names = tforacle.terraform_functions()
    assert len(names) > 100
    ours = set(FUNCTIONS) | {"try", "can"}
    missing = [n for n in names if n not in ours and n not in NOT_STATIC and n != "type"]
    assert missing == [], "every terraform function is evaluated or listed with the reason it is not"
    assert len(ours & set(names)) >= 95


def test_evaluation_errors_never_quote_a_secret_argument() -> None:
    for expr in ('tobool("s3cr3t-pw")', 'tonumber("s3cr3t-pw")', 'keys("s3cr3t-pw")', '{a = 1}["s3cr3t-pw"]',
                 'lookup({}, "s3cr3t-pw")', 'regex("s3cr3t-pw", "x")', 'cidrhost("s3cr3t-pw", 1)',
                 'jsondecode("s3cr3t-pw")', 'base64decode("s3cr3t-pw")', 'index(["a"], "s3cr3t-pw")'):
        value = tforacle.ours(expr)
        assert isinstance(value, Unknown), expr
        assert value.reason.startswith("line 1: ") and "s3cr3t" not in value.reason, value.reason


GENERATED = 600


def test_generated_expressions_agree_with_terraform() -> None:
    exprs: list[str] = []

    @settings(max_examples=GENERATED, database=None, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(tforacle.strategies())
    def collect(expr: str) -> None:
        value = tforacle.ours(expr)  # never raises
        if isinstance(value, Unknown):
            assert value.reason, expr
        exprs.append(expr)

    collect()
    unique = list(dict.fromkeys(exprs))
    assert len(unique) > GENERATED * 0.8
    outcomes = tforacle.compare(unique)
    assert all(o.agrees for o in outcomes), _report(outcomes)
    assert sum(o.claimed for o in outcomes) > len(outcomes) * 0.4
