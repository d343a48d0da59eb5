"""HCL text to a small syntax tree of blocks, attributes and expressions, with lines.

python-hcl2 supplies the grammar and the LALR parser; we walk its parse tree
(which keeps every node's position) instead of its dict output, so each
attribute keeps its own line and each expression stays a tree we can evaluate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from validator.errors import InputError
from validator.lazy_dataclass import lazy_dataclass
from validator.model import Unknown

# --------------------------------------------------------------------------- #
# Expressions


@lazy_dataclass(frozen=True)
class Expr:
    line: int


@lazy_dataclass(frozen=True)
class Literal(Expr):
    value: Any


@lazy_dataclass(frozen=True)
class Template(Expr):
    parts: tuple[Any, ...]  # str, Expr, TemplateIf or TemplateFor


@lazy_dataclass(frozen=True)
class TemplateIf:
    """``%{ if cond }then%{ else }other%{ endif }`` inside a template."""

    cond: Expr
    then: tuple[Any, ...]
    other: tuple[Any, ...]


@lazy_dataclass(frozen=True)
class TemplateFor:
    """``%{ for k, v in coll }body%{ endfor }`` inside a template."""

    key_var: str | None
    value_var: str
    collection: Expr
    body: tuple[Any, ...]


@lazy_dataclass(frozen=True)
class Name(Expr):
    name: str


@lazy_dataclass(frozen=True)
class GetAttr(Expr):
    obj: Expr
    name: str


@lazy_dataclass(frozen=True)
class Index(Expr):
    obj: Expr
    key: Expr


@lazy_dataclass(frozen=True)
class Splat(Expr):
    """``obj[*].a.b`` or ``obj.*.a``: apply ``steps`` to every element."""

    obj: Expr
    steps: tuple[tuple[str, Any], ...]  # ("attr", name) or ("index", Expr)


@lazy_dataclass(frozen=True)
class Call(Expr):
    name: str
    args: tuple[Expr, ...]
    expand_last: bool = False


@lazy_dataclass(frozen=True)
class TupleExpr(Expr):
    items: tuple[Expr, ...]


@lazy_dataclass(frozen=True)
class ObjectExpr(Expr):
    items: tuple[tuple[Expr, Expr], ...]


@lazy_dataclass(frozen=True)
class Conditional(Expr):
    cond: Expr
    then: Expr
    other: Expr


@lazy_dataclass(frozen=True)
class Unary(Expr):
    op: str
    operand: Expr


@lazy_dataclass(frozen=True)
class Binary(Expr):
    op: str
    left: Expr
    right: Expr


@lazy_dataclass(frozen=True)
class ForExpr(Expr):
    key_var: str | None
    value_var: str
    collection: Expr
    key: Expr | None  # None for a tuple result
    value: Expr
    cond: Expr | None
    grouping: bool = False


# --------------------------------------------------------------------------- #
# Structure


@lazy_dataclass
class Attribute:
    name: str
    expr: Expr
    line: int
    # Where the attribute's text starts and ends (1-based columns, the end exclusive), for text edits.
    column: int = 0
    end_line: int = 0
    end_column: int = 0


@lazy_dataclass
class Block:
    type: str
    labels: tuple[str, ...]
    body: Body
    line: int
    end_line: int
    file: str = ""  # path relative to the scanned root


@lazy_dataclass
class Body:
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def blocks_of(self, type_: str) -> list[Block]:
        return [b for b in self.blocks if b.type == type_]


@dataclass
class ParsedFile:
    path: Path
    rel: str
    body: Body
    # line -> [(rule_id, reason)] from "# aurora-validate:ignore=AV301 reason" comments
    suppressions: dict[int, list[tuple[str, str]]] = field(default_factory=dict)


# --------------------------------------------------------------------------- #
# Parsing

_IGNORE = re.compile(r"(?:#|//)\s*aurora-validate:ignore=([A-Za-z0-9_,]+)[ \t]*(.*)$")


def read_text(path: Path, rel: str) -> str:
    """File text as UTF-8, or an InputError naming the file."""
    from validator.limits import read_bytes

    data = read_bytes(path, rel)  # a regular file of bounded size, never a FIFO or a device
    if b"\x00" in data:
        raise InputError(rel, "binary file, not Terraform text", "error")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(rel, f"not UTF-8 text (byte {exc.start})", "error") from None


_PARSER: Any = None


def _parser() -> Any:
    """python-hcl2's LALR parser; its grammar tables are cached on disk after the first use.

    Loaded on first use (lark is only imported when there is HCL to read), and loaded lean:

    - from ``hcl2/parser.py`` alone, the module that defines the parser (its grammar, options and
      table cache), without the package's ``__init__``, which imports the transformer, builder and
      reconstructor this project does not use;
    - with the cyclic garbage collector paused: the tables are tens of thousands of long-lived
      objects, so collections while they are built find nothing; once frozen (``gc.freeze``), no
      later collection walks them either.

    Together about a fifth fewer instructions than ``hcl2.parser.parser()`` (``bench/bench_startup.py``).
    """
    global _PARSER
    if _PARSER is None:
        import gc

        enabled = gc.isenabled()
        gc.disable()
        try:
            _PARSER = _load_hcl2_parser()
        finally:
            if enabled:
                gc.enable()
        gc.freeze()
    return _PARSER


def _load_hcl2_parser() -> Any:
    import importlib.util
    import sys

    spec = importlib.util.find_spec("hcl2")  # finds the package without importing it
    location = Path(spec.origin).parent / "parser.py" if spec is not None and spec.origin else None
    module_spec = importlib.util.spec_from_file_location("_aurora_validate_hcl2_parser", location) if location else None
    if module_spec is None or module_spec.loader is None or "hcl2.parser" in sys.modules:
        from hcl2.parser import parser  # the package's own way, and its parser when it is loaded already

        return parser()
    module = importlib.util.module_from_spec(module_spec)
    # lark imports the third-party ``regex`` module when it is installed (python-hcl2's reconstructor
    # needs it) for its ``regex=True`` option, which this parser does not use: its lexer compiles with
    # ``re`` either way. Importing ``regex`` costs a tenth of loading the parser, so lark is imported
    # while ``regex`` reads as absent; the entry is removed afterwards for anyone else.
    blocked = "regex" not in sys.modules
    if blocked:
        sys.modules["regex"] = None  # type: ignore[assignment]
    try:
        module_spec.loader.exec_module(module)
    finally:
        if blocked and sys.modules.get("regex", 0) is None:
            del sys.modules["regex"]
    return module.parser()


def parse_file(path: Path, rel: str) -> ParsedFile:
    text = read_text(path, rel)
    return parse_text(text, path, rel)


def normalise(text: str) -> tuple[str, dict[int, str]]:
    """Text as the grammar reads it, and the line endings that were not LF.

    Terraform reads a UTF-8 byte order mark, CRLF line endings and a last line
    without a newline; the grammar knows only LF. A lone CR is read as a line
    ending too (old Mac files; terraform 1.11 rejects them as "Invalid character").
    The map (line number -> CRLF or CR) lets heredocs give back their lines as
    written, as terraform does.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    endings: dict[int, str] = {}
    if "\r" in text:
        out: list[str] = []
        pieces = _LINE_END.split(text)
        # pieces alternates line text and its ending: [line, end, line, end, ..., last]
        for number, i in enumerate(range(0, len(pieces) - 1, 2), start=1):
            out.append(pieces[i])
            if pieces[i + 1] != "\n":
                endings[number] = pieces[i + 1]
        out.append(pieces[-1])
        text = "\n".join(out)
    if not text.endswith("\n"):
        text += "\n"
    return text, endings


