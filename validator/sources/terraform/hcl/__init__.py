"""Read a Terraform root module (HCL) into the model.

    loaded = load_root(Path("reference/terraform"), var_files=[...], cli_vars={...})
    loaded.deployment  # validator.model.Deployment, kind "hcl"
    loaded.errors      # InputError per file that did not parse, module not found, ...
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator import limits, redact
from validator.errors import InputError
from validator.model import Deployment, Location, Unknown, Value
from validator.sources.terraform.hcl import syntax as s
from validator.sources.terraform.hcl.evaluate import Evaluator
from validator.sources.terraform.hcl.module import (
    ModuleInstance,
    ParsedFiles,
    Traced,
    _NoNames,
    convert_input,
    tf_files_in,
)
from validator.sources.terraform.hcl.provenance import Prov, Tracer
from validator.sources.terraform.mapping import MODEL_TYPES, ProviderSettings, build_deployment

__all__ = ["LoadResult", "load_root", "tf_files_in"]


@dataclass
class LoadResult:
    deployment: Deployment
    errors: list[InputError] = field(default_factory=list)
    root_module: ModuleInstance | None = None


def load_root(
    root: Path,
    var_files: Sequence[Path] = (),
    cli_vars: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    files: ParsedFiles | None = None,
) -> LoadResult:
    """Evaluate the root module at ``root`` and everything it calls."""
    root = Path(root)
    env = os.environ if env is None else env
    files = files or ParsedFiles(root)
    errors_before = len(files.errors)
    if not root.is_dir():
        raise InputError(str(root), "not a directory", "error")
    if not files.tf_files(root):
        raise InputError(str(root), "no .tf files in this directory", "error")

    with limits.scan() as budget:
        module = ModuleInstance(files, root, "", {})
        # Nothing is evaluated before the inputs are in place; they need the variable declarations.
        module.inputs.update(_root_inputs(module, files, root, var_files, cli_vars or {}, env))

        records = list(module.records(MODEL_TYPES))
        provider = _provider_settings(module)
        deployment = build_deployment("hcl", str(root), records, provider)
        seen: set[tuple[str, int | None]] = set()
        for instance in module.walk():
            instance.check_variables()
            deployment.suppressions.update(instance.suppressions)
            for call in instance.module_calls.values():
                key = (call.origin.file or "", call.origin.line)
                if key not in seen:  # every instance of a module meets the same calls
                    seen.add(key)
                    deployment.module_calls.append(call)
    if budget.exhausted:
        files.report(InputError(".", f"{budget.reason}; the values it did not reach are unresolved", "error"))
    return LoadResult(deployment, files.errors[errors_before:], module)


def _root_inputs(
    declared: ModuleInstance,
    files: ParsedFiles,
    root: Path,
    var_files: Sequence[Path],
    cli_vars: Mapping[str, str],
    env: Mapping[str, str],
) -> dict[str, Traced]:
    """Root variable values by Terraform's precedence (later wins)."""
    values: dict[str, Traced] = {}
    for key, raw in env.items():
        if key.startswith("TF_VAR_"):
            name = key[len("TF_VAR_"):]
            if name in declared.variables:
                values[name] = Traced(
                    convert_input(raw, declared.variables[name]), Location(via=f"environment {key}")
                )
    # The root's one listing: a name it does not hold is "not found", as describe_non_file says.
    listing = files.entries(root)
    auto = [
        "terraform.tfvars",
        "terraform.tfvars.json",
        *sorted(name for name in listing if name.endswith((".auto.tfvars", ".auto.tfvars.json"))),
    ]
    readable: list[Path] = []
    for name in auto:
        entry = listing.get(name)
        problem = limits.describe_entry(entry) if entry is not None else "not found"
        if problem is None:
            readable.append(root / name)
        elif problem != "not found":  # terraform refuses a terraform.tfvars directory too
            files.report(InputError(files.rel(root / name), f"is {problem}, not a variable file", "error"))
    for path in readable:
        _read_tfvars(path, files, declared, values)
    for path in [Path(p) for p in var_files]:
        problem = limits.describe_non_file(path)
        if problem is not None:
            message = "variable file not found" if problem == "not found" else f"variable file is {problem}"
            files.report(InputError(str(path), message, "error"))
            continue
        _read_tfvars(path, files, declared, values)
    for name, raw in cli_vars.items():
        if name not in declared.variables:  # Terraform refuses these too
            files.report(InputError(f"--var {name}", f"{root} declares no variable {name!r}", "error"))
            continue
        values[name] = Traced(convert_input(raw, declared.variables.get(name)), Location(via=f"-var {name}"))
    return values


def _read_tfvars(path: Path, files: ParsedFiles, declared: ModuleInstance, values: dict[str, Traced]) -> None:
    if path.suffix == ".json":
        _read_tfvars_json(path, files, values)
        return
    pf = files.parse(path)
    if pf is None:
        return
    ev = Evaluator(_NoNames())
    for name, attr in pf.body.attributes.items():
        value = ev.eval(attr.expr)
        if redact.is_secret_name(name):
            redact.remember(value)
        via = f"{pf.rel} sets {name}"
        prov = Tracer(ev, pf.rel).prov(attr.expr)
        # The entry's own line, so a message points at "name = ..." even for a multi-line value.
        prov = Prov(Location(pf.rel, attr.line, via=via), prov.literal and not isinstance(value, Unknown),
                    prov.parts, prov.encoded)
        values[name] = Traced(value, prov.origin, prov.literal, prov)


def _read_tfvars_json(path: Path, files: ParsedFiles, values: dict[str, Traced]) -> None:
    rel = files.rel(path)
    try:
        text = s.read_text(path, rel)
        doc = limits.loads_json(text, rel, "parse error")
    except InputError as exc:
        files.errors.append(exc)
        return
    except ValueError as exc:
        files.errors.append(InputError(f"{rel}:{getattr(exc, 'lineno', 1)}", str(exc).split(":")[0], "parse error"))
        return
    if not isinstance(doc, dict):
        files.errors.append(InputError(rel, "a variable file holds a JSON object", "parse error"))
        return
    lines = text.splitlines()
    for name, value in doc.items():
        if redact.is_secret_name(name):
            redact.remember(value)
        line = next((n for n, t in enumerate(lines, 1) if f'"{name}"' in t), 1)
        values[name] = Traced(value, Location(rel, line, via=f"{rel} sets {name}"), True)


def _provider_settings(module: ModuleInstance) -> ProviderSettings:
    """The default AWS provider's region and every module's version constraint."""
    constraints: list[Value[Any]] = []
    for instance in module.walk():
        for block in instance.terraform_blocks:
            for rp in block.body.blocks_of("required_providers"):
                attr = rp.body.attributes.get("aws")
                if attr is None:
                    continue
                t = instance.trace(attr.expr, block.file)
                version = t.value.get("version") if isinstance(t.value, dict) else None
                if version is not None:
                    constraints.append(Value(version, Location(block.file, attr.line)))
    region: Value[Any] | None = None
    origin = None
    for block in module.providers:
        if block.labels[0] != "aws" or "alias" in block.body.attributes:
            continue
        origin = module.loc(block.file, block.line)
        attr = block.body.attributes.get("region")
        if attr is not None:
            t = module.trace(attr.expr, block.file)
            region = Value(t.value, t.origin, literal=t.literal)
    return ProviderSettings(region=region, constraints=constraints, origin=origin)
