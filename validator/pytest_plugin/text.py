"""One Terraform file's text beside its syntax tree, and edits that leave the rest as written.

The syntax tree (``validator.sources.terraform.hcl.syntax``) says where every
block and argument starts and ends, so nothing here counts brackets: braces in
strings, heredocs and comments are the parser's business. The text is kept as
lines with their own endings (LF, CRLF), and a byte order mark stays where it
was; a line an edit adds takes the ending most of the file uses.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass
from functools import lru_cache
from pathlib import Path

from validator.errors import InputError
from validator.sources.terraform.hcl import syntax

_LINE_END = re.compile(r"(\r\n|\r|\n)")  # as syntax.normalise reads line endings
_NAME = re.compile(r"[A-Za-z_][\w-]*")
_HEAD = re.compile(r"[A-Za-z_][\w-]*\s*=")
_BLANK_OR_COMMENT = re.compile(r"\s*(?:(?:#|//).*)?")


class EditError(ValueError):
    """The text cannot be read or changed as asked (it does not parse, or a block is not where the tree says)."""


@dataclass(frozen=True)
class Pos:
    """A place in the text: 1-based line, 0-based column in that line's text (without its ending)."""

    line: int
    column: int


@dataclass(frozen=True)
class Extent:
    """Where a block or an argument is: its first character and the place just after its last one."""

    start: Pos
    end: Pos


class HclText:
    """A ``.tf`` file's lines and syntax tree; :meth:`save` writes the edited text back."""

    def __init__(self, path: Path, rel: str) -> None:
        self.path = path
        self.rel = rel
        raw = read(path)
        self.bom = raw.startswith("\ufeff")
        pieces = _LINE_END.split(raw[1:] if self.bom else raw)
        self.lines: list[str] = pieces[0::2]
        self.endings: list[str] = [*pieces[1::2], ""]
        self.newline = newline_of(raw)
        self.tree = _tree(raw, rel)

    def render(self) -> str:
        return ("\ufeff" if self.bom else "") + "".join(t + e for t, e in zip(self.lines, self.endings, strict=True))

    def save(self) -> None:
        write(self.path, self.render())

    def line(self, number: int) -> str:
        return self.lines[number - 1]

    # ------------------------------------------------------------ where things are
    def extent(self, item: syntax.Block | syntax.Attribute) -> Extent:
        if isinstance(item, syntax.Block):
            return Extent(Pos(item.line, _indent_width(self.line(item.line))), self.close_brace(item, after=True))
        if not item.column:
            raise EditError(f"{self.rel}:{item.line}: the syntax tree has no extent for {item.name}")
        return Extent(Pos(item.line, item.column - 1), Pos(item.end_line, item.end_column - 1))

    def items(self, block: syntax.Block | None = None) -> list[syntax.Block | syntax.Attribute]:
        """A body's arguments and blocks in the order of the text (the file's body when ``block`` is None)."""
        body = self.tree if block is None else block.body
        found: list[syntax.Block | syntax.Attribute] = [*body.attributes.values(), *body.blocks]
        return sorted(found, key=lambda item: item.line)

    def open_brace(self, block: syntax.Block) -> Pos:
        """The ``{`` after a block's type and labels."""
        text = self.line(block.line)
        i = _indent_width(text)
        m = _NAME.match(text, i)
        i = m.end() if m else i
        while i < len(text):
            c = text[i]
            if c in " \t":
                i += 1
            elif c == "{":
                return Pos(block.line, i)
            elif c == '"':
                i += 1
                while i < len(text) and text[i] != '"':
                    i += 2 if text[i] == "\\" else 1
                i += 1
            elif m := _NAME.match(text, i):
                i = m.end()
            else:
                break
        raise EditError(f"{self.rel}:{block.line}: no {{ after the {block.type} block's labels")

    def close_brace(self, block: syntax.Block, after: bool = False) -> Pos:
        """The ``}`` that closes a block (or the place just after it)."""
        number = block.end_line
        text = self.line(number)
        start = 0
        if number == block.line:
            start = self.open_brace(block).column + 1
        for item in self.items(block):
            if isinstance(item, syntax.Attribute) and item.end_line == number:
                start = max(start, item.end_column - 1)
        i = text.find("}", start)
        if i < 0:
            raise EditError(f"{self.rel}:{number}: the {block.type} block does not end with }} here")
        return Pos(number, i + 1 if after else i)

    def body_indent(self, block: syntax.Block) -> str:
        """The indentation of a block's arguments (two spaces more than the block when it has none)."""
        for item in self.items(block):
            if item.line > block.line:
                text = self.line(item.line)
                return text[: _indent_width(text)]
        head = self.line(block.line)
        return head[: _indent_width(head)] + "  "

    def find_lines(self, name: str, within: syntax.Block | None = None) -> list[int]:
        """Lines where an argument, a nested block or an object key called ``name`` starts."""
        found: set[int] = set()
        scope = [within] if within is not None else self.items()
        for item in scope:
            for node, line in _named(item):
                if node == name:
                    found.add(line)
        return sorted(found)

    # ------------------------------------------------------------ edits
    def splice(self, start: Pos, end: Pos, text: str) -> None:
        """Replace the text from ``start`` up to ``end`` (not included); "\\n" in ``text`` starts a new line."""
        first = self.line(start.line)[: start.column]
        last = self.line(end.line)[end.column :]
        ending = self.endings[end.line - 1]
        new = (first + text + last).split("\n")
        self.lines[start.line - 1 : end.line] = new
        self.endings[start.line - 1 : end.line] = [self.newline] * (len(new) - 1) + [ending]

    def delete_lines(self, first: int, last: int) -> None:
        del self.lines[first - 1 : last]
        del self.endings[first - 1 : last]

    def insert_lines(self, before: int, lines: list[str]) -> None:
        self.lines[before - 1 : before - 1] = lines
        self.endings[before - 1 : before - 1] = [self.newline] * len(lines)

    def replace(self, item: syntax.Attribute, value: str) -> None:
        """Give an argument a new expression, keeping its name and the alignment of its "="."""
        where = self.extent(item)
        text = self.line(where.start.line)
        head = _HEAD.match(text, where.start.column)
        if head is None:
            raise EditError(f"{self.rel}:{item.line}: {item.name} is not followed by =")
        end = where.end
        if _BLANK_OR_COMMENT.fullmatch(self.line(end.line)[end.column :]):
            end = Pos(end.line, len(self.line(end.line)))  # a comment after the old value goes with it
        self.splice(where.start, end, f"{head.group(0)} {value}")

    def remove(self, item: syntax.Block | syntax.Attribute) -> None:
        """Remove an argument or a block: its whole lines, or only its text when it shares a line."""
        where = self.extent(item)
        before = self.line(where.start.line)[: where.start.column]
        after = self.line(where.end.line)[where.end.column :]
        if not before.strip() and _BLANK_OR_COMMENT.fullmatch(after):
            self.delete_lines(where.start.line, where.end.line)
            return
        start = Pos(where.start.line, len(before.rstrip()))
        self.splice(start, where.end, "")

    def add_to_body(self, block: syntax.Block, lines: list[str]) -> None:
        """Add lines (indented as the block's body) at the end of a block's body."""
        indent = self.body_indent(block)
        added = [f"{indent}{line}" if line.strip() else "" for line in lines]
        close = self.close_brace(block)
        before = self.line(close.line)[: close.column]
        if not before.strip():  # "}" on a line of its own
            self.insert_lines(close.line, added)
            return
        head = self.line(block.line)
        lead = head[: _indent_width(head)]
        if close.line == block.line:  # a one-line block opens up: 'variable "x" { default = 1 }'
            brace = self.open_brace(block)
            inner = head[brace.column + 1 : close.column].strip()
            body = ([indent + inner] if inner else []) + added
            self.splice(Pos(block.line, brace.column + 1), close, "\n" + "\n".join(body) + "\n" + lead)
        else:  # "}" after the last argument's text
            self.splice(Pos(close.line, len(before.rstrip())), close, "\n" + "\n".join(added) + "\n" + lead)


