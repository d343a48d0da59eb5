"""Create a new rule's class stub, its Terraform fixtures, its scenarios and its docs entry.

    python -m validator.scaffold AV109 "Deletion protection is enabled" --severity info \\
        --argument deletion_protection --doc-url https://docs.aws.amazon.com/...

With ``--argument NAME`` (a boolean argument of ``aws_rds_cluster`` that the model's
``Cluster`` holds under the same name, or under ``--field``) the rule is complete: it
passes when the argument is true and fails when it is false or left out, and the
fixtures set it to true, to false and to a variable without a value. Without it the
class is a stub whose ``check_cluster`` yields nothing, and the fixtures, the scenarios
and the metadata carry the marker ``TODO-scaffold``: their tests fail until the rule is
written, and they name only the new rule.

What it writes, in a checkout (``--root``, default: the checkout holding this module):
the class at the end of the family's module (``validator/rules/<family>.py``), the
fixtures ``tests/fixtures/rules/<ID>/{pass,fail,unresolved}/``, two scenarios at the end
of the family's ``features/*.feature``, and README.md's rules table. With ``--argument``
the clean fixture every static rule passes on (``AV101/pass/aurora_postgresql.tf``) sets
the argument to true as well. Exit codes: 0 written, 2 a usage error (one line on
standard error; nothing is written).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from validator import docs
from validator.model import Cluster, Value
from validator.rules import Severity, all_rules

PLACEHOLDER = "TODO-scaffold"

# Rule families whose rules are checked on Terraform fixtures: id digit -> (module, feature file).
FAMILIES = {
    "1": ("validator.rules.serverless", "features/serverless_v2.feature"),
    "2": ("validator.rules.bedrock", "features/bedrock_knowledge_base.feature"),
    "3": ("validator.rules.security", "features/network_exposure.feature"),
    "4": ("validator.rules.notes", "features/cost_and_operations.feature"),
}
# The fixture every static rule passes on (tests/test_rules_fixtures.py): new fixtures start from it.
CLEAN_BASE = "tests/fixtures/rules/AV101/pass/aurora_postgresql.tf"
CLUSTER_HEADER = 'resource "aws_rds_cluster" "kb" {'
RULE_ID = re.compile(r"AV\d{3}")


class ScaffoldError(Exception):
    """A usage error: the message is one line."""


@dataclasses.dataclass(frozen=True)
class Spec:
    rule_id: str
    title: str
    severity: Severity
    class_name: str
    argument: str | None = None  # the Terraform argument of aws_rds_cluster
    field: str | None = None  # the Cluster attribute holding it
    doc_url: str = f"https://docs.aws.amazon.com/{PLACEHOLDER}"
    rationale: str = f"{PLACEHOLDER}: why the rule matters, with the AWS fact it encodes."
    risk: str = f"{PLACEHOLDER}: what goes wrong when the rule fails."

    @property
    def module(self) -> str:
        return FAMILIES[self.rule_id[2]][0]

    @property
    def feature(self) -> str:
        return FAMILIES[self.rule_id[2]][1]


def class_name_of(title: str) -> str:
    """ "Deletion protection is enabled" -> "DeletionProtectionIsEnabled"."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    name = "".join(w[:1].upper() + w[1:] for w in words)
    return name if name[:1].isalpha() else f"Rule{name}"


def boolean_fields() -> set[str]:
    """The Cluster attributes a boolean argument can be read from."""
    return {f.name for f in dataclasses.fields(Cluster) if f.type in ("Value[bool]", Value[bool])}


