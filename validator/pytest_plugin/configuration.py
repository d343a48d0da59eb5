"""A private copy of a Terraform configuration, its blocks named as a user would, and the edits steps make."""

# ConfigurationError is imported from here too (it was first defined here).

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from validator.pytest_plugin.errors import ConfigurationError
from validator.pytest_plugin.text import EditError, HclText, newline_of, read, write
from validator.sources.terraform.hcl import syntax

_LF = re.compile(r"(?<!\r)\n")
_COPY_IGNORE = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate", "*.tfstate.*", ".git")

# Friendly names for resource types, as a user would say them.
ALIASES: dict[str, tuple[str, tuple[str, ...]]] = {
    # phrase: (resource type, preferred name fragments when several blocks exist)
    "aurora cluster": ("aws_rds_cluster", ()),
    "cluster": ("aws_rds_cluster", ()),
    "aurora instance": ("aws_rds_cluster_instance", ()),
    "instance": ("aws_rds_cluster_instance", ()),
    "writer instance": ("aws_rds_cluster_instance", ("writer",)),
    "subnet group": ("aws_db_subnet_group", ()),
    "db subnet group": ("aws_db_subnet_group", ()),
    "database security group": ("aws_security_group", ("db", "aurora", "database")),
    "security group": ("aws_security_group", ("db", "aurora", "database")),
    "knowledge base": ("aws_bedrockagent_knowledge_base", ()),
    "subnet": ("aws_subnet", ()),
    "vpc": ("aws_vpc", ()),
}


@dataclass(frozen=True)
class BlockRef:
    """A top-level block of a file of the configuration."""

    file: Path
    type: str  # "resource", "variable", ...
    labels: tuple[str, ...]

    @property
    def address(self) -> str:
        return ".".join(self.labels[:2]) if self.type == "resource" else f"{self.type}.{'.'.join(self.labels)}"