@lru_cache(maxsize=512)
def _tree(raw: str, rel: str) -> syntax.Body:
    """The syntax tree of a text; scenarios copy the same configurations, so each text is parsed once.

    Nothing changes a parsed tree (edits change the lines, then the text is parsed again), so trees are shared.
    """
    try:
        return syntax.parse_text(raw, Path(rel), rel).body
    except InputError as exc:
        raise EditError(f"{exc.where}: {exc.message}") from None


def read(path: Path) -> str:
    """A file's text with its line endings as they are (no newline translation)."""
    with path.open(encoding="utf-8", newline="") as f:
        return f.read()


def write(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(text)


def newline_of(text: str) -> str:
    """The line ending most lines of a text end with ("\n" when it has none)."""
    common = Counter(_LINE_END.findall(text)).most_common(1)
    return common[0][0] if common else "\n"


def _indent_width(text: str) -> int:
    return len(text) - len(text.lstrip(" \t"))


def _named(item: syntax.Block | syntax.Attribute) -> Iterator[tuple[str, int]]:
    """(name, line) of an item and of everything named inside it: blocks, arguments, object keys."""
    if isinstance(item, syntax.Block):
        yield item.type, item.line
        for attr in item.body.attributes.values():
            yield from _named(attr)
        for inner in item.body.blocks:
            yield from _named(inner)
    else:
        yield item.name, item.line
        yield from _object_keys(item.expr)


def _object_keys(node: object) -> Iterator[tuple[str, int]]:
    if isinstance(node, syntax.ObjectExpr):
        for key, _ in node.items:
            if isinstance(key, syntax.Literal) and isinstance(key.value, str):
                yield key.value, key.line
    if isinstance(node, tuple):
        for part in node:
            yield from _object_keys(part)
    elif is_dataclass(node) and not isinstance(node, type):
        for f in fields(node):
            yield from _object_keys(getattr(node, f.name))