_LINE_END = re.compile(r"(\r\n|\r|\n)")


def parse_text(text: str, path: Path, rel: str) -> ParsedFile:
    text, endings = normalise(text)
    from validator.limits import check_tokens

    check_tokens(text, rel)  # the parser's time and memory grow with the tokens
    try:
        tree = _parser().parse(text)
    except Exception as exc:  # lark raises several exception types
        raise InputError(f"{rel}:{_error_line(exc)}", _error_message(exc), "parse error") from None
    try:
        body = _Builder(rel, endings).body(tree.children[0])
    except RecursionError:
        raise InputError(rel, "expression nesting too deep", "parse error") from None
    except InputError:
        raise
    except Exception as exc:  # a construct the builder does not know
        raise InputError(rel, f"unsupported syntax ({type(exc).__name__})", "parse error") from None
    return ParsedFile(path, rel, body, _suppressions(text))


def _suppressions(text: str) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    if "aurora-validate:ignore" not in text:
        return out
    for number, line in enumerate(text.splitlines(), start=1):
        m = _IGNORE.search(line)
        if m:
            reason = m.group(2).strip()
            for rule_id in m.group(1).split(","):
                if rule_id:
                    out.setdefault(number, []).append((rule_id.strip().upper(), reason))
    return out


def _error_line(exc: Exception) -> int:
    line = getattr(exc, "line", None)
    if not (isinstance(line, int) and line > 0):
        line = getattr(getattr(exc, "token", None), "line", None) or 1
    token = getattr(exc, "token", None)
    if token is not None and getattr(token, "type", "") != "$END":
        text = str(token)
        if text.strip():  # the lexer may glue leading newlines to the offending token
            line += text[: len(text) - len(text.lstrip())].count("\n")
    return line


