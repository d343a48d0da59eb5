"""Terraform modules: variables, locals, resources, module calls and outputs.

A :class:`ModuleInstance` is one use of a module directory (the root, or a
``module`` block). It answers the names an expression reads (``var.x``,
``local.y``, ``module.m.out``, ``aws_subnet.a``) and remembers where each
value came from, so findings point at the line that sets it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from validator import facts, limits, redact
from validator.errors import InputError
from validator.model import AttributeUnknown, Location, ModuleCall, Unknown, UnknownList, Value
from validator.sources.terraform import references
from validator.sources.terraform.hcl import syntax as s
from validator.sources.terraform.hcl import types
from validator.sources.terraform.hcl.evaluate import (
    EvalError,
    Evaluator,
    RefStr,
    ResourceObj,
)
from validator.sources.terraform.hcl.provenance import Prov, Tracer, location
from validator.sources.terraform.hcl.values import to_number
from validator.sources.terraform.records import DYNAMIC_UNKNOWN, Record

if TYPE_CHECKING:
    from validator.sources.terraform.hcl.cache import ParseCache

# terraform reads count into a Go int: a larger whole number is an error, not a huge count.
TERRAFORM_MAX_INT = 2**63 - 1
# The one argument of a record standing for dynamic blocks that cannot be expanded.

# Resource attributes that equal another argument once applied.
ID_ALIASES = {
    "aws_rds_cluster": {"id": "cluster_identifier"},
    "aws_rds_cluster_instance": {"id": "identifier"},
    "aws_db_subnet_group": {"id": "name"},
    "aws_db_parameter_group": {"id": "name"},
    "aws_rds_cluster_parameter_group": {"id": "name"},
}


@dataclass
class Traced:
    """A value with where it came from and whether it was written as a literal."""

    value: Any
    origin: Location
    literal: bool = False
    prov: Prov | None = None  # per-element provenance, when the value is a list or an object

    @property
    def provenance(self) -> Prov:
        return self.prov if self.prov is not None else Prov(self.origin, self.literal)


@dataclass
class ParsedFiles:
    """Parsed files, cached so each file is parsed once per root (and, with a cache, once per content).

    Each directory is listed once per root (one ``os.scandir``) and resolved once: the
    instances of a module, and the checks before it is read, share what was found.
    """

    root: Path
    errors: list[InputError] = field(default_factory=list)
    _files: dict[Path, s.ParsedFile | None] = field(default_factory=dict)
    cache: ParseCache | None = None  # shared by the roots of a run, and on disk across runs
    _listings: dict[Path, dict[str, os.DirEntry[str]]] = field(default_factory=dict, repr=False, compare=False)
    _resolved: dict[Path, Path] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def _resolved_root(self) -> Path:
        return self.resolved(self.root)

    @cached_property
    def _root_prefix(self) -> str:
        root = str(self._resolved_root)
        return root if root.endswith("/") else root + "/"

    def rel(self, path: Path) -> str:
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # a symbolic link loop: name the link itself
            resolved = Path(os.path.abspath(path))
        return self._rel(resolved)

    def _rel(self, resolved: Path) -> str:
        text = str(resolved)
        if text.startswith(self._root_prefix) and os.sep == "/":
            return text[len(self._root_prefix):]
        try:
            return resolved.relative_to(self._resolved_root).as_posix()
        except ValueError:
            return os.path.relpath(resolved, self._resolved_root).replace(os.sep, "/")

    def resolved(self, directory: Path) -> Path:
        """``directory.resolve()``, once per directory."""
        found = self._resolved.get(directory)
        if found is None:
            found = self._resolved[directory] = directory.resolve()
        return found

    def resolve_below(self, directory: Path, rel: str) -> Path:
        """``(directory / rel).resolve()``, from the directory's resolved path; remembered as its own
        resolved form (a resolved path resolves to itself)."""
        found = limits.resolve_below(self.resolved(directory), rel)
        self._resolved.setdefault(found, found)
        return found

    def report(self, error: InputError) -> None:
        """Record an input error once (every instance of a module meets the same ones)."""
        if str(error) not in {str(e) for e in self.errors}:
            self.errors.append(error)

    def parse(self, path: Path) -> s.ParsedFile | None:
        return self._parse(path, path.resolve())

    def _parse(self, path: Path, key: Path) -> s.ParsedFile | None:
        if key not in self._files:
            try:
                rel = self._rel(key)
                self._files[key] = self.cache.parse(path, rel) if self.cache else s.parse_file(path, rel)
            except InputError as exc:
                self.errors.append(exc)
                self._files[key] = None
        return self._files[key]

    def entries(self, directory: Path) -> dict[str, os.DirEntry[str]]:
        """The entries of ``directory`` by name, in name order, listed once (none when it is no directory)."""
        found = self._listings.get(directory)
        if found is None:
            found = self._listings[directory] = _list(directory)
        return found

    def _tf_entries(self, directory: Path) -> list[tuple[Path, os.DirEntry[str]]]:
        # What directory.glob("*.tf") finds, sorted: files of every kind, directories too.
        return [(directory / name, entry) for name, entry in self.entries(directory).items() if name.endswith(".tf")]

    def tf_files(self, directory: Path) -> list[Path]:
        """:func:`tf_files_in`, from the directory's one listing."""
        return [path for path, entry in self._tf_entries(directory) if limits.describe_entry(entry) is None]

    def module_files(self, directory: Path) -> list[s.ParsedFile]:
        regular: list[tuple[Path, os.DirEntry[str]]] = []
        for path, entry in self._tf_entries(directory):
            problem = limits.describe_entry(entry)
            if problem is None:
                regular.append((path, entry))
            else:  # terraform refuses these too; say so rather than skip them
                where = os.path.relpath(os.path.abspath(path), os.path.abspath(self.root)).replace(os.sep, "/")
                self.report(InputError(where, f"is {problem}, not a Terraform file", "error"))
        parsed = []
        for path, entry in regular:
            # A file that is no symbolic link resolves to its name in the resolved directory.
            key = path.resolve() if entry.is_symlink() else self.resolved(directory) / entry.name
            pf = self._parse(path, key)
            if pf is not None:
                parsed.append(pf)
        return parsed


