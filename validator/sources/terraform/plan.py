"""Terraform plan JSON (``terraform show -json plan``) into the model.

    loaded = load_plan(Path("plan.json"))                               # locations: resource addresses
    loaded = load_plan(Path("plan.json"), Path("reference/terraform"))  # locations: file and line
    loaded.deployment  # validator.model.Deployment, kind "plan"
    loaded.errors      # InputError per problem with the configuration directory

Values come from the plan (``resource_changes[].change.after``); values known
only after apply become :class:`~validator.model.Unknown` carrying the resource
addresses their configuration expression refers to, followed through module
variables and outputs, so the shared mapping can still link subnets, groups,
instances and knowledge bases. Which arguments are written comes from the
``configuration`` section, so a value the configuration leaves out counts as
the provider's default, exactly as in the HCL source.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Any, TypeGuard

from validator import limits, redact
from validator.errors import InputError
from validator.model import AttributeUnknown, Deployment, EncodedUnknown, Location, Unknown, Value
from validator.sources.terraform import references
from validator.sources.terraform.mapping import MODEL_TYPES, ProviderSettings, build_deployment
from validator.sources.terraform.records import Record, RefStr, refs_of

__all__ = ["PlanLoad", "load_plan", "plan_records", "read_plan"]

SUPPORTED_MAJOR = "1"
# Arguments whose provenance (a literal in a file or not) a rule needs: when the
# plan cannot tell, the value becomes unknown rather than "not a literal".
PROVENANCE_ATTRS = frozenset({"master_password"})
_STRUCTURED_UNKNOWN = (AttributeUnknown, EncodedUnknown)


@dataclass
class PlanLoad:
    deployment: Deployment
    errors: list[InputError] = field(default_factory=list)


# --------------------------------------------------------------------------- #
# Reading and checking the document


def read_plan(path: Path) -> dict[str, Any]:
    """The plan document at ``path``; raises InputError with a one-line reason."""
    where = str(path)
    problem = limits.describe_non_file(path)
    if problem == "not found":
        raise InputError(where, "plan file not found", "error")
    if problem == "a directory":
        raise InputError(where, "is a directory; give the output of terraform show -json", "error")
    data = limits.read_bytes(path, where, limits.MAX_JSON_BYTES)  # never a FIFO or /dev/zero
    if data[:2] == b"PK":
        raise InputError(
            where,
            "this is a binary plan file; convert it with: terraform show -json PLANFILE > plan.json",
            "error",
        )
    try:
        doc: dict[str, Any] = limits.loads_json(data.decode("utf-8-sig"), where)
    except (UnicodeDecodeError, ValueError) as exc:
        detail = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        message = f"not JSON{detail}; give the output of terraform show -json"
        raise InputError(where, message, "error") from None
    check_document(doc, where)
    return doc


def check_document(doc: Any, where: str) -> None:
    """Raise InputError unless ``doc`` looks like ``terraform show -json`` of a plan."""
    if not isinstance(doc, dict):
        raise InputError(where, "not a Terraform plan: the JSON document is not an object", "error")
    version = doc.get("format_version")
    if version is None:
        raise InputError(where, "not a Terraform plan: no format_version (give terraform show -json output)", "error")
    if str(version).split(".", 1)[0] != SUPPORTED_MAJOR:
        raise InputError(
            where, f"unsupported format_version {version!r}: only {SUPPORTED_MAJOR}.x plans are read", "error"
        )
    if "planned_values" not in doc and "resource_changes" not in doc:
        if "values" in doc:
            raise InputError(where, "this is a Terraform state, not a plan; scan the configuration instead", "error")
        raise InputError(where, "not a Terraform plan: no planned_values or resource_changes", "error")
    if not isinstance(doc.get("configuration"), dict):
        raise InputError(where, "the plan has no configuration section, so written arguments are unknown", "error")
    if "resource_changes" in doc and not isinstance(doc["resource_changes"], list):
        raise InputError(where, "not a Terraform plan: resource_changes is not a list", "error")
    for i, change in enumerate(doc.get("resource_changes") or []):
        body = change.get("change") if isinstance(change, dict) else None
        if not isinstance(body, dict):
            raise InputError(where, f"not a Terraform plan: resource_changes[{i}].change is not an object", "error")
        for key in ("after_unknown", "after_sensitive"):
            if isinstance(body.get("after"), dict) and not isinstance(body.get(key) or {}, dict):
                raise InputError(
                    where, f"not a Terraform plan: resource_changes[{i}].change.{key} is not an object", "error"
                )
    planned = doc.get("planned_values") or {}
    if not isinstance(planned, dict):
        raise InputError(where, "not a Terraform plan: planned_values is not an object", "error")
    pending = [("root_module", planned.get("root_module") or {})]
    while pending:
        name, module = pending.pop()
        children = module.get("child_modules") or [] if isinstance(module, dict) else None
        if not isinstance(children, list) or not all(isinstance(c, dict) for c in children):
            raise InputError(
                where, f"not a Terraform plan: planned_values {name}.child_modules is not a list of objects", "error"
            )
        pending.extend((str(c.get("address") or name), c) for c in children)


# --------------------------------------------------------------------------- #
# Configuration: module contexts and references


class _Context:
    """One module instance of the configuration: where its references lead."""

    def __init__(
        self,
        config: Mapping[str, Any],
        prefix: str,
        modules: set[str],
        variables: Mapping[str, Any],
        parent: _Context | None = None,
        call: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.prefix = prefix  # "" or "module.aurora." or "module.x[0]."
        self.modules = modules  # module instance addresses present in the plan
        self.variables = variables  # root variable values of the plan
        self.parent = parent
        self.call = call or {}

    def child(self, name: str, index: str = "") -> list[_Context]:
        calls = self.config.get("module_calls") or {}
        call = calls.get(name)
        if not isinstance(call, dict):
            return []
        module = call.get("module") or {}
        base = f"{self.prefix}module.{name}"
        if index:
            prefixes = [references.module_prefix(self.prefix, name, index)]
        elif "count_expression" in call or "for_each_expression" in call:
            prefixes = sorted(
                f"{m}."
                for m in self.modules
                if m.startswith(f"{base}[") and "." not in m[len(base) :].split("]", 1)[-1]
            )
        else:
            prefixes = [references.module_prefix(self.prefix, name)]
        return [_Context(module, p, self.modules, self.variables, self, call) for p in prefixes]

    # The walk's view of this module (validator.sources.terraform.references.ModuleScope).
    def argument_references(self, name: str) -> Sequence[str] | None:
        expr = (self.call.get("expressions") or {}).get(name)
        return list(expr.get("references") or []) if isinstance(expr, dict) else None

    def instances(self, name: str, index: str) -> list[_Context]:
        return self.child(name, index)

    def output_references(self, name: str) -> Sequence[str]:
        outputs = self.config.get("outputs") or {}
        expr = (outputs.get(name) or {}).get("expression") or {}
        return list(expr.get("references") or [])

    def resolve(self, refs: Sequence[str]) -> tuple[str, ...]:
        """Full addresses of the resources ``refs`` lead to, in order, without repeats."""
        return references.resources(self, refs)

    def literal(self, expr: Mapping[str, Any] | None, depth: int = 0) -> tuple[bool | None, str]:
        """Whether an expression is written as a literal in a file: (True/False/None if unknown, via)."""
        if not isinstance(expr, Mapping) or not references.within_depth(depth):
            return False, ""
        refs = [str(r) for r in expr.get("references") or []]
        if not refs:
            return "constant_value" in expr, ""
        names = {tuple(references.parts(r)[:2]) for r in refs}
        if len(names) != 1:
            return False, ""
        pair = next(iter(names))
        if len(pair) != 2 or pair[0] != "var":
            return False, ""
        name = pair[1]
        if self.parent is not None:
            call_expr = (self.call.get("expressions") or {}).get(name)
            return self.parent.literal(call_expr, depth + 1)
        declared = (self.config.get("variables") or {}).get(name) or {}
        entry = self.variables.get(name)
        given = entry.get("value") if isinstance(entry, dict) else None
        if "default" in declared and declared["default"] is not None and declared["default"] == given:
            return True, f"default of var.{name}"
        return None, f"var.{name}"


def _module_addresses(doc: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    pending = [(doc.get("planned_values") or {}).get("root_module") or {}]
    while pending:
        module = pending.pop()
        for child in module.get("child_modules") or []:
            if child.get("address"):
                found.add(str(child["address"]))
            pending.append(child)
    for change in doc.get("resource_changes") or []:
        if change.get("module_address"):
            found.add(str(change["module_address"]))
    return found


def _context_for(root: _Context, module_address: str) -> _Context | None:
    """The configuration context of a module instance address such as ``module.a[0].module.b``."""
    ctx = root
    if not module_address:
        return ctx
    path = references.module_path(module_address)
    if path is None:
        return None
    for name, index in path:
        children = ctx.child(name, index)
        if not children:
            return None
        ctx = children[0]
    return ctx


def _config_resource(ctx: _Context, rtype: str, name: str) -> Mapping[str, Any]:
    for res in ctx.config.get("resources") or []:
        if res.get("mode", "managed") == "managed" and res.get("type") == rtype and res.get("name") == name:
            found: Mapping[str, Any] = res
            return found
    return {}


# --------------------------------------------------------------------------- #
# Values


def _merge_unknown(after: Any, marker: Any, unknown: Unknown) -> Any:
    """The planned value with Unknown where ``after_unknown`` marks it."""
    if marker is True:
        return unknown
    if isinstance(marker, list) and isinstance(after, list):
        return [_merge_unknown(a, m, unknown) for a, m in zip_longest(after, marker[: len(after)])]
    if isinstance(marker, dict) and isinstance(after, dict):
        merged = {k: _merge_unknown(v, marker.get(k), unknown) for k, v in after.items()}
        merged.update({k: unknown for k, m in marker.items() if m is True and k not in after})
        return merged
    return after


def _spread(raw: list[Any], refs: tuple[str, ...], reason: str) -> list[Any]:
    """Give each unknown item of a list its own reference when they pair up one to one."""
    holes = [i for i, item in enumerate(raw) if isinstance(item, Unknown)]
    if not holes or len(holes) != len(refs):
        return raw
    raw = list(raw)
    for i, ref in zip(holes, refs, strict=True):
        raw[i] = Unknown(reason, (ref,))
    return raw


@dataclass
class _Origins:
    """Where values are written: HCL records by address when a configuration directory is given."""

    hcl: dict[str, Record] = field(default_factory=dict)

    def record(self, address: str) -> Record | None:
        found = self.hcl.get(address)
        if found is None and address.endswith("]"):
            found = self.hcl.get(address.rsplit("[", 1)[0])
        return found


def _located(address: str) -> Location:
    return Location(via=address)


class _Builder:
    def __init__(self, doc: Mapping[str, Any], origins: _Origins) -> None:
        self.doc = doc
        self.origins = origins
        config = doc.get("configuration") or {}
        self.root = _Context(config.get("root_module") or {}, "", _module_addresses(doc), doc.get("variables") or {})

    # ---------------------------------------------------------------- records
    def records(self) -> list[Record]:
        out: list[Record] = []
        for change in self.doc.get("resource_changes") or []:
            if not isinstance(change, dict) or change.get("mode", "managed") != "managed":
                continue
            if change.get("type") not in MODEL_TYPES or change.get("deposed"):
                continue
            body = change.get("change") or {}
            actions = body.get("actions") or []
            after = body.get("after")
            if actions == ["delete"] or not isinstance(after, dict):
                continue
            ctx = _context_for(self.root, str(change.get("module_address") or ""))
            if ctx is None:
                continue
            conf = _config_resource(ctx, str(change["type"]), str(change.get("name")))
            out.append(
                self._record(
                    change, after, body.get("after_unknown") or {}, body.get("after_sensitive") or {}, ctx, conf
                )
            )
        return out

    def _record(
        self,
        change: Mapping[str, Any],
        after: Mapping[str, Any],
        unknown: Mapping[str, Any],
        sensitive: Mapping[str, Any],
        ctx: _Context,
        conf: Mapping[str, Any],
    ) -> Record:
        address = str(change["address"])
        hcl = self.origins.record(address)
        origin = hcl.origin if hcl else _located(address)
        rec = Record(str(change["type"]), address, origin, hcl.end_line if hcl else None)
        self._fill(rec, address, after, unknown, sensitive, conf.get("expressions") or {}, ctx, hcl)
        return rec

    def _fill(
        self,
        rec: Record,
        path: str,
        after: Mapping[str, Any],
        unknown: Mapping[str, Any],
        sensitive: Any,
        exprs: Mapping[str, Any],
        ctx: _Context,
        hcl: Record | None,
    ) -> None:
        names = list(after) + [k for k in unknown if k not in after]
        for name in names:
            value = after.get(name)
            marker = unknown.get(name)
            expr = exprs.get(name)
            written = name in exprs
            if written and isinstance(expr, list):
                self._blocks(rec, path, name, value, marker, sensitive, expr, ctx, hcl)
                continue
            if written and _block_list(value):
                # An attribute written in block syntax (e.g. a security group's ingress).
                exprs_of = _as_block_exprs(expr, value)
                self._blocks(rec, path, name, value, marker, sensitive, exprs_of, ctx, hcl)
                continue
            if not written and (marker is True or value is None):
                continue  # left out and computed or null: the mapping's provider default applies
            if not written and _block_list(value):
                continue  # nested blocks the configuration does not write (computed)
            rec.attrs[name] = self._value(
                rec.address,
                f"{path}.{name}",
                name,
                value,
                marker,
                expr if written else None,
                written,
                ctx,
                hcl,
                sensitive,
            )
            if written:
                rec.written.add(name)

    def _blocks(
        self,
        rec: Record,
        path: str,
        name: str,
        value: Any,
        marker: Any,
        sensitive: Any,
        exprs: list[Any],
        ctx: _Context,
        hcl: Record | None,
    ) -> None:
        rec.written.add(name)
        items = value if isinstance(value, list) else []
        markers = marker if isinstance(marker, list) else [marker] * len(items)
        sens = sensitive.get(name) if isinstance(sensitive, dict) else None
        sens_items = sens if isinstance(sens, list) else [sens] * len(items)
        hcl_blocks = (hcl.blocks.get(name) or []) if hcl else []
        pairing = _pair(items, [e for e in exprs if isinstance(e, dict)])
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            j = pairing.get(i)
            block_expr = exprs[j] if j is not None and j < len(exprs) and isinstance(exprs[j], dict) else {}
            block_hcl = hcl_blocks[j] if j is not None and j < len(hcl_blocks) else None
            if block_hcl is not None:
                origin = block_hcl.origin
            elif hcl is not None:
                origin = hcl.origin
            else:
                origin = _located(rec.address)
            child = Record(name, rec.address, origin, block_hcl.end_line if block_hcl else None)
            m = markers[i] if i < len(markers) and isinstance(markers[i], dict) else {}
            s = sens_items[i] if i < len(sens_items) else None
            self._fill(child, f"{path}.{name}", item, m, s, block_expr, ctx, block_hcl)
            rec.blocks.setdefault(name, []).append(child)

    def _value(
        self,
        address: str,
        path: str,
        name: str,
        value: Any,
        marker: Any,
        expr: Any,
        written: bool,
        ctx: _Context,
        hcl: Record | None,
        sensitive: Any,
    ) -> Value[Any]:
        hcl_value = hcl.attrs.get(name) if hcl else None
        if hcl_value is not None:
            origin = hcl_value.origin
        elif hcl is not None:
            origin = hcl.origin
        else:
            origin = _located(address)
        refs = ctx.resolve((expr or {}).get("references") or []) if written else ()
        if not refs and hcl_value is not None:
            refs = _hcl_refs(hcl_value.raw)
        reason = f"{path} is known only after apply"
        raw = _merge_unknown(value, marker, Unknown(reason, refs))
        if isinstance(raw, Unknown) and hcl_value is not None and isinstance(hcl_value.raw, _STRUCTURED_UNKNOWN):
            # The configuration tells which attribute it reads, or the structure a policy
            # jsonencode()s: what the plan cannot, for a value unknown on both sides.
            raw = hcl_value.raw
        if isinstance(raw, list):
            raw = _spread(raw, refs, reason)
        elif isinstance(raw, str) and refs:
            raw = RefStr(raw, refs)
        if not written:
            return Value(raw, origin, defaulted=True)
        if raw is None and _is_sensitive(sensitive, name):
            raw = "(sensitive)"  # the plan redacts a value the configuration sets
        if hcl_value is not None:
            return Value(raw, origin, literal=hcl_value.literal)
        literal, via = ctx.literal(expr)
        if literal and via and hcl is None:
            origin = Location(via=via)  # e.g. "default of var.aurora_root_password", as the HCL source says
        if literal is None and name in PROVENANCE_ATTRS and not isinstance(raw, Unknown):
            raw = Unknown(
                f"{name} comes from {via}, whose value the plan received from outside the configuration "
                "(a tfvars file, -var or the environment); give the configuration directory to tell "
                "whether it is written as a literal"
            )
        return Value(raw, origin, literal=bool(literal))

    # --------------------------------------------------------------- provider
    def provider(self) -> ProviderSettings:
        configs = (self.doc.get("configuration") or {}).get("provider_config") or {}
        entry = configs.get("aws") if isinstance(configs, dict) else None
        if not isinstance(entry, dict):
            return ProviderSettings()
        origin = Location(via='provider "aws"')
        constraints: list[Value[Any]] = []
        if entry.get("version_constraint"):
            constraints.append(Value(str(entry["version_constraint"]), origin))
        region_expr = (entry.get("expressions") or {}).get("region")
        region: Value[Any] | None = None
        if isinstance(region_expr, dict):
            if "constant_value" in region_expr:
                region = Value(region_expr["constant_value"], origin, literal=True)
            else:
                refs = [str(r) for r in region_expr.get("references") or []]
                var_names = {tuple(references.parts(r)[:2]) for r in refs}
                value = None
                if len(var_names) == 1:
                    head, name = next(iter(var_names))
                    entry_var = (self.doc.get("variables") or {}).get(name) if head == "var" else None
                    value = entry_var.get("value") if isinstance(entry_var, dict) else None
                region = Value(
                    value
                    if isinstance(value, str)
                    else Unknown("the provider's region is an expression the plan does not evaluate"),
                    origin,
                )
        return ProviderSettings(region=region, constraints=constraints, origin=origin)


def _block_list(value: Any) -> TypeGuard[list[dict[str, Any]]]:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _as_block_exprs(expr: Any, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-block expressions for an attribute written in block syntax.

    The configuration shows such an attribute as one expression: a constant list
    of objects (null for arguments left out) or, when any block refers to
    something, only the references of all blocks together.
    """
    if isinstance(expr, dict) and isinstance(expr.get("constant_value"), list):
        items = [item if isinstance(item, dict) else {} for item in expr["constant_value"]]
        return [{k: {"constant_value": v} for k, v in item.items() if v is not None} for item in items]
    refs = list(expr.get("references") or []) if isinstance(expr, dict) else []
    return [{k: {"references": refs} for k, v in item.items() if v not in (None, "", [], False)} for item in value]