def _error_message(exc: Exception) -> str:
    token = getattr(exc, "token", None)
    if token is not None and getattr(token, "type", "") == "$END":
        return "unexpected end of file"
    if token is not None:
        text = str(token).strip()
        if not text:
            return "unexpected end of line"
        return f"unexpected {_token_excerpt(text.splitlines()[0])}"
    char = getattr(exc, "char", None)
    if char is not None:
        return f"unexpected character {_token_excerpt(str(char))}"
    return f"unexpected input ({type(exc).__name__})"


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _token_excerpt(text: str) -> str:
    """The offending token, without echoing what may be a secret (a quoted password, a value)."""
    if text in _PRECEDENCE or (len(text) <= 2 and not text.isalnum()):
        return repr(text)  # punctuation and operators
    if text in ("in", "for", "if", "true", "false", "null", "endfor", "endif", "else"):
        return repr(text)
    if text[0] in "'\"":
        return "quoted text (HCL strings use double quotes)" if text[0] == "'" else "string"
    if text[0].isdigit():
        return "number"
    if _WORD.fullmatch(text):
        return "name"
    return f"{text[0]!r}" if not text[0].isalnum() else "text"


# Operator precedence, lowest first (HCL spec).
_PRECEDENCE = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 4,
    ">": 4,
    "<=": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}


def _line(node: Any, default: int = 0) -> int:
    meta = getattr(node, "meta", None)
    if meta is not None and not meta.empty:
        first: int = meta.line
        return first
    line = getattr(node, "line", None)
    return line if isinstance(line, int) else default


def _extent(node: Any) -> tuple[int, int, int]:
    """A node's first column and where its text ends (line, column after its last character)."""
    meta = getattr(node, "meta", None)
    if meta is None or meta.empty:
        return 0, 0, 0
    return (meta.column, *_end(node))


def _end(node: Any) -> tuple[int, int]:
    """Where a node's text ends, without the newline and comment the grammar lets an operator chain take."""
    end = (node.meta.end_line, node.meta.end_column)
    for child in reversed(node.children):
        if _is_tree(child):
            if child.meta.empty:
                continue
            if (child.meta.end_line, child.meta.end_column) != end:
                return end  # a bracket the tree leaves out ends the node
            if child.data != "new_line_or_comment":
                return _end(child)
            end = (child.meta.line, child.meta.column)
        else:
            if (getattr(child, "end_line", None), getattr(child, "end_column", None)) != end:
                return end
            text = str(child)
            if child.type == "NL_OR_COMMENT":
                end = (child.line, child.column)
                continue
            body = text.rstrip("\n")
            if body != text and "\n" in body:  # a heredoc: it ends after its closing marker
                return child.end_line - (len(text) - len(body)), len(body.rsplit("\n", 1)[1]) + 1
            return end
    return end


def _is_tree(node: Any, name: str | None = None) -> bool:
    data = getattr(node, "data", None)
    return data is not None and (name is None or data == name)


def _trees(node: Any) -> list[Any]:
    """Children that are subtrees, skipping newline/comment nodes."""
    return [c for c in node.children if _is_tree(c) and c.data != "new_line_or_comment"]


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")