def _list(directory: Path) -> dict[str, os.DirEntry[str]]:
    """A directory's entries by name, sorted, as ``Path.glob`` sees them: none for what is no
    directory or cannot be listed."""
    if not directory.is_dir():
        return {}
    try:
        with os.scandir(directory) as it:
            found = list(it)
    except PermissionError:
        return {}
    return {entry.name: entry for entry in sorted(found, key=lambda entry: entry.name)}


def tf_files_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.tf") if limits.describe_non_file(p) is None)


class ModuleInstance:
    """One instance of a module: the root, or a module call with its inputs."""

    # The directories of the modules that called this one, outermost first (to refuse cycles).
    ancestors: tuple[Path, ...] = ()

    def __init__(
        self,
        files: ParsedFiles,
        directory: Path,
        prefix: str,
        inputs: dict[str, Traced],
        depth: int = 0,
        call_origin: Location | None = None,
    ) -> None:
        self.files = files
        self.directory = directory
        self.prefix = prefix  # "" for the root, "module.aurora." for a child
        self.inputs = inputs
        self.depth = depth
        self.call_origin = call_origin
        self.variables: dict[str, s.Block] = {}
        self.locals: dict[str, s.Attribute] = {}
        self.local_files: dict[str, str] = {}
        self.outputs: dict[str, s.Block] = {}
        self.resources: dict[str, s.Block] = {}  # "type.name"
        self.data: dict[str, s.Block] = {}
        self.calls: dict[str, s.Block] = {}
        self.terraform_blocks: list[s.Block] = []
        self.providers: list[s.Block] = []
        self.suppressions: dict[tuple[str, int], list[tuple[str, str]]] = {}
        self._locals_cache: dict[str, Any] = {}
        self._locals_busy: set[str] = set()
        self._local_provs: dict[str, Prov] = {}
        self._vars: dict[str, Traced] = {}
        self._output_traces: dict[str, Traced] = {}
        self._children: dict[str, list[tuple[Any, ModuleInstance]] | Unknown] = {}
        self._instances: dict[str, Any] = {}
        self._attr_cache: dict[tuple[str, str], Any] = {}
        # What became of each module call: read (local or installed) or unread, and why.
        self.module_calls: dict[str, ModuleCall] = {}
        self.evaluator = Evaluator(self)
        for pf in files.module_files(directory):
            self._collect(pf)

    # ------------------------------------------------------------------ load
    def _collect(self, pf: s.ParsedFile) -> None:
        for line, items in pf.suppressions.items():
            self.suppressions[(pf.rel, line)] = items
        for block in pf.body.blocks:
            kind, labels = block.type, block.labels
            if kind == "variable" and labels:
                self.variables[labels[0]] = block
            elif kind == "locals":
                for name, attr in block.body.attributes.items():
                    self.locals[name] = attr
                    self.local_files[name] = pf.rel
            elif kind == "output" and labels:
                self.outputs[labels[0]] = block
            elif kind == "resource" and len(labels) == 2:
                self.resources[f"{labels[0]}.{labels[1]}"] = block
            elif kind == "data" and len(labels) == 2:
                self.data[f"{labels[0]}.{labels[1]}"] = block
            elif kind == "module" and labels:
                self.calls[labels[0]] = block
            elif kind == "terraform":
                self.terraform_blocks.append(block)
            elif kind == "provider" and labels:
                self.providers.append(block)

    @property
    def label(self) -> str:
        return self.prefix.rstrip(".") or "the root module"

    # ------------------------------------------------------------ provenance
    def loc(self, file: str, line: int, via: str | None = None) -> Location:
        return location(file, line) if via is None else Location(file=file, line=line, via=via)

    def trace(self, expr: s.Expr, file: str, ev: Evaluator | None = None) -> Traced:
        """Evaluate ``expr`` and find the line that really sets its value."""
        ev = ev or self.evaluator
        if type(expr) is s.Literal:  # written here, as the tracer would say
            value = ev.eval(expr)
            prov = Prov(location(file, expr.line), True)
        else:
            outer, ev.memo = ev.memo, {}  # the tracer reads back what this evaluation found
            try:
                value = ev.eval(expr)
                prov = Tracer(ev, file).prov(expr)
            finally:
                ev.memo = outer
        # A null or unknown value holds nothing written anywhere, even when it is the literal null.
        literal = prov.literal and value is not None and not isinstance(value, Unknown)
        return Traced(value, prov.origin, literal, prov)

    def trace_name(self, name: str, line: int) -> tuple[Any, Prov] | None:
        """The value of ``var.x``, ``local.y`` or ``module.m.out`` and where it was written."""
        head, _, rest = name.partition(".")
        if head == "var" and rest in self.variables:
            t = self.var(rest)
            return t.value, t.provenance
        if head == "local" and rest in self.locals:
            if rest in self._local_provs:
                return self._locals_cache.get(rest), self._local_provs[rest]
            if rest in self._locals_busy:
                return None
            self._locals_busy.add(rest)
            try:
                prov = Tracer(self.evaluator, self.local_files[rest]).prov(self.locals[rest].expr)
            finally:
                self._locals_busy.discard(rest)
            self._local_provs[rest] = prov
            return self.local(rest), prov
        if head == "module":
            mod, _, out = rest.partition(".")
            children = self.children(mod) if mod in self.calls else None
            if isinstance(children, list) and len(children) == 1 and children[0][0] is None:
                child = children[0][1]
                block = child.outputs.get(out)
                if block is not None and "value" in block.body.attributes:
                    if out not in child._output_traces:
                        child._output_traces[out] = child.trace(block.body.attributes["value"].expr, block.file)
                    t = child._output_traces[out]
                    return t.value, t.provenance
        return None

    # ---------------------------------------------------------------- names
    def lookup(self, name: str, line: int) -> Any:
        head, _, rest = name.partition(".")
        if head == "var":
            if rest not in self.variables:
                raise EvalError(f"var.{rest} is not declared in {self.label}")
            return self.var(rest).value
        if head == "local":
            return self.local(rest)
        if head == "module":
            mod, _, out = rest.partition(".")
            return self.module_output(mod, out)
        if head == "data":
            return self.data_value(rest)
        if head == "path":
            if rest == "module":
                return self.files.rel(self.directory) or "."
            if rest in ("root", "cwd"):
                return "."
            raise EvalError(f"unknown path.{rest}")
        if head == "terraform" and rest == "workspace":
            return "default"
        if head in ("count", "each", "self"):
            return Unknown(f"{name} is used outside a resource that defines it")
        if name in self.resources:
            return self.resource_value(name)
        if rest and f"{head}.{rest}" not in self.resources and head.startswith(("aws_", "random_", "tls_")):
            raise EvalError(f"reference to undeclared resource {head}.{rest}")
        raise EvalError(f"unknown name {name}")

    def data_value(self, rest: str) -> Any:
        """``data.TYPE.NAME[.ATTR]``: read from AWS at plan time, except attributes that echo arguments."""
        unknown = Unknown(f"data.{rest} is read from AWS at plan time", (f"{self.prefix}data.{rest}",))
        parts = rest.split(".")
        key = ".".join(parts[:2])
        block = self.data.get(key)
        data_type = parts[0]
        known_type = any(t == data_type for t, _ in facts.DATA_ECHOES) or any(
            t == data_type for t, _ in facts.DISTINCT_LISTS)
        if block is None or len(parts) not in (2, 3) or not known_type:
            return unknown
        if "count" in block.body.attributes or "for_each" in block.body.attributes:
            return unknown
        address = f"{self.prefix}data.{key}"

        def get(attribute: str) -> Any:
            reason = f"data.{key}.{attribute} is read from AWS at plan time"
            refs = (f"{address}.{attribute}",)
            if (data_type, attribute) in facts.DISTINCT_LISTS:
                return UnknownList(reason, refs)
            echo = facts.DATA_ECHOES.get((data_type, attribute))
            attr = block.body.attributes.get(echo.argument) if echo else None
            if attr is not None:
                written = self.evaluator.eval(attr.expr)
                if facts.data_echo(data_type, attribute, written):
                    return RefStr(written, (address,))
                if isinstance(written, str):
                    reason = f"{reason} (version {written!r} lets AWS choose the version found)"
            return Unknown(reason, refs)

        obj = ResourceObj(address, get)
        return obj if len(parts) == 2 else obj.attr(parts[2])

    def var(self, name: str) -> Traced:
        """The value of ``var.name``, converted to its declared type (cached)."""
        if name not in self._vars:
            self._vars[name] = Traced(Unknown(f"var.{name} depends on itself"), self.loc("", 0))
            self._vars[name] = self._variable(name)
            if self._sensitive_variable(name):
                redact.remember(self._vars[name].value)
        return self._vars[name]

    def _sensitive_variable(self, name: str) -> bool:
        """Declared ``sensitive = true``, or named like a password: its value never reaches any output."""
        block = self.variables.get(name)
        flag = block.body.attributes.get("sensitive") if block is not None else None
        return redact.is_secret_name(name) or (
            flag is not None and isinstance(flag.expr, s.Literal) and flag.expr.value in (True, "true")
        )

    def _variable(self, name: str) -> Traced:
        block = self.variables[name]
        given = self.inputs.get(name)
        if given is not None and given.value is None and _non_nullable(block):
            given = None  # nullable = false: a null value means the default
        if given is None:
            given = self._default(name, block)
        ty = self.var_type(name)
        if ty is None or isinstance(given.value, Unknown):
            return given
        try:
            value = types.convert(given.value, ty)
        except types.Undetermined as exc:
            return Traced(Unknown(f"the value of var.{name} as {ty} is not determined statically: {exc}"),
                          given.origin)
        except types.ConversionError as exc:
            declared = f"{block.file}:{block.line}"
            where = str(given.origin) if given.origin.file else declared
            if given.origin.via and not given.origin.file:
                where = given.origin.via
            self.files.report(InputError(
                where, f"Invalid value for input variable var.{name} declared at {declared}: {exc}", "error"))
            return Traced(Unknown(f"the value of var.{name} does not convert to its type: {exc}"), given.origin)
        prov = _defaults_provenance(given.provenance, given.value, ty, block.file, f"the type of var.{name}")
        if _has_set(ty):
            prov = prov.flat()
        return Traced(value, given.origin, given.literal, prov)

    def _default(self, name: str, block: s.Block) -> Traced:
        default = block.body.attributes.get("default")
        if default is not None:
            t = self.trace(default.expr, block.file, Evaluator(_NoNames()))
            via = f"default of var.{name}"
            return Traced(t.value, Location(t.origin.file, t.origin.line, via=via), t.literal,
                          t.provenance.via(via))
        where = "no value was given" if not self.prefix else f"{self.label} does not set it"
        return Traced(Unknown(f"var.{name} has no default and {where}"), self.loc(block.file, block.line))

    def check_variables(self) -> None:
        """Convert every variable's value, as terraform does, so each invalid one is reported."""
        for name in self.variables:
            self.var(name)

    def var_type(self, name: str) -> types.Type | None:
        """The declared type of ``var.name`` (None when it declares none)."""
        attr = self.variables[name].body.attributes.get("type")
        if attr is None:
            return None
        try:
            return types.parse_type(attr.expr)
        except types.TypeSyntaxError as exc:
            self.files.report(InputError(f"{self.variables[name].file}:{exc.line}",
                                           f"invalid type for var.{name}: {exc}", "error"))
            return None

    def local(self, name: str) -> Any:
        if name not in self.locals:
            raise EvalError(f"local.{name} is not declared in {self.label}")
        if name in self._locals_cache:
            return self._locals_cache[name]
        if name in self._locals_busy:
            raise EvalError(f"local.{name} refers to itself")
        self._locals_busy.add(name)
        try:
            value = self.evaluator.eval(self.locals[name].expr)
        finally:
            self._locals_busy.discard(name)
        self._locals_cache[name] = value
        return value

    # -------------------------------------------------------------- modules
    def children(self, name: str) -> list[tuple[Any, ModuleInstance]] | Unknown:
        """The instances of module call ``name`` (several with count/for_each)."""
        if name in self._children:
            return self._children[name]
        block = self.calls.get(name)
        if block is None:
            result: list[tuple[Any, ModuleInstance]] | Unknown
            result = Unknown(f"module.{name} is not declared in {self.label}")
        else:
            self._children[name] = Unknown(f"module.{name} depends on its own outputs")
            result = self._instantiate(name, block)
        self._children[name] = result
        return result

    def _instantiate(self, name: str, block: s.Block) -> list[tuple[Any, ModuleInstance]] | Unknown:
        source_attr = block.body.attributes.get("source")
        source = self.evaluator.eval(source_attr.expr) if source_attr else None
        call_origin = self.loc(block.file, block.line)
        address = f"{self.prefix}module.{name}"
        version_attr = block.body.attributes.get("version")
        version = self.evaluator.eval(version_attr.expr) if version_attr else None
        call = ModuleCall(address, source if isinstance(source, str) else "", call_origin,
                          version if isinstance(version, str) else "")
        self.module_calls[name] = call
        if not isinstance(source, str):
            call.unread = f"module.{name} has no literal source, so its files cannot be found"
            return Unknown(f"module.{name} has no literal source")
        directory = self._module_dir(name, source, call_origin)
        if isinstance(directory, Unknown):
            if not source.startswith(("./", "../")):  # a missing local path is an input error instead
                call.unread = directory.reason
            return directory
        if not source.startswith(("./", "../")):
            call.installed_at = self.files.rel(directory)
        if self.depth >= limits.MAX_MODULE_DEPTH:
            self.files.report(
                InputError(str(call_origin), f"module nesting deeper than {limits.MAX_MODULE_DEPTH}", "error")
            )
            return Unknown(f"module.{name} is nested too deeply")
        here = self.files.resolved(self.directory)
        if directory in (*self.ancestors, here):
            self.files.report(InputError(
                str(call_origin), f"module.{name} source {source!r} calls a module that calls it: a cycle", "error"
            ))
            return Unknown(f"module.{name} calls itself (source {source!r})")
        out = []
        budget = limits.budget()
        for key, ev in self.expansions(block, f"module.{name}"):
            budget.module_instances += 1
            if budget.module_instances > limits.MAX_MODULE_INSTANCES:
                self.files.report(InputError(
                    str(call_origin),
                    f"more than {limits.MAX_MODULE_INSTANCES:,} module instances in one scan "
                    "(validator.limits.MAX_MODULE_INSTANCES); the rest are not read",
                    "error",
                ))
                return Unknown(
                    f"module.{name}: above the limit of module instances (validator.limits.MAX_MODULE_INSTANCES)"
                )
            inputs: dict[str, Traced] = {}
            for arg, attr in block.body.attributes.items():
                if arg in ("source", "version", "count", "for_each", "providers", "depends_on"):
                    continue
                inputs[arg] = self.trace(attr.expr, block.file, ev)
            prefix = references.module_prefix(self.prefix, name, references.instance_key(key))
            child = ModuleInstance(self.files, directory, prefix, inputs, self.depth + 1, call_origin)
            child.ancestors = (*self.ancestors, here)
            out.append((key, child))
        return out

    def _module_dir(self, name: str, source: str, origin: Location) -> Path | Unknown:
        if source.startswith(("./", "../")):
            shown = ("(a path holding a NUL)" if "\x00" in source else
                     repr(source) if len(source) <= 200 else f"(a path of {len(source):,} characters)")
            try:
                directory = self.files.resolve_below(self.directory, source)
                problem = limits.describe_non_file(directory)
            except (OSError, RuntimeError, ValueError) as exc:
                problem = "a symbolic link loop" if isinstance(exc, RuntimeError) else "not a usable path"
            if problem != "a directory":
                what = "not a directory" if problem in (None, "not found") else f"{problem}, not a directory"
                self.files.report(InputError(str(origin), f"module.{name} source {shown} is {what}", "error"))
                state = "does not exist" if problem == "not found" else "is not a readable directory"
                return Unknown(f"module.{name} source {shown} {state}")
            if not self.files.tf_files(directory):
                self.files.report(
                    InputError(str(origin), f"module.{name} source {source!r} has no .tf files", "error")
                )
                return Unknown(f"module.{name} source {source!r} has no .tf files")
            return directory
        installed = self._installed_module(name)
        if installed is not None:
            return installed
        return Unknown(f"module.{name} comes from {source!r}, which terraform init has not installed under "
                       ".terraform/modules, so nothing in it is checked")

    def _installed_module(self, name: str) -> Path | None:
        """A remote module that ``terraform init`` installed (.terraform/modules/modules.json)."""
        manifest = self.files.root / ".terraform" / "modules" / "modules.json"
        if not manifest.is_file():
            return None
        where = self.files.rel(manifest)
        try:
            doc = limits.loads_json(limits.read_bytes(manifest, where, limits.MAX_JSON_BYTES), where)
        except InputError as exc:
            self.files.report(exc)
            return None
        except ValueError:
            self.files.report(InputError(where, "not JSON (run terraform init again)", "error"))
            return None
        entries = doc.get("Modules") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            self.files.report(InputError(where, 'not a module manifest: expected an object with a "Modules" list',
                                           "error"))
            return None
        # terraform init installs a call once for all its instances: the key is the static path (app.db).
        path = references.module_path(self.prefix.rstrip(".")) or []
        key = ".".join([*(step for step, _index in path), name])
        for entry in entries:
            if isinstance(entry, dict) and entry.get("Key") == key and isinstance(entry.get("Dir"), str):
                try:
                    path = (self.files.root / entry["Dir"]).resolve()
                    return path if limits.describe_non_file(path) == "a directory" else None
                except (OSError, RuntimeError, ValueError):
                    return None
        return None

    def module_output(self, mod: str, out: str) -> Any:
        children = self.children(mod)
        if isinstance(children, Unknown):
            return children
        if not children:
            raise EvalError(f"module.{mod} has no instances (count = 0)")
        if len(children) > 1 or children[0][0] is not None:
            raise EvalError(f"module.{mod} has several instances; index it")
        child = children[0][1]
        block = child.outputs.get(out)
        if block is None or "value" not in block.body.attributes:
            raise EvalError(f"module.{mod} has no output {out!r}")
        return child.evaluator.eval(block.body.attributes["value"].expr)

    # ------------------------------------------------------------ resources
    def expansions(self, block: s.Block, what: str) -> Iterator[tuple[Any, Evaluator]]:
        """(key, evaluator) for each instance a block's count or for_each makes."""
        count = block.body.attributes.get("count")
        for_each = block.body.attributes.get("for_each")
        if count is not None:
            total = self._count(block, count, what)
            if isinstance(total, Unknown):
                yield None, self.evaluator.child(count={"index": total})
                return
            for i in range(total):
                yield i, self.evaluator.child(count={"index": i})
            return
        if for_each is not None:
            items = self._for_each(block, for_each, what)
            if isinstance(items, Unknown):
                yield None, self.evaluator.child(each={"key": items, "value": items})
                return
            prov = Tracer(self.evaluator, block.file).prov(for_each.expr)
            for k, v, p in [(k, v, prov.part(part)) for k, v, part in items]:
                key_prov = Prov(prov.origin, prov.literal)
                each_prov = Prov(prov.origin, prov.literal, {"key": key_prov, "value": p})
                yield k, self.evaluator.child(each={"key": k, "value": v}).traced({"each": each_prov})
            return
        yield None, self.evaluator

    def _count(self, block: s.Block, attr: s.Attribute, what: str) -> int | Unknown:
        """A block's count, or why it is unknown (an invalid count is also an input error, as in terraform)."""
        n = self.evaluator.eval(attr.expr)
        if isinstance(n, Unknown):
            return Unknown(f"count of {what} is unknown: {n.reason}")
        try:
            number = to_number(n)
        except EvalError as exc:
            problem = f"count must be a whole number: {exc}"
        else:
            if isinstance(number, float) and not number.is_integer():
                problem = "count must be a whole number, not a fraction, infinity or NaN"
            elif number < 0:
                problem = "count must not be negative"
            elif number > TERRAFORM_MAX_INT:
                problem = "count must be a whole number that fits a 64-bit integer"
            elif number > limits.MAX_INSTANCES:
                return Unknown(f"count of {what} is {limits.show_number(number)}, above the limit of "
                               f"{limits.MAX_INSTANCES:,} instances (validator.limits.MAX_INSTANCES)")
            else:
                return int(number)
        self.files.report(InputError(f"{block.file}:{attr.line}", f"{what}: {problem}", "error"))
        return Unknown(f"line {attr.line}: {problem}")

    def _for_each(self, block: s.Block, attr: s.Attribute, what: str) -> list[tuple[Any, Any, Any]] | Unknown:
        """(key, value, key or index in the collection) of a block's for_each, or why they are unknown."""
        coll = self.evaluator.eval(attr.expr)
        if isinstance(coll, Unknown):
            return Unknown(f"for_each of {what} is unknown: {coll.reason}")
        if isinstance(coll, dict | list) and len(coll) > limits.MAX_INSTANCES:
            return Unknown(f"for_each of {what} has {len(coll):,} elements, above the limit of "
                           f"{limits.MAX_INSTANCES:,} instances (validator.limits.MAX_INSTANCES)")
        if isinstance(coll, dict):
            return [(k, v, k) for k, v in coll.items()]
        if isinstance(coll, list) and all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in coll):
            return [(v, v, i) for i, v in enumerate(coll)]
        kind = ("null" if coll is None else "a list of non-strings" if isinstance(coll, list)
                else "a bool" if isinstance(coll, bool) else "a string" if isinstance(coll, str)
                else "a number" if isinstance(coll, int | float) else "a value of another type")
        problem = f"for_each must be a map or a set of strings, not {kind}"
        self.files.report(InputError(f"{block.file}:{attr.line}", f"{what}: {problem}", "error"))
        return Unknown(f"line {attr.line}: {problem}")

    def instances(self, key: str) -> list[tuple[str, Any, Evaluator]]:
        """(address, instance key, evaluator) for every instance of resource ``key``."""
        if key not in self._instances:
            block = self.resources[key]
            out = []
            for k, ev in self.expansions(block, key):
                out.append((f"{self.prefix}{key}{references.instance_key(k)}", k, ev))
            self._instances[key] = out
        found: list[tuple[str, Any, Evaluator]] = self._instances[key]
        return found

    def resource_value(self, key: str) -> Any:
        block = self.resources[key]
        objs = [(k, ResourceObj(addr, self._attr_getter(key, addr, ev))) for addr, k, ev in self.instances(key)]
        if "count" in block.body.attributes:
            if len(objs) == 1 and objs[0][0] is None:
                return Unknown(f"count of {self.prefix}{key} is unknown", (objs[0][1].address,))
            return [o for _, o in objs]
        if "for_each" in block.body.attributes:
            if len(objs) == 1 and objs[0][0] is None:
                return Unknown(f"for_each of {self.prefix}{key} is unknown", (objs[0][1].address,))
            return {str(k): o for k, o in objs}
        return objs[0][1]

    def _attr_getter(self, key: str, address: str, ev: Evaluator) -> Any:
        block = self.resources[key]
        rtype = key.split(".")[0]

        def get(name: str) -> Any:
            cache_key = (address, name)
            if cache_key in self._attr_cache:
                return self._attr_cache[cache_key]
            self._attr_cache[cache_key] = Unknown(f"{address}.{name} refers to itself")
            alias = ID_ALIASES.get(rtype, {}).get(name, name)
            attr = block.body.attributes.get(alias)
            if attr is not None:
                value = ev.eval(attr.expr)
                if isinstance(value, str):
                    value = RefStr(value, (address,))
                elif isinstance(value, Unknown):
                    value = Unknown(value.reason, (*value.refs, address))
            else:
                nested = block.body.blocks_of(alias)
                if nested:
                    value = [self._block_dict(b, ev) for b in nested]
                else:
                    value = AttributeUnknown(f"{address}.{name} is known only after apply", (address,),
                                             f"{address}.{name}")
            self._attr_cache[cache_key] = value
            return value

        return get

    def _block_dict(self, block: s.Block, ev: Evaluator) -> dict[str, Any]:
        out: dict[str, Any] = {n: ev.eval(a.expr) for n, a in block.body.attributes.items()}
        for b in block.body.blocks:
            out.setdefault(b.type, []).append(self._block_dict(b, ev))
        return out

    # --------------------------------------------------------------- records
    def records(self, types: frozenset[str]) -> Iterator[Record]:
        """Records for every resource instance of the given types, here and in child modules."""
        for key, block in self.resources.items():
            rtype = key.split(".")[0]
            if rtype not in types:
                continue
            for address, _k, ev in self.instances(key):
                yield self._record(rtype, address, block, ev)
        for key, block in self.data.items():
            # Data sources the model reads (``data.aws_iam_policy_document``) are asked for by
            # their type with the "data." prefix, and their records carry it too.
            rtype = "data." + key.split(".")[0]
            if rtype not in types:
                continue
            for k, ev in self.expansions(block, f"data.{key}"):
                yield self._record(rtype, f"{self.prefix}data.{key}{references.instance_key(k)}", block, ev)
        for name in self.calls:
            children = self.children(name)
            if isinstance(children, list):
                for _k, child in children:
                    yield from child.records(types)

    def _record(self, rtype: str, address: str, block: s.Block, ev: Evaluator) -> Record:
        rec = Record(rtype, address, self.loc(block.file, block.line), block.end_line)
        self._fill(rec, block, ev)
        rec.multiplicity = self._multiplicity(block, ev)
        return rec

    @staticmethod
    def _multiplicity(block: s.Block, ev: Evaluator) -> str:
        """The reason an expanded block's instance count is unknown ("" when it is known)."""
        for name, marker in (("count", "count"), ("for_each", "each")):
            if name in block.body.attributes:
                bound = ev.bindings.get(marker, {})
                probe = bound.get("index" if name == "count" else "key") if isinstance(bound, dict) else None
                if isinstance(probe, Unknown):
                    return probe.reason
        return ""

    def _fill(self, rec: Record, block: s.Block, ev: Evaluator) -> None:
        for name, attr in block.body.attributes.items():
            t = self.trace(attr.expr, block.file, ev)
            if redact.is_secret_name(name):
                redact.remember(t.value)
            rec.attrs[name] = Value(t.value, t.origin, literal=t.literal)
            rec.written.add(name)
        for nested in block.body.blocks:
            if nested.type == "dynamic":
                self._fill_dynamic(rec, nested, ev)
                continue
            child = Record(nested.type, rec.address, self.loc(nested.file, nested.line), nested.end_line)
            self._fill(child, nested, ev)
            rec.blocks.setdefault(nested.type, []).append(child)
            rec.written.add(nested.type)

    def _fill_dynamic(self, rec: Record, block: s.Block, ev: Evaluator) -> None:
        """One nested record per element of a dynamic block's for_each.

        When the collection or the content cannot be known, one record stands for
        the blocks, with every argument unknown (``DYNAMIC_UNKNOWN``).
        """
        name = block.labels[0] if block.labels else "dynamic"
        origin = self.loc(block.file, block.line)
        rec.written.add(name)
        iterator = block.body.attributes.get("iterator")
        var = iterator.expr.name if iterator is not None and isinstance(iterator.expr, s.Name) else name
        for_each = block.body.attributes.get("for_each")
        content = block.body.blocks_of("content")
        coll: Any = ev.eval(for_each.expr) if for_each is not None else Unknown("it has no for_each")
        pairs: list[tuple[Any, Any]] | None = None
        if isinstance(coll, dict):
            pairs = list(coll.items())
        elif isinstance(coll, list):
            pairs = list(enumerate(coll))
        reason = ""
        if pairs is None:
            reason = coll.reason if isinstance(coll, Unknown) else "its for_each is not a collection"
        elif len(content) != 1:
            reason = "it has no single content block"
        if reason:
            unknown: Value[Any] = Value(Unknown(f'dynamic "{name}": {reason}'), origin)
            rec.blocks.setdefault(name, []).append(
                Record(name, rec.address, origin, block.end_line, attrs={DYNAMIC_UNKNOWN: unknown}))
            return
        coll_prov = Tracer(ev, block.file).prov(for_each.expr) if for_each is not None else Prov(origin)
        for key, item in pairs or []:
            child = Record(name, rec.address, origin, block.end_line)
            item_prov = Prov(coll_prov.origin, coll_prov.literal,
                             {"key": coll_prov.flat(), "value": coll_prov.part(key)})
            self._fill(child, content[0], ev.child(**{var: {"key": key, "value": item}}).traced({var: item_prov}))
            rec.blocks.setdefault(name, []).append(child)

    def walk(self) -> Iterator[ModuleInstance]:
        yield self
        for name in self.calls:
            children = self.children(name)
            if isinstance(children, list):
                for _k, child in children:
                    yield from child.walk()