def make_spec(args: argparse.Namespace) -> Spec:
    rule_id = str(args.rule_id).upper()
    if not RULE_ID.fullmatch(rule_id):
        raise ScaffoldError(f"{args.rule_id!r} is not a rule id (AV followed by three digits)")
    if rule_id[2] not in FAMILIES:
        families = ", ".join(f"AV{d}xx" for d in sorted(FAMILIES))
        raise ScaffoldError(f"{rule_id}: the scaffold writes rules checked on Terraform fixtures ({families})")
    taken = {r.id: type(r).__name__ for r in all_rules()}
    if rule_id in taken:
        raise ScaffoldError(f"{rule_id} is taken by {taken[rule_id]}")
    title = " ".join(str(args.title).split())
    if not title:
        raise ScaffoldError("the title is empty")
    class_name = args.class_name or class_name_of(title)
    if not class_name.isidentifier():
        raise ScaffoldError(f"{class_name!r} is not a Python class name")
    if class_name in taken.values():
        raise ScaffoldError(f"a rule class {class_name} exists already; give --class")
    field = args.field or args.argument
    if args.field and not args.argument:
        raise ScaffoldError("--field needs --argument")
    if args.argument and not re.fullmatch(r"[a-z][a-z0-9_]*", args.argument):
        raise ScaffoldError(f"{args.argument!r} is not a Terraform argument name")
    if field and field not in boolean_fields():
        known = ", ".join(sorted(boolean_fields()))
        raise ScaffoldError(f"Cluster has no boolean attribute {field!r} (it has {known}); give --field")
    kwargs: dict[str, str] = {}
    for name in ("doc_url", "rationale", "risk"):
        value = getattr(args, name)
        if value:
            kwargs[name] = " ".join(value.split())
    if "doc_url" in kwargs and not kwargs["doc_url"].startswith("https://docs.aws.amazon.com/"):
        raise ScaffoldError("--doc-url must be an AWS documentation page (https://docs.aws.amazon.com/...)")
    return Spec(rule_id, title, Severity(args.severity), class_name, args.argument, field, **kwargs)


# --------------------------------------------------------------------------- #
# The class


def _literal(text: str) -> str:
    """A Python string literal in the project's style: double quotes, single ones around text holding them."""
    if '"' in text and "'" not in text:
        return repr(text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _assignment(name: str, text: str) -> str:
    """``    name = "text"``, split over lines in parentheses when it is longer than a line."""
    line = f"    {name} = {_literal(text)}\n"
    if len(line) <= 121:
        return line
    chunks: list[str] = []
    current = ""
    for word in text.split(" "):
        if current and len(current) + len(word) + 1 > 100:
            chunks.append(current + " ")
            current = word
        else:
            current = f"{current} {word}" if current else word
    chunks.append(current)
    return f"    {name} = (\n" + "".join(f"        {_literal(c)}\n" for c in chunks) + "    )\n"


def class_source(spec: Spec) -> str:
    """The rule class, as it is appended to its family's module."""
    if spec.argument:
        fix = f'resource "aws_rds_cluster" "this" {{\n  {spec.argument} = true\n}}'
        body = (
            "        yield argument_is_true(\n"
            f"            self, cluster, cluster.{spec.field}, {_literal(spec.argument)},\n"
            f"            {_literal(spec.argument + ' is true')}, \"the default is false\",\n"
            "        )\n"
        )
    else:
        fix = f'resource "aws_rds_cluster" "this" {{\n  # {PLACEHOLDER}: the argument to set\n}}'
        body = (
            f"        # {PLACEHOLDER}: yield self.passed(...), self.failed(...) or unresolved_value(...)\n"
            "        yield from ()\n"
        )
    return (
        f"\n\nclass {spec.class_name}(ClusterRule):\n"
        + _assignment("id", spec.rule_id)
        + _assignment("title", spec.title)
        + f"    severity = Severity.{spec.severity.name}\n"
        + _assignment("rationale", spec.rationale)
        + _assignment("risk", spec.risk)
        + _assignment("doc_url", spec.doc_url)
        + _assignment("fix", fix)
        + "\n"
        + "    def check_cluster(self, cluster: Cluster, deployment: Deployment) -> Iterator[Result]:\n"
        + body
    )


def _type_rank(name: str) -> tuple[int, str]:
    """isort's order-by-type: constants, classes, then functions and variables."""
    if name.isupper() and len(name) > 1:
        return 0, name
    if name[:1].isupper():
        return 1, name
    return 2, name


def _import_statement(module: str, names: Sequence[str]) -> str:
    ordered = sorted(set(names), key=_type_rank)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= 120:
        return line + "\n"
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in ordered) + ")\n"