def _is_sensitive(sensitive: Any, name: str) -> bool:
    return isinstance(sensitive, dict) and sensitive.get(name) is True


def _hcl_refs(raw: Any) -> tuple[str, ...]:
    """The resources an HCL value (or the items of a list value) refers to."""
    found: list[str] = []
    for item in raw if isinstance(raw, list) else [raw]:
        found.extend(r for r in refs_of(item) if r not in found)
    return tuple(found)


def _pair(items: Sequence[Any], exprs: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """Pair planned nested blocks with configuration blocks by their constant values.

    Terraform may store repeated blocks as a set, so the plan's order need not be
    the configuration's. Each planned block gets the configuration block whose
    literal arguments agree with it most; ties keep the order.
    """
    pairing: dict[int, int] = {}
    free = list(range(len(exprs)))
    for i, item in enumerate(items):
        if not free:
            break
        if not isinstance(item, dict):
            continue

        def score(j: int, item: Mapping[str, Any] = item, i: int = i) -> tuple[int, int]:
            agree = 0
            for key, e in exprs[j].items():
                if isinstance(e, dict) and "constant_value" in e:
                    agree += 1 if item.get(key) == e["constant_value"] else -1
            return agree, -abs(j - i)

        best = max(free, key=score)
        pairing[i] = best
        free.remove(best)
    return pairing


# --------------------------------------------------------------------------- #
# Entry points


def plan_records(
    doc: Mapping[str, Any], hcl_records: Mapping[str, Record] | None = None
) -> tuple[list[Record], ProviderSettings]:
    """Records and provider settings of a plan document (locations from ``hcl_records`` when given)."""
    builder = _Builder(doc, _Origins(dict(hcl_records or {})))
    return builder.records(), builder.provider()


def load_plan(
    path: Path,
    config_dir: Path | None = None,
    var_files: Sequence[Path] = (),
    cli_vars: Mapping[str, str] | None = None,
) -> PlanLoad:
    """Read a plan JSON file into a Deployment of kind "plan".

    With ``config_dir`` (the root module the plan was made from), values are
    located at their file and line, inline suppressions apply, and whether a
    value is a literal follows the HCL source (tfvars files included).
    """
    path = Path(path)
    doc = read_plan(path)
    remember_sensitive(doc)
    if config_dir is None:
        records, provider = _plan_records_of(doc, path)
        deployment = build_deployment("plan", str(path), records, provider)
        return PlanLoad(deployment)
    return _with_configuration(doc, path, Path(config_dir), var_files, cli_vars or {})


def _plan_records_of(
    doc: Mapping[str, Any], path: Path, hcl_records: Mapping[str, Record] | None = None
) -> tuple[list[Record], ProviderSettings]:
    try:
        return plan_records(doc, hcl_records)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        # Valid JSON of another shape (a list where terraform writes an object...): one line, not a traceback.
        raise InputError(str(path), f"not a Terraform plan of the expected shape ({type(exc).__name__} while "
                         "reading it); give the output of terraform show -json", "error") from None


def remember_sensitive(doc: Mapping[str, Any]) -> None:
    """Remember every value the plan marks sensitive, so that no output shows it."""
    pairs: list[tuple[Any, Any]] = []
    for change in doc.get("resource_changes") or [] if isinstance(doc.get("resource_changes"), list) else []:
        body = change.get("change") if isinstance(change, dict) else None
        if isinstance(body, dict):
            pairs.append((body.get("after"), body.get("after_sensitive")))
            pairs.append((body.get("before"), body.get("before_sensitive")))
    pending = [(doc.get("planned_values") or {}).get("root_module")] if isinstance(doc.get("planned_values"), dict) \
        else []
    while pending:
        module = pending.pop()
        if not isinstance(module, dict):
            continue
        for resource in module.get("resources") or [] if isinstance(module.get("resources"), list) else []:
            if isinstance(resource, dict):
                pairs.append((resource.get("values"), resource.get("sensitive_values")))
        children = module.get("child_modules")
        pending.extend(children if isinstance(children, list) else [])
    variables = doc.get("variables")
    declared = ((doc.get("configuration") or {}).get("root_module") or {}).get("variables") \
        if isinstance(doc.get("configuration"), dict) else None
    if isinstance(variables, dict) and isinstance(declared, dict):
        for name, decl in declared.items():
            if isinstance(decl, dict) and decl.get("sensitive") is True and isinstance(variables.get(name), dict):
                redact.remember(variables[name].get("value"))
    while pairs:
        value, mask = pairs.pop()
        if mask is True:
            redact.remember(value)
        elif isinstance(mask, dict) and isinstance(value, dict):
            pairs.extend((value.get(k), m) for k, m in mask.items())
        elif isinstance(mask, list) and isinstance(value, list):
            pairs.extend(zip(value, mask, strict=False))


def _with_configuration(
    doc: Mapping[str, Any], path: Path, config_dir: Path, var_files: Sequence[Path], cli_vars: Mapping[str, str]
) -> PlanLoad:
    from validator.sources.terraform.hcl import load_root

    loaded = load_root(config_dir, var_files=var_files, cli_vars=cli_vars)
    overrides = _plan_inputs(doc, loaded, cli_vars)
    if overrides:
        loaded = load_root(config_dir, var_files=var_files, cli_vars={**cli_vars, **overrides})
    module = loaded.root_module
    hcl_records = {r.address: r for r in module.records(MODEL_TYPES)} if module is not None else {}
    records, plan_provider = _plan_records_of(doc, path, hcl_records)
    provider = _provider_from_hcl(loaded.deployment, plan_provider)
    deployment = build_deployment("plan", str(config_dir), records, provider)
    deployment.suppressions.update(loaded.deployment.suppressions)
    return PlanLoad(deployment, list(loaded.errors))


def _plan_inputs(doc: Mapping[str, Any], loaded: Any, cli_vars: Mapping[str, str]) -> dict[str, str]:
    """Root variables the plan was given that the configuration alone does not produce (-var, TF_VAR_)."""
    module = loaded.root_module
    if module is None:
        return {}
    out: dict[str, str] = {}
    for name, entry in (doc.get("variables") or {}).items():
        if name in cli_vars or name not in module.variables or not isinstance(entry, dict):
            continue
        given = entry.get("value")
        if given is None:
            continue
        current = module.var(name).value
        if current == given:
            continue
        out[name] = given if isinstance(given, str) else json.dumps(given)
    return out


def _provider_from_hcl(hcl_deployment: Any, plan_provider: ProviderSettings) -> ProviderSettings:
    """The provider as the HCL source locates it, with the plan's region when HCL cannot evaluate it."""
    p = hcl_deployment.provider
    if p is None:
        return plan_provider
    region = None if p.region.defaulted else p.region
    planned = plan_provider.region
    if region is not None and not region.known and planned is not None and planned.known:
        region = Value(planned.raw, region.origin, literal=region.literal)
    constraints = [] if p.version_constraint.defaulted else [p.version_constraint]
    if not constraints:
        constraints = plan_provider.constraints
    return ProviderSettings(region=region, constraints=constraints, origin=p.origin)