def _non_nullable(block: s.Block) -> bool:
    attr = block.body.attributes.get("nullable")
    return attr is not None and isinstance(attr.expr, s.Literal) and attr.expr.value is False


def _defaults_provenance(prov: Prov, given: Any, ty: types.Type, file: str, where: str) -> Prov:
    """``prov`` with the attributes an optional() default filled pointing at that default."""
    if isinstance(ty, types.ObjectType) and isinstance(given, dict):
        parts = dict(prov.parts) if isinstance(prov.parts, dict) else {}
        for name, attr in ty.attrs:
            if attr.has_default and given.get(name) is None:
                parts[name] = Prov(Location(file, attr.line, via=f"optional() default in {where}"), True)
            elif name in given:
                parts[name] = _defaults_provenance(prov.part(name), given[name], attr.type, file, where)
        return Prov(prov.origin, prov.literal, parts, prov.encoded)
    if isinstance(ty, types.Collection) and ty.kind != "set" and isinstance(given, dict | list):
        keys = list(given) if isinstance(given, dict) else list(range(len(given)))
        items = [_defaults_provenance(prov.part(k), given[k], ty.element, file, where) for k in keys]
        elements: dict[str, Prov] | tuple[Prov, ...] = (
            dict(zip([str(k) for k in keys], items, strict=True)) if isinstance(given, dict) else tuple(items))
        return Prov(prov.origin, prov.literal, elements, prov.encoded)
    return prov


def _has_set(ty: types.Type) -> bool:
    """Whether converting to ``ty`` may reorder a list (a set at the top)."""
    return isinstance(ty, types.Collection) and ty.kind == "set"


def convert_input(raw: str, var_block: s.Block | None) -> Any:
    """A -var or TF_VAR_ string as terraform reads it: a literal string for a primitive
    (or absent) type, an HCL expression for any other; the type is applied later."""
    type_attr = var_block.body.attributes.get("type") if var_block else None
    if type_attr is None:
        return raw
    try:
        ty = types.parse_type(type_attr.expr)
    except types.TypeSyntaxError:
        return raw
    if isinstance(ty, types.Primitive):
        return raw
    try:
        pf = s.parse_text(f"v = {raw}\n", Path("<var>"), "<var>")
    except InputError:
        return Unknown("the value given on the command line is not a valid expression")
    return Evaluator(_NoNames()).eval(pf.body.attributes["v"].expr)


class _NoNames:
    def lookup(self, name: str, line: int) -> Any:
        # The name is not echoed: in a variable file it may be a password written without quotes.
        raise EvalError("a variable value cannot refer to other values (quote strings)")