class InvalidEscape(ValueError):
    """A backslash sequence HCL does not define (terraform rejects the string)."""


def _unescape(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        s = m.group(1)
        if s[0] in "uU":
            code = int(s[1:], 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise InvalidEscape
            return chr(code)
        if s not in _ESCAPES:
            raise InvalidEscape
        return _ESCAPES[s]

    return _ESCAPE_RE.sub(repl, text)


class _Builder:
    def __init__(self, rel: str, endings: dict[int, str] | None = None) -> None:
        self.rel = rel
        self.endings = endings or {}
        self.depth = 0

    # structure ---------------------------------------------------------------
    def body(self, node: Any) -> Body:
        body = Body()
        for child in _trees(node):
            if child.data == "attribute":
                name = self.identifier(child.children[0])
                expr = self.expr(child.children[2])
                body.attributes[name] = Attribute(name, expr, _line(child), *_extent(child))
            elif child.data == "block":
                body.blocks.append(self.block(child))
        return body

    def block(self, node: Any) -> Block:
        parts = _trees(node)
        type_ = self.identifier(parts[0])
        labels = []
        inner = None
        for p in parts[1:]:
            if p.data == "identifier":
                labels.append(self.identifier(p))
            elif p.data == "string":
                labels.append("".join(str(x) for x in self.string_parts(p)))
            elif p.data == "body":
                inner = self.body(p)
        end = node.meta.end_line if not node.meta.empty else _line(node)
        return Block(type_, tuple(labels), inner or Body(), _line(node), end, self.rel)

    def identifier(self, node: Any) -> str:
        return str(node.children[0])

    # expressions -------------------------------------------------------------
    def expr(self, node: Any) -> Expr:
        if not _is_tree(node):
            return Literal(_line(node), str(node))
        kind = node.data
        method = getattr(self, "x_" + kind, None)
        if method is None:
            raise InputError(f"{self.rel}:{_line(node)}", f"unsupported expression {kind}", "parse error")
        from validator.limits import MAX_EXPRESSION_DEPTH

        self.depth += 1
        try:
            if self.depth > MAX_EXPRESSION_DEPTH:
                raise InputError(f"{self.rel}:{_line(node)}", f"expression nested deeper than {MAX_EXPRESSION_DEPTH} "
                                 "(validator.limits.MAX_EXPRESSION_DEPTH)", "parse error")
            result: Expr = method(node)
            return result
        finally:
            self.depth -= 1

    def x_expr_term(self, node: Any) -> Expr:
        kids = _trees(node)
        if len(kids) == 1:
            return self.expr(kids[0])
        return self.expr(kids[0])  # parenthesised: LPAR expr RPAR

    def x_int_lit(self, node: Any) -> Expr:
        return self._number(node)

    def x_float_lit(self, node: Any) -> Expr:
        return self._number(node)

    def _number(self, node: Any) -> Expr:
        # Terraform's numbers are arbitrary precision: 1e999 is a number, 0.1 is not a float64.
        from validator.sources.terraform.hcl.values import EvalError, parse_number

        line = _line(node)
        try:
            return Literal(line, parse_number("".join(str(c) for c in node.children)))
        except EvalError as exc:
            return Literal(line, Unknown(f"line {line}: {exc}"))

    def x_identifier(self, node: Any) -> Expr:
        name = self.identifier(node)
        line = _line(node)
        if name == "true":
            return Literal(line, True)
        if name == "false":
            return Literal(line, False)
        if name == "null":
            return Literal(line, None)
        return Name(line, name)

    def string_parts(self, node: Any) -> list[Any]:
        parts: list[Any] = []
        for part in node.children:
            if not _is_tree(part, "string_part"):
                continue
            for piece in part.children:
                if _is_tree(piece, "interpolation"):
                    parts.append(self.expr(_trees(piece)[0]))
                else:
                    text = str(piece)
                    if text.startswith("$${"):
                        text = text[1:]
                    else:
                        text = _unescape(text)
                    if parts and isinstance(parts[-1], str):
                        parts[-1] += text
                    else:
                        parts.append(text)
        return parts

    def x_string(self, node: Any) -> Expr:
        try:
            parts = self.string_parts(node)
        except InvalidEscape:
            line = _line(node)
            return Literal(line, Unknown(f"line {line}: invalid escape sequence in a string (terraform rejects it)"))
        return self.template(_line(node), parts)

    def _heredoc(self, node: Any, trim: bool) -> Expr:
        raw = str(node.children[0])
        lines = raw.split("\n")
        content = lines[1:-2] if lines[-1] == "" else lines[1:-1]
        if trim:
            indents = [len(x) - len(x.lstrip()) for x in content if x.strip()]
            cut = min(indents) if indents else 0
            content = [x[cut:] for x in content]
        line = _line(node)
        # Content line i (0-based) is file line ``line + 1 + i``; keep its CRLF as terraform does.
        text = "".join(x + self.endings.get(line + 1 + i, "\n") for i, x in enumerate(content))
        if "${" not in text:
            return self.template(line, [text])
        # Parse interpolations by re-reading the heredoc body as a quoted string.
        try:
            escaped = (
                text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
            )
            tree = _parser().parse(f'x = "{escaped}"\n')
            attr = next(c for c in tree.children[0].children if _is_tree(c, "attribute"))
            expr = self.expr(attr.children[2])
            if isinstance(expr, Template):
                return Template(line, expr.parts)
            return Literal(line, cast(Literal, expr).value)
        except Exception:
            return Literal(line, Unknown(f"line {line}: a heredoc template that is not evaluated"))

    def template(self, line: int, parts: list[Any]) -> Expr:
        """A string's parts as a literal or a template, with ``%{if}``/``%{for}`` directives."""
        if any(isinstance(p, str) and _DIRECTIVE.search(p) for p in parts):
            try:
                tokens = _directive_tokens(parts)
                body, end = self._directive_body(tokens, 0, line, ())
                if end != len(tokens):
                    raise _TemplateError
            except (_TemplateError, InputError):
                return Literal(line, Unknown(f"line {line}: a template directive (%{{...}}) that is not evaluated"))
            return Template(line, tuple(body))
        parts = [p.replace("%%{", "%{") if isinstance(p, str) else p for p in parts]
        if not parts:
            return Literal(line, "")
        if len(parts) == 1 and isinstance(parts[0], str):
            return Literal(line, parts[0])
        return Template(line, tuple(parts))

    def _directive_body(self, tokens: list[tuple[str, Any]], i: int, line: int,
                        until: tuple[str, ...]) -> tuple[list[Any], int]:
        body: list[Any] = []
        while i < len(tokens):
            kind, value = tokens[i]
            if kind != "dir":
                body.append(value)
                i += 1
                continue
            words = value[0]
            keyword = words.split(None, 1)[0] if words else ""
            if keyword in until:
                return body, i
            if keyword == "if":
                cond = self._directive_expr(words[2:], line)
                then, i = self._directive_body(tokens, i + 1, line, ("else", "endif"))
                other: list[Any] = []
                if i < len(tokens) and tokens[i][1][0].strip() == "else":
                    other, i = self._directive_body(tokens, i + 1, line, ("endif",))
                if i >= len(tokens) or tokens[i][1][0].strip() != "endif":
                    raise _TemplateError
                body.append(TemplateIf(cond, tuple(then), tuple(other)))
                i += 1
            elif keyword == "for":
                m = _FOR_HEAD.match(words)
                if not m:
                    raise _TemplateError
                key_var, value_var = (m.group(1), m.group(2)) if m.group(2) else (None, m.group(1))
                coll = self._directive_expr(m.group(3), line)
                loop, i = self._directive_body(tokens, i + 1, line, ("endfor",))
                if i >= len(tokens) or tokens[i][1][0].strip() != "endfor":
                    raise _TemplateError
                body.append(TemplateFor(key_var, value_var, coll, tuple(loop)))
                i += 1
            else:
                raise _TemplateError
        if until:
            raise _TemplateError
        return body, i

    def _directive_expr(self, text: str, line: int) -> Expr:
        try:
            tree = _parser().parse("\n" * (line - 1) + f"x = {text}\n")
        except Exception:
            raise _TemplateError from None
        attr = next(c for c in tree.children[0].children if _is_tree(c, "attribute"))
        return self.expr(attr.children[2])

    def x_heredoc_template(self, node: Any) -> Expr:
        return self._heredoc(node, trim=False)

    def x_heredoc_template_trim(self, node: Any) -> Expr:
        return self._heredoc(node, trim=True)

    def x_tuple(self, node: Any) -> Expr:
        return TupleExpr(_line(node), tuple(self.expr(c) for c in _trees(node)))

    def x_object(self, node: Any) -> Expr:
        items = []
        for elem in _trees(node):
            key_node, value_node = _trees(elem)[0], _trees(elem)[-1]
            items.append((self.object_key(key_node), self.expr(value_node)))
        return ObjectExpr(_line(node), tuple(items))

    def object_key(self, node: Any) -> Expr:
        inner = _trees(node)[0]
        line = _line(node)
        if inner.data == "identifier":
            return Literal(line, self.identifier(inner))  # bare keys are strings
        if inner.data == "object_elem_key_expression":
            return self.expr(_trees(inner)[0])
        if inner.data == "object_elem_key_dot_accessor":
            return Literal(line, ".".join(self.identifier(i) for i in _trees(inner)))
        return self.expr(inner)

    def x_function_call(self, node: Any) -> Expr:
        kids = _trees(node)
        name = self.identifier(kids[0])
        args: tuple[Expr, ...] = ()
        expand = False
        if len(kids) > 1:
            arg_node = kids[1]
            args = tuple(self.expr(a) for a in _trees(arg_node))
            expand = any(str(t) == "..." for t in arg_node.children if not _is_tree(t))
        return Call(_line(node), name, args, expand)

    def x_provider_function_call(self, node: Any) -> Expr:
        kids = [k for k in _trees(node) if k.data == "identifier"]
        name = "::".join(self.identifier(k) for k in kids)
        return Call(_line(node), "provider::" + name, ())

    def x_get_attr_expr_term(self, node: Any) -> Expr:
        obj, attr = _trees(node)
        return GetAttr(_line(node), self.expr(obj), self.identifier(_trees(attr)[0]))

    def x_index_expr_term(self, node: Any) -> Expr:
        obj, index = _trees(node)
        return Index(_line(node), self.expr(obj), self._index_key(index))

    def _index_key(self, index: Any) -> Expr:
        inner = _trees(index)
        if inner:
            return self.expr(inner[0])
        digits = "".join(str(c) for c in index.children if not _is_tree(c))
        return Literal(_line(index), int(digits))

    def _splat(self, node: Any) -> Expr:
        obj, splat = _trees(node)
        steps: list[tuple[str, Any]] = []
        for step in _trees(splat):
            if step.data == "get_attr":
                steps.append(("attr", self.identifier(_trees(step)[0])))
            elif step.data == "index":
                steps.append(("index", self._index_key(step)))
        return Splat(_line(node), self.expr(obj), tuple(steps))

    x_attr_splat_expr_term = _splat
    x_full_splat_expr_term = _splat

    def x_conditional(self, node: Any) -> Expr:
        c, t, f = _trees(node)
        return Conditional(_line(node), self.expr(c), self.expr(t), self.expr(f))

    def x_unary_op(self, node: Any) -> Expr:
        op = str(node.children[0])
        return Unary(_line(node), op, self.expr(_trees(node)[0]))

    def x_binary_op(self, node: Any) -> Expr:
        # The grammar has no precedence: flatten the chain, then re-associate.
        # An unparenthesised conditional on the right swallows the chain's tail
        # (``a > 1 ? x : y`` parses as ``a > (1 ? x : y)``): hoist it back out.
        operands: list[Expr] = []
        operators: list[str] = []
        branches: list[tuple[Expr, Expr]] = []

        def flatten(n: Any) -> None:
            if _is_tree(n, "binary_op"):
                left, term = _trees(n)
                flatten(left)
                op_node, right = _trees(term)
                operators.append(str(op_node.children[0]))
                flatten(right)
            elif _is_tree(n, "conditional"):
                cond, then, other = _trees(n)
                flatten(cond)
                branches.append((self.expr(then), self.expr(other)))
            else:
                operands.append(self.expr(n))

        flatten(node)
        line = _line(node)
        result = _associate(operands, operators, line)
        for then, other in reversed(branches):
            result = Conditional(line, result, then, other)
        return result

    def _for(self, node: Any, is_object: bool) -> Expr:
        kids = _trees(node)
        intro = kids[0]
        names = [self.identifier(i) for i in _trees(intro) if i.data == "identifier"]
        collection = self.expr(next(i for i in _trees(intro) if i.data != "identifier"))
        key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        exprs = [k for k in kids[1:] if k.data != "for_cond"]
        conds = [k for k in kids[1:] if k.data == "for_cond"]
        cond = self.expr(_trees(conds[0])[0]) if conds else None
        grouping = any(str(t) == "..." for t in node.children if not _is_tree(t))
        line = _line(node)
        if is_object:
            return ForExpr(line, key_var, value_var, collection, self.expr(exprs[0]), self.expr(exprs[1]),
                           cond, grouping)
        return ForExpr(line, key_var, value_var, collection, None, self.expr(exprs[0]), cond)

    def x_for_tuple_expr(self, node: Any) -> Expr:
        return self._for(node, is_object=False)

    def x_for_object_expr(self, node: Any) -> Expr:
        return self._for(node, is_object=True)


_DIRECTIVE = re.compile(r"(?<!%)%\{(~?)\s*(.*?)\s*(~?)\}", re.DOTALL)
_FOR_HEAD = re.compile(r"for\s+([A-Za-z_][\w-]*)\s*(?:,\s*([A-Za-z_][\w-]*)\s*)?in\s+(.+)$", re.DOTALL)


class _TemplateError(Exception):
    pass


def _directive_tokens(parts: list[Any]) -> list[tuple[str, Any]]:
    """Template parts as ("text", s), ("expr", e) and ("dir", (words, strip_left, strip_right)) tokens."""
    tokens: list[tuple[str, Any]] = []
    for part in parts:
        if not isinstance(part, str):
            tokens.append(("expr", part))
            continue
        pos = 0
        for m in _DIRECTIVE.finditer(part):
            tokens.append(("text", part[pos: m.start()]))
            tokens.append(("dir", (m.group(2), m.group(1) == "~", m.group(3) == "~")))
            pos = m.end()
        tokens.append(("text", part[pos:]))
    # strip markers: "~" trims the whitespace next to the directive
    for i, (kind, value) in enumerate(tokens):
        if kind != "dir":
            continue
        _, left, right = value
        if left and i > 0 and tokens[i - 1][0] == "text":
            tokens[i - 1] = ("text", tokens[i - 1][1].rstrip())
        if right and i + 1 < len(tokens) and tokens[i + 1][0] == "text":
            tokens[i + 1] = ("text", tokens[i + 1][1].lstrip())
    return [(k, v.replace("%%{", "%{") if k == "text" else v) for k, v in tokens if not (k == "text" and v == "")]


def _associate(operands: list[Expr], operators: list[str], line: int) -> Expr:
    """Precedence climbing over a flat ``a op b op c`` chain (left-associative).

    Operator ``i`` stands between operands ``i`` and ``i + 1``.
    """
    pos = 0

    def climb(min_prec: int) -> Expr:
        nonlocal pos
        left = operands[pos]
        while pos < len(operators) and _PRECEDENCE[operators[pos]] >= min_prec:
            op = operators[pos]
            pos += 1
            left = Binary(line, op, left, climb(_PRECEDENCE[op] + 1))
        return left

    return climb(0)


def references(expr: Any) -> bool:
    """Whether an expression reads anything but literals (variables, resources, calls)."""
    if isinstance(expr, Literal):
        return False
    if isinstance(expr, Template):
        return any(references(p) for p in expr.parts if isinstance(p, Expr))
    if isinstance(expr, TupleExpr):
        return any(references(i) for i in expr.items)
    if isinstance(expr, ObjectExpr):
        return any(references(k) or references(v) for k, v in expr.items)
    if isinstance(expr, Unary):
        return references(expr.operand)
    if isinstance(expr, Binary):
        return references(expr.left) or references(expr.right)
    return True