def ensure_imports(source: str, wanted: Mapping[str, Sequence[str]]) -> str:
    """``source`` with ``from module import name`` for every wanted name it does not bind yet."""
    for module, names in wanted.items():
        tree = ast.parse(source)
        bound = {a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        bound |= {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
        missing = [n for n in names if n not in bound]
        if not missing:
            continue
        lines = source.splitlines(keepends=True)
        existing = next(
            (n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == module and n.level == 0), None
        )
        if existing is not None and existing.end_lineno is not None:
            have = [a.name for a in existing.names]
            statement = _import_statement(module, have + missing)
            lines[existing.lineno - 1 : existing.end_lineno] = [statement]
        else:
            ours = [n for n in tree.body if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("validator")]
            after = [n for n in ours if (n.module or "") < module]
            anchor = after[-1] if after else None
            at = anchor.end_lineno if anchor is not None and anchor.end_lineno else (ours[0].lineno - 1 if ours else 0)
            lines[at:at] = [_import_statement(module, missing)]
        source = "".join(lines)
    return source


def module_source(spec: Spec, source: str) -> str:
    wanted: dict[str, list[str]] = {
        "collections.abc": ["Iterator"],
        "validator.model": ["Cluster", "Deployment"],
        "validator.rules.base": ["ClusterRule", "Result", "Severity"],
    }
    if spec.argument:
        wanted["validator.rules.helpers"] = ["argument_is_true"]
    return ensure_imports(source.rstrip("\n") + "\n" + class_source(spec), wanted)


# --------------------------------------------------------------------------- #
# Fixtures and scenarios


def _insert_in_cluster(base: str, line: str) -> str:
    """``base`` with ``line`` as the cluster block's first argument, its ``=`` aligned with the next one's."""
    lines = base.splitlines(keepends=True)
    at = next((i for i, text in enumerate(lines) if text.strip() == CLUSTER_HEADER), None)
    if at is None:
        raise ScaffoldError(f"{CLEAN_BASE} has no line {CLUSTER_HEADER!r}")
    name, _, rest = line.partition(" =")
    following = lines[at + 1] if at + 1 < len(lines) else ""
    width = max(len(name), following.find(" =") - 2)  # two spaces of indentation
    lines.insert(at + 1, f"  {name.ljust(width)} ={rest}\n")
    return "".join(lines)


def _unmarked(base: str) -> str:
    """The clean base without its own ``# expect:`` marker and heading comment."""
    text = re.sub(r"\s*# expect: AV\d{3} \w+", "", base)
    return text.split("\n", 1)[1] if text.startswith("#") else text


def fixtures(spec: Spec, base: str) -> dict[str, str]:
    """Relative path -> text of the new rule's pass, fail and unresolved fixtures."""
    rid, arg = spec.rule_id, spec.argument
    body = _unmarked(base)
    folder = f"tests/fixtures/rules/{rid}"
    if arg:
        variable = (
            f'\nvariable "{arg}" {{ # expect: {rid} unresolved\n'
            "  type = bool\n"
            "}\n"
        )
        return {
            f"{folder}/pass/{arg}_true.tf": f"# {rid} pass: {arg} = true.\n"
            + _insert_in_cluster(body, f"{arg} = true # expect: {rid} pass"),
            f"{folder}/fail/{arg}_false.tf": f"# {rid} fail: {arg} = false.\n"
            + _insert_in_cluster(body, f"{arg} = false # expect: {rid} fail"),
            f"{folder}/unresolved/{arg}_variable.tf": f"# {rid} unresolved: {arg} from a variable without a value.\n"
            + _insert_in_cluster(body, f"{arg} = var.{arg}")
            + variable,
        }
    marked = body.replace(CLUSTER_HEADER, f"{CLUSTER_HEADER} # expect: {rid} {{kind}}", 1)
    return {
        f"{folder}/{kind}/{PLACEHOLDER}.tf": f"# {rid} {kind}: {PLACEHOLDER}: change the configuration so that "
        f"the rule {'passes' if kind == 'pass' else 'fails' if kind == 'fail' else 'cannot decide'} "
        "on the marked line (move the marker).\n" + marked.replace("{kind}", kind)
        for kind in ("pass", "fail", "unresolved")
    }


def scenarios(spec: Spec) -> str:
    """Two scenarios on the reference deployment: the rule passes in one and fails in the other."""
    rid = spec.rule_id
    if spec.argument:
        arg = spec.argument
        return (
            f"\n  Scenario: {rid} passes when the cluster sets {arg} = true\n"
            '    Given the reference deployment "reference/terraform"\n'
            f"    And the aurora cluster's {arg} is true\n"
            "    When I validate it\n"
            f"    Then rule {rid} passes\n"
            f"\n  Scenario: {rid} fails when the cluster sets {arg} = false\n"
            '    Given the reference deployment "reference/terraform"\n'
            f"    And the aurora cluster's {arg} is false\n"
            "    When I validate it\n"
            f'    Then rule {rid} fails with severity {spec.severity.value} at "modules/aurora/aurora.tf" '
            f"on the {arg} line\n"
        )
    return "".join(
        f"\n  Scenario: {rid} {outcome} ({PLACEHOLDER}: one change to the reference that makes it so)\n"
        '    Given the reference deployment "reference/terraform"\n'
        "    When I validate it\n"
        f"    Then rule {rid} {outcome}\n"
        for outcome in ("passes", "fails")
    )


# --------------------------------------------------------------------------- #


def plan(spec: Spec, root: Path) -> dict[Path, str]:
    """Every file the scaffold writes, with its new text; nothing is written yet."""
    module_path = root / (spec.module.replace(".", "/") + ".py")
    feature_path = root / spec.feature
    readme_path = root / "README.md"
    base_path = root / CLEAN_BASE
    for path in (module_path, feature_path, readme_path, base_path):
        if not path.is_file():
            raise ScaffoldError(f"{path} does not exist: run the scaffold in a checkout (or give --root)")
    out: dict[Path, str] = {}
    base = base_path.read_text(encoding="utf-8")
    for rel, text in fixtures(spec, base).items():
        path = root / rel
        if path.exists():
            raise ScaffoldError(f"{path} exists already")
        out[path] = text
    out[module_path] = module_source(spec, module_path.read_text(encoding="utf-8"))
    out[feature_path] = feature_path.read_text(encoding="utf-8").rstrip("\n") + "\n" + scenarios(spec)
    if spec.argument:
        out[base_path] = _insert_in_cluster(base, f"{spec.argument} = true")
    return out


def docs_entry(readme: str, spec: Spec, module_text: str) -> str:
    """README.md with the rules table of the catalogue plus the new rule (its module loaded from ``module_text``)."""
    namespace: dict[str, object] = {"__name__": spec.module}
    exec(compile(module_text, spec.module, "exec"), namespace)  # the family module with the new class
    rule = namespace[spec.class_name]
    assert isinstance(rule, type)
    rules = sorted([*all_rules(), rule()], key=lambda r: r.id)
    return docs.render(readme, docs.rules_table(rules))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m validator.scaffold", description=__doc__.splitlines()[0])
    parser.add_argument("rule_id", metavar="ID", help="the new rule's id, e.g. AV109")
    parser.add_argument("title", help="one line: what holds when the rule passes")
    parser.add_argument("--severity", choices=[s.value for s in Severity], default="warning")
    parser.add_argument("--argument", metavar="NAME", help="a boolean aws_rds_cluster argument the rule wants true")
    parser.add_argument("--field", metavar="ATTR", help="the Cluster attribute holding it, when named otherwise")
    parser.add_argument("--class", dest="class_name", metavar="NAME", help="the class name (default: from the title)")
    parser.add_argument("--doc-url", metavar="URL", help="the AWS documentation page the rule rests on")
    parser.add_argument("--rationale", metavar="TEXT")
    parser.add_argument("--risk", metavar="TEXT")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent, help="the checkout")
    parser.add_argument("--dry-run", action="store_true", help="list the files, write nothing")
    args = parser.parse_args(argv)
    try:
        spec = make_spec(args)
        root = args.root.resolve()
        files = plan(spec, root)
        module_path = root / (spec.module.replace(".", "/") + ".py")
        readme_path = root / "README.md"
        files[readme_path] = docs_entry(readme_path.read_text(encoding="utf-8"), spec, files[module_path])
    except (ScaffoldError, docs.StaleError, OSError, SyntaxError) as exc:
        print(f"aurora-validate scaffold: error: {exc}", file=sys.stderr)
        return 2
    for path, text in sorted(files.items()):
        rel = path.relative_to(root).as_posix()
        if not args.dry_run:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        print(f"{'would write' if args.dry_run else 'wrote'} {rel}")
    for step in next_steps(spec):
        print(f"next: {step}")
    return 0


def next_steps(spec: Spec) -> list[str]:
    """What the scaffold leaves to the author (the tests that name the new rule say the same)."""
    steps: list[str] = []
    if not spec.argument:
        steps.append(f"write {spec.class_name}.check_cluster and the fixtures ({PLACEHOLDER} marks them)")
    steps.append(
        f"export {spec.rule_id} to checkov in validator/exporters/checkov.py (POLICIES), "
        "or say why not (NOT_EXPRESSIBLE)"
    )
    steps.append("UPDATE_SNAPSHOTS=1 python -m pytest tests/test_snapshots.py, and read the diff of tests/snapshots/")
    return steps


if __name__ == "__main__":
    raise SystemExit(main())