class TerraformCopy:
    """A private copy of a Terraform configuration that steps may edit."""

    def __init__(self, source: Path, destination: Path) -> None:
        if not source.is_dir():
            raise ConfigurationError(f"{source}: not a directory")
        shutil.copytree(source, destination, ignore=_COPY_IGNORE, dirs_exist_ok=True)
        self.root = destination
        self.source = source

    # ------------------------------------------------------------ reading
    def files(self) -> list[Path]:
        def hidden(p: Path) -> bool:
            return any(part.startswith(".") for part in p.relative_to(self.root).parts)

        return sorted(p for p in self.root.rglob("*.tf") if not hidden(p))

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def text(self, path: Path) -> HclText:
        """A file's text and syntax tree, read now; ConfigurationError when it does not parse."""
        try:
            return HclText(path, self.rel(path))
        except EditError as exc:
            raise ConfigurationError(f"cannot read {exc}") from None

    def blocks(self, block_type: str = "resource") -> list[BlockRef]:
        """The top-level blocks of a type in every file that parses."""
        return self._blocks(block_type)[0]

    def _blocks(self, block_type: str) -> tuple[list[BlockRef], list[str]]:
        out: list[BlockRef] = []
        unread: list[str] = []
        for path in self.files():
            try:
                body = HclText(path, self.rel(path)).tree
            except EditError as exc:  # other files are still searched; the error names this one
                unread.append(str(exc))
                continue
            out.extend(BlockRef(path, b.type, b.labels) for b in body.blocks if b.type == block_type)
        return out, unread

    def find(self, target: str) -> BlockRef:
        """A resource named as a user would: "aurora cluster", 'subnet "public_subnet_c"', 'aws_subnet "a"'."""
        phrase = target.strip()
        phrase = re.sub(r"^the\s+", "", phrase)
        named = re.fullmatch(r'(.+?)\s+"([^"]+)"', phrase)
        wanted_name = named.group(2) if named else None
        kind = (named.group(1) if named else phrase).strip().lower()
        if kind in ALIASES:
            rtype, hints = ALIASES[kind]
        elif re.fullmatch(r"[a-z0-9]+_[\w]+", kind):
            rtype, hints = kind, ()
        else:
            known = ", ".join(sorted(ALIASES))
            raise ConfigurationError(f"unknown resource {target!r}: say one of {known}, or a type and a name")
        resources, unread = self._blocks("resource")
        found = [b for b in resources if b.labels[:1] == (rtype,)]
        if wanted_name is not None:
            found = [b for b in found if b.labels[1:2] == (wanted_name,)]
        if len(found) > 1:
            preferred = [b for b in found if any(h in b.labels[1] for h in hints)]
            found = preferred if len(preferred) == 1 else found
        if not found:
            missing = f"no {rtype} {wanted_name or ''} in {self.source}".replace("  ", " ")
            raise ConfigurationError(missing + "".join(f" (not read: {u})" for u in unread))
        if len(found) > 1:
            names = ", ".join(f'{rtype} "{b.labels[1]}"' for b in found)
            raise ConfigurationError(f"{target!r} is ambiguous ({names}); name the one you mean")
        return found[0]

    def variable(self, name: str) -> BlockRef:
        variables, unread = self._blocks("variable")
        found = [b for b in variables if b.labels[:1] == (name,) and b.file.parent == self.root]
        if not found:
            missing = f'no variable "{name}" in the root module of {self.source}'
            raise ConfigurationError(missing + "".join(f" (not read: {u})" for u in unread))
        return found[0]

    def _block(self, ref: BlockRef, text: HclText) -> syntax.Block:
        for block in text.tree.blocks:
            if block.type == ref.type and block.labels == ref.labels:
                return block
        raise ConfigurationError(f"{ref.address} is no longer in {self.rel(ref.file)}")

    def _walk(self, ref: BlockRef, path: str, text: HclText, create: bool = False) -> tuple[syntax.Block, str]:
        """The innermost existing block of a dotted path and the rest of the path below it."""
        block = self._block(ref, text)
        parts = path.split(".")
        for k, part in enumerate(parts[:-1]):
            inner = block.body.blocks_of(part)
            if not inner:
                if not create:
                    raise ConfigurationError(f"{ref.address} has no {part} block")
                return block, ".".join(parts[k:])
            block = inner[0]
        return block, parts[-1]

    def line_of(self, file: str, name: str, within: BlockRef | None = None) -> list[int]:
        """1-based lines of ``file`` where argument ``name`` (or a block of that type) starts."""
        path = self.root / file
        if not path.is_file():
            raise ConfigurationError(f"{file}: no such file in the configuration")
        text = self.text(path)
        block = self._block(within, text) if within is not None and within.file == path else None
        return text.find_lines(name.split(".")[-1], block)

    def block_line(self, ref: BlockRef) -> int:
        return self._block(ref, self.text(ref.file)).line

    # ------------------------------------------------------------ editing
    def _edit(self, ref: BlockRef, change: Callable[[HclText], None]) -> None:
        """Apply a change to the text of a block's file and write it back."""
        text = self.text(ref.file)
        try:
            change(text)
        except EditError as exc:
            raise ConfigurationError(str(exc)) from None
        text.save()

    def set(self, ref: BlockRef, path: str, value: str) -> None:
        """Set argument ``path`` (dotted for nested blocks) of a block to the HCL expression ``value``."""

        def change(text: HclText) -> None:
            block, leaf = self._walk(ref, path, text, create=True)
            if "." in leaf:  # nested blocks to create
                *names, last = leaf.split(".")
                lines, pad = [], ""
                for name in names:
                    lines.append(f"{pad}{name} {{")
                    pad += "  "
                lines.append(f"{pad}{last} = {value}")
                for _ in names:
                    pad = pad[:-2]
                    lines.append(f"{pad}}}")
                text.add_to_body(block, lines)
            elif leaf in block.body.attributes:
                text.replace(block.body.attributes[leaf], value)
            else:
                text.add_to_body(block, [f"{leaf} = {value}"])

        self._edit(ref, change)

    def remove(self, ref: BlockRef, path: str) -> None:
        """Remove an argument or every nested block of that type."""

        def change(text: HclText) -> None:
            block, leaf = self._walk(ref, path, text)
            doomed: list[syntax.Block | syntax.Attribute] = list(block.body.blocks_of(leaf))
            if leaf in block.body.attributes:
                doomed.append(block.body.attributes[leaf])
            if not doomed:
                raise ConfigurationError(f"{ref.address} does not set {path}")
            for item in sorted(doomed, key=lambda item: item.line, reverse=True):
                text.remove(item)

        self._edit(ref, change)

    def append(self, ref: BlockRef, hcl: str) -> None:
        """Add HCL text at the end of a block's body."""
        self._edit(ref, lambda text: text.add_to_body(self._block(ref, text), hcl.strip("\n").split("\n")))

    def add_file_text(self, file: str, text: str) -> Path:
        """Add HCL text at the end of a file (created if missing), in the file's line endings."""
        path = self.root / file
        path.parent.mkdir(parents=True, exist_ok=True)
        before = read(path) if path.exists() else ""
        nl = newline_of(before)
        added = text.strip("\n").replace("\n", nl) + nl
        write(path, before.rstrip("\r\n") + (nl + nl if before else "") + added)
        return path

    def replace_text(self, file: str, old: str, new: str) -> None:
        """Replace every occurrence of a text; a line break in OLD or NEW is the file's line ending."""
        path = self.root / file
        if not path.is_file():
            raise ConfigurationError(f"{file}: no such file in the configuration")
        text = read(path)
        nl = newline_of(text)
        ours, theirs = _LF.sub(nl, old), _LF.sub(nl, new)
        if ours not in text:
            raise ConfigurationError(f"{file} does not contain {old!r}")
        write(path, text.replace(ours, theirs))
