"""A parser of the Prisma schema language (``schema.prisma``).

Hand-written: a small tokenizer and a recursive-descent parser, no dependency.  There
is no maintained Python parser of the Prisma language on PyPI (``prisma-schema-parser``
does not exist there; Prisma's own parser is the Rust crate ``schema-ast`` inside
``prisma-engines``, reachable from Python only through the Node CLI), so this module
follows that crate's grammar (``psl/schema-ast/src/parser/datamodel.pest``):

* top-level blocks ``model``, ``view``, ``type`` (composite type), ``enum``,
  ``datasource`` and ``generator``;
* a field is ``name Type[]? @attr(...) @attr ...`` ended by a newline, a block
  attribute ``@@name(...)`` is ended by a newline; inside ``(...)`` and ``[...]``
  newlines are allowed (a leniency Prisma does not have);
* identifiers are ASCII letters, digits, ``_`` and ``-``; attribute names are dotted
  paths (``@db.VarChar``); strings are JSON strings; numbers ``-?\\d+(\\.\\d+)?``;
* ``//`` comments are dropped, ``///`` doc comments are kept as ``doc`` on the model,
  view, type, enum, field or enum value they precede (or trail, on the same line).

Every attribute is kept generically as :class:`Attribute` (name without the ``@``,
arguments as :class:`Arg`), so unknown ones (``@@fulltext``, ``@ignore``, future ones)
survive.  Well-known ones are also decoded into typed fields (``Field.default``,
``Field.relation``, ``Model.primary_key`` ...).

Values of arguments and of ``datasource``/``generator`` keys are decoded as:
``str`` (escapes resolved), ``int``/``float``, ``bool`` (``true``/``false``),
:class:`Ref` (a bare name: an enum value, ``Cascade``, ``Desc``, a field name),
``tuple`` (an array) and :class:`Call` (``cuid()``, ``env("X")``, ``a(sort: Desc)``).

Only syntax is checked, not Prisma's validation rules; a syntax error raises
:class:`PrismaSyntaxError` naming the 1-based line and column.  Duplicate top-level
names are reported the same way.
"""

from __future__ import annotations

import dataclasses as dc
import functools
import re
from dataclasses import dataclass

from pathlib import Path
from typing import Any, Iterable, Iterator, Union

from runbook.errors import BadInput

__all__ = [
    "PrismaSyntaxError",
    "Ref",
    "Call",
    "Arg",
    "Attribute",
    "Relation",
    "IndexField",
    "IndexSpec",
    "Field",
    "Model",
    "EnumValue",
    "Enum",
    "ConfigBlock",
    "Schema",
    "SCALAR_TYPES",
    "parse",
    "load",
    "default_target_schema",
    "render_value",
    "prisma_constraint_name",
    "prisma_default_names",
    "prisma_join_table_name",
    "prisma_m2m_names",
    "ImplicitManyToMany",
    "implicit_many_to_many",
    "POSTGRES_MAX_IDENTIFIER_LENGTH",
]

SCALAR_TYPES = frozenset(
    {"String", "Boolean", "Int", "BigInt", "Float", "Decimal", "DateTime", "Json", "Bytes"}
)
REFERENTIAL_ACTIONS = frozenset({"Cascade", "Restrict", "NoAction", "SetNull", "SetDefault"})
POSTGRES_MAX_IDENTIFIER_LENGTH = 63


# --------------------------------------------------------------------------- errors


class PrismaSyntaxError(BadInput, ValueError):
    """The text is not valid Prisma schema syntax.

    ``reason`` is the bare message, ``line`` and ``column`` are 1-based, ``source`` is
    the file name when known; ``str()`` names all of them.
    """

    def __init__(self, message: str, line: int, column: int, source: str | None = None):
        where = f"{source}: " if source else ""
        super().__init__(
            f"{where}line {line}, column {column}: {message}",
            reason=message,
            line=line,
            column=column,
            source=source,
        )


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Ref:
    """A bare name used as a value: an enum value, ``Cascade``, ``Desc``, a field."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Arg:
    """One argument: ``name`` is None for a positional one."""

    name: str | None
    value: Any


@dataclass(frozen=True)
class Call:
    """A function call value: ``cuid()``, ``uuid(7)``, ``env("URL")``, ``a(sort: Desc)``."""

    name: str
    args: tuple[Arg, ...] = ()

    @property
    def positional(self) -> tuple:
        return tuple(a.value for a in self.args if a.name is None)

    def get(self, name: str, default: Any = None) -> Any:
        for a in self.args:
            if a.name == name:
                return a.value
        return default

    def __str__(self) -> str:
        return render_value(self)


Value = Union[str, int, float, bool, Ref, Call, tuple]


def render_value(value: Any) -> str:
    """Render a decoded value back to Prisma source text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        out = []
        for ch in value:
            if ch == '"':
                out.append('\\"')
            elif ch == "\\":
                out.append("\\\\")
            elif ch == "\n":
                out.append("\\n")
            elif ch == "\r":
                out.append("\\r")
            elif ch == "\t":
                out.append("\\t")
            elif ord(ch) < 0x20:
                out.append(f"\\u{ord(ch):04x}")
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Ref):
        return value.name
    if isinstance(value, Call):
        return f"{value.name}({_render_args(value.args)})"
    if isinstance(value, tuple):
        return "[" + ", ".join(render_value(v) for v in value) + "]"
    raise TypeError(f"not a Prisma value: {value!r}")


def _render_args(args: Iterable[Arg]) -> str:
    def one(a: Arg) -> str:
        if a.name is None:
            return render_value(a.value)
        if a.value is None:  # an "empty argument" such as `fields: `, kept as written
            return f"{a.name}:"
        return f"{a.name}: {render_value(a.value)}"

    return ", ".join(one(a) for a in args)


@dataclass(frozen=True)
class Attribute:
    """``@name(args)`` on a field / enum value, or ``@@name(args)`` on a block.

    ``name`` has no ``@``; native types keep their datasource prefix (``db.VarChar``).
    ``args is None`` means written without parentheses (``@id``), ``()`` means ``@x()``.
    """

    name: str
    args: tuple[Arg, ...] | None = None
    line: int = dc.field(default=0, compare=False)

    @property
    def arguments(self) -> tuple[Arg, ...]:
        return self.args or ()

    def arg(self, name: str | None = None, position: int = 0, default: Any = None) -> Any:
        """The value of the named argument, else of the ``position``-th positional one."""
        if name is not None:
            for a in self.arguments:
                if a.name == name:
                    return a.value
        positional = [a.value for a in self.arguments if a.name is None]
        if position is not None and position < len(positional):
            return positional[position]
        return default

    def render(self, block: bool = False) -> str:
        at = "@@" if block else "@"
        if self.args is None:
            return f"{at}{self.name}"
        return f"{at}{self.name}({_render_args(self.args)})"


# --------------------------------------------------------------------------- model parts


@dataclass(frozen=True)
class Relation:
    """A relation field's ``@relation(...)``; all empty for the back side of a relation."""

    name: str | None = None
    fields: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    on_delete: str | None = None
    on_update: str | None = None
    map: str | None = None


@dataclass(frozen=True)
class IndexField:
    """One entry of an index's field list: ``a`` or ``a(sort: Desc, length: 10, ops: X)``."""

    name: str
    sort: str | None = None
    length: int | None = None
    ops: Any = None


@dataclass(frozen=True)
class IndexSpec:
    """``@id``/``@@id`` (kind ``id``), ``@unique``/``@@unique`` (``unique``),
    ``@@index`` (``index``), ``@@fulltext`` (``fulltext``)."""

    kind: str
    fields: tuple[IndexField, ...]
    name: str | None = None
    map: str | None = None
    type: str | None = None
    clustered: bool | None = None
    attribute: Attribute | None = dc.field(default=None, compare=False)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    optional: bool = False
    list: bool = False
    attributes: tuple[Attribute, ...] = ()
    db_name: str = ""
    native_type: tuple[str, tuple[str, ...]] | None = None
    default: Any = None
    is_id: bool = False
    is_unique: bool = False
    is_updated_at: bool = False
    relation: Relation | None = None
    doc: str | None = None
    unsupported: str | None = None
    kind: str = "unknown"  # scalar | enum | model | composite | unsupported | unknown
    line: int = dc.field(default=0, compare=False)

    @property
    def has_default(self) -> bool:
        return self.attribute("default") is not None

    @property
    def is_relation(self) -> bool:
        return self.kind == "model"

    @property
    def is_ignored(self) -> bool:
        return self.attribute("ignore") is not None

    def attribute(self, name: str) -> Attribute | None:
        for a in self.attributes:
            if a.name == name:
                return a
        return None


@dataclass(frozen=True)
class Model:
    """A ``model``, a ``view`` or a composite ``type`` (see ``kind``)."""

    name: str
    fields: tuple[Field, ...]
    attributes: tuple[Attribute, ...] = ()
    db_name: str = ""
    doc: str | None = None
    kind: str = "model"
    line: int = dc.field(default=0, compare=False)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.kind} {self.name} has no field {name!r}")

    def has_field(self, name: str) -> bool:
        return any(f.name == name for f in self.fields)

    def column(self, field_name: str) -> str:
        """The database column of a field (its ``@map`` or its name)."""
        return self.field(field_name).db_name

    def scalar_fields(self) -> tuple[Field, ...]:
        """Fields stored in a column: every field that is not a relation field."""
        return tuple(f for f in self.fields if f.kind != "model")

    def relation_fields(self) -> tuple[Field, ...]:
        """Fields whose type is another model (or view)."""
        return tuple(f for f in self.fields if f.kind == "model")

    def attribute(self, name: str) -> Attribute | None:
        for a in self.attributes:
            if a.name == name:
                return a
        return None

    def attributes_named(self, name: str) -> tuple[Attribute, ...]:
        return tuple(a for a in self.attributes if a.name == name)

    @property
    def schema(self) -> str | None:
        """The ``@@schema("...")`` (multiSchema) value, if any."""
        a = self.attribute("schema")
        return _map_value(a)

    @property
    def is_ignored(self) -> bool:
        return self.attribute("ignore") is not None

    @property
    def primary_key(self) -> IndexSpec | None:
        a = self.attribute("id")
        if a is not None:
            return _index_spec("id", a)
        for f in self.fields:
            fa = f.attribute("id")
            if fa is not None:
                return _field_index_spec("id", f.name, fa)
        return None

    @property
    def id_fields(self) -> tuple[str, ...]:
        pk = self.primary_key
        return pk.field_names if pk else ()

    @property
    def unique_constraints(self) -> tuple[IndexSpec, ...]:
        """Field-level ``@unique`` first (in field order), then ``@@unique``."""
        out = [
            _field_index_spec("unique", f.name, f.attribute("unique"))
            for f in self.fields
            if f.attribute("unique") is not None
        ]
        out += [_index_spec("unique", a) for a in self.attributes_named("unique")]
        return tuple(out)

    @property
    def indexes(self) -> tuple[IndexSpec, ...]:
        """``@@index`` then ``@@fulltext`` entries."""
        return tuple(_index_spec("index", a) for a in self.attributes_named("index")) + tuple(
            _index_spec("fulltext", a) for a in self.attributes_named("fulltext")
        )


@dataclass(frozen=True)
class EnumValue:
    name: str
    db_name: str
    attributes: tuple[Attribute, ...] = ()
    doc: str | None = None


@dataclass(frozen=True)
class Enum:
    name: str
    values: tuple[EnumValue, ...]
    db_name: str = ""
    attributes: tuple[Attribute, ...] = ()
    doc: str | None = None
    line: int = dc.field(default=0, compare=False)

    @property
    def value_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.values)

    @property
    def db_values(self) -> tuple[str, ...]:
        return tuple(v.db_name for v in self.values)

    @property
    def schema(self) -> str | None:
        return _map_value(_attr(self.attributes, "schema"))


@dataclass(frozen=True)
class ConfigBlock:
    """A ``datasource`` or ``generator`` block: ordered ``key = value`` properties."""

    kind: str
    name: str
    properties: tuple[tuple[str, Any], ...]
    doc: str | None = None

    def get(self, key: str, default: Any = None) -> Any:
        for k, v in self.properties:
            if k == key:
                return v
        return default

    @property
    def provider(self) -> Any:
        return self.get("provider")


@dataclass(frozen=True)
class Schema:
    models: tuple[Model, ...] = ()
    enums: tuple[Enum, ...] = ()
    datasources: tuple[ConfigBlock, ...] = ()
    generators: tuple[ConfigBlock, ...] = ()
    views: tuple[Model, ...] = ()
    types: tuple[Model, ...] = ()

    def model(self, name: str) -> Model:
        """The model (or, failing that, view) called ``name``; KeyError if none."""
        for m in self.models + self.views:
            if m.name == name:
                return m
        raise KeyError(f"no model {name!r}")

    def has_model(self, name: str) -> bool:
        return any(m.name == name for m in self.models + self.views)

    def model_by_table(self, db_name: str, schema: str | None = None) -> Model:
        """The model mapped to table ``db_name`` (and ``@@schema``, if given)."""
        for m in self.models:
            if m.db_name == db_name and (schema is None or m.schema == schema):
                return m
        raise KeyError(f"no model mapped to table {db_name!r}")

    def view(self, name: str) -> Model:
        for m in self.views:
            if m.name == name:
                return m
        raise KeyError(f"no view {name!r}")

    def composite_type(self, name: str) -> Model:
        for m in self.types:
            if m.name == name:
                return m
        raise KeyError(f"no type {name!r}")

    def enum(self, name: str) -> Enum:
        for e in self.enums:
            if e.name == name:
                return e
        raise KeyError(f"no enum {name!r}")

    def has_enum(self, name: str) -> bool:
        return any(e.name == name for e in self.enums)

    @property
    def datasource(self) -> ConfigBlock | None:
        return self.datasources[0] if self.datasources else None

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(m.db_name for m in self.models)


# --------------------------------------------------------------------------- tokenizer


@dataclass(frozen=True)
class _Tok:
    kind: str  # IDENT NUMBER STRING DOC NL EOF or the punctuation itself
    value: Any
    line: int
    col: int


_PUNCT = "{}()[],:=?.!"
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?![A-Za-z0-9_\-])")
_IDENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]*")
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class _Lexer:
    def __init__(self, text: str, source: str | None):
        self.text = text
        self.source = source

    def error(self, message: str, line: int, col: int) -> PrismaSyntaxError:
        return PrismaSyntaxError(message, line, col, self.source)

    def tokens(self) -> Iterator[_Tok]:
        text = self.text
        i, n = 0, len(text)
        line, line_start = 1, 0
        while i < n:
            ch = text[i]
            col = i - line_start + 1
            if ch == "\n" or ch == "\r":
                yield _Tok("NL", None, line, col)
                i += 2 if text.startswith("\r\n", i) else 1
                line, line_start = line + 1, i
            elif ch.isspace() or ch == "\ufeff":
                i += 1
            elif text.startswith("//", i):
                end = i
                while end < n and text[end] not in "\r\n":
                    end += 1
                if text.startswith("///", i):
                    yield _Tok("DOC", text[i + 3 : end].strip(), line, col)
                i = end
            elif ch == '"':
                value, i = self._string(i, line, col)
                yield _Tok("STRING", value, line, col)
            elif text.startswith("@@", i):
                yield _Tok("@@", "@@", line, col)
                i += 2
            elif ch == "@":
                yield _Tok("@", "@", line, col)
                i += 1
            elif ch in _PUNCT:
                yield _Tok(ch, ch, line, col)
                i += 1
            else:
                m = _NUMBER.match(text, i)
                if m:
                    raw = m.group()
                    yield _Tok("NUMBER", float(raw) if "." in raw else int(raw), line, col)
                    i = m.end()
                    continue
                m = _IDENT.match(text, i)
                if m:
                    yield _Tok("IDENT", m.group(), line, col)
                    i = m.end()
                    continue
                raise self.error(f"unexpected character {ch!r}", line, col)
        yield _Tok("EOF", None, line, i - line_start + 1)

    def _string(self, start: int, line: int, col: int) -> tuple[str, int]:
        text, n = self.text, len(self.text)
        out: list[str] = []
        i = start + 1
        while True:
            if i >= n or text[i] in "\r\n":
                raise self.error("unterminated string literal", line, col)
            ch = text[i]
            if ch == '"':
                return "".join(out), i + 1
            if ord(ch) < 0x20 and ch != "\t":
                raise self.error("control character in string literal", line, col + (i - start))
            if ch == "\\":
                if i + 1 >= n or text[i + 1] in "\r\n":
                    raise self.error("unterminated string literal", line, col)
                esc = text[i + 1]
                if esc == "u":
                    hexdigits = text[i + 2 : i + 6]
                    if len(hexdigits) == 4 and all(c in "0123456789abcdefABCDEF" for c in hexdigits):
                        code = int(hexdigits, 16)
                        i += 6
                        # a UTF-16 surrogate pair, as in JSON
                        if 0xD800 <= code < 0xDC00 and text.startswith("\\u", i):
                            low_hex = text[i + 2 : i + 6]
                            try:
                                low = int(low_hex, 16)
                            except ValueError:
                                low = 0
                            if 0xDC00 <= low < 0xE000:
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                                i += 6
                        out.append(chr(code))
                        continue
                    raise self.error("invalid \\u escape in string literal", line, col + (i - start))
                out.append(_SIMPLE_ESCAPES.get(esc, esc))  # Prisma accepts "\" ANY
                i += 2
                continue
            out.append(ch)
            i += 1


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str, source: str | None = None):
        self.source = source
        self.toks = list(_Lexer(text, source).tokens())
        self.pos = 0

    # -- helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.pos]

    def peek(self, k: int = 1) -> _Tok:
        return self.toks[min(self.pos + k, len(self.toks) - 1)]

    def advance(self) -> _Tok:
        t = self.toks[self.pos]
        if t.kind != "EOF":
            self.pos += 1
        return t

    def error(self, message: str, tok: _Tok | None = None) -> PrismaSyntaxError:
        tok = tok or self.tok
        return PrismaSyntaxError(message, tok.line, tok.col, self.source)

    @staticmethod
    def describe(tok: _Tok) -> str:
        if tok.kind == "EOF":
            return "end of file"
        if tok.kind == "NL":
            return "end of line"
        if tok.kind == "IDENT":
            return repr(tok.value)
        if tok.kind == "STRING":
            return "a string"
        if tok.kind == "NUMBER":
            return "a number"
        if tok.kind == "DOC":
            return "a doc comment"
        return repr(tok.kind)

    def expect(self, kind: str, what: str | None = None) -> _Tok:
        if self.tok.kind != kind:
            raise self.error(f"expected {what or repr(kind)}, found {self.describe(self.tok)}")
        return self.advance()

    def skip_nl(self) -> None:
        while self.tok.kind in ("NL", "DOC"):
            self.advance()

    def end_of_line(self, what: str) -> str | None:
        """After a field / attribute / value: a trailing doc comment, then a newline or '}'."""
        doc = None
        if self.tok.kind == "DOC":
            doc = self.advance().value
        if self.tok.kind == "NL":
            self.advance()
        elif self.tok.kind not in ("}", "EOF"):
            raise self.error(f"unexpected {self.describe(self.tok)} after {what}")
        return doc

    # -- schema
    def parse(self) -> Schema:
        blocks: dict[str, list] = {k: [] for k in ("model", "view", "type", "enum", "datasource", "generator")}
        seen: dict[tuple[str, str], _Tok] = {}
        docs: list[str] = []
        while self.tok.kind != "EOF":
            t = self.tok
            if t.kind == "NL":
                self.advance()
                continue
            if t.kind == "DOC":
                docs.append(self.advance().value)
                continue
            if t.kind != "IDENT" or t.value not in blocks:
                raise self.error(
                    f"expected a block (model, view, type, enum, datasource, generator), found {self.describe(t)}"
                )
            keyword = self.advance().value
            name_tok = self.expect("IDENT", f"a {keyword} name")
            if keyword == "type" and self.tok.kind == "=":
                raise self.error("type aliases are not supported")
            space = "config" if keyword in ("datasource", "generator") else "type"
            key = (space if space == "type" else keyword, name_tok.value)
            if key in seen:
                first = seen[key]
                raise self.error(
                    f"{keyword} {name_tok.value!r} is already defined at line {first.line}", name_tok
                )
            seen[key] = name_tok
            doc = "\n".join(docs) if docs else None
            docs = []
            if keyword in ("model", "view", "type"):
                blocks[keyword].append(self.model_block(keyword, name_tok, doc))
            elif keyword == "enum":
                blocks["enum"].append(self.enum_block(name_tok, doc))
            else:
                blocks[keyword].append(self.config_block(keyword, name_tok, doc))
        return _resolve(
            Schema(
                models=tuple(blocks["model"]),
                enums=tuple(blocks["enum"]),
                datasources=tuple(blocks["datasource"]),
                generators=tuple(blocks["generator"]),
                views=tuple(blocks["view"]),
                types=tuple(blocks["type"]),
            )
        )

    def open_block(self, keyword: str, name: str) -> _Tok:
        return self.expect("{", f"'{{' after {keyword} {name}")

    def unclosed(self, keyword: str, name_tok: _Tok) -> PrismaSyntaxError:
        return self.error(
            f"{keyword} {name_tok.value} (line {name_tok.line}) is not closed: missing '}}'"
        )

    # -- model / view / type
    def model_block(self, keyword: str, name_tok: _Tok, doc: str | None) -> Model:
        self.open_block(keyword, name_tok.value)
        fields: list[Field] = []
        attrs: list[Attribute] = []
        docs: list[str] = []
        field_names: dict[str, _Tok] = {}
        while True:
            t = self.tok
            if t.kind == "}":
                self.advance()
                break
            if t.kind == "EOF":
                raise self.unclosed(keyword, name_tok)
            if t.kind == "NL":
                self.advance()
            elif t.kind == "DOC":
                docs.append(self.advance().value)
            elif t.kind == "@@":
                attrs.append(self.attribute(block=True))
                self.end_of_line("a block attribute")
                docs = []
            elif t.kind == "IDENT":
                if t.value in field_names:
                    raise self.error(
                        f"field {t.value!r} is already defined in {keyword} {name_tok.value} "
                        f"at line {field_names[t.value].line}"
                    )
                field_names[t.value] = t
                fields.append(self.field(docs))
                docs = []
            elif t.kind == "@":
                raise self.error("a field attribute must follow a field type; block attributes start with '@@'")
            else:
                raise self.error(f"expected a field, a block attribute or '}}', found {self.describe(t)}")
        mapped = _attr(attrs, "map")
        db_name = _map_value(mapped) or name_tok.value
        return Model(
            name=name_tok.value,
            fields=tuple(fields),
            attributes=tuple(attrs),
            db_name=db_name,
            doc=doc,
            kind=keyword,
            line=name_tok.line,
        )

    def field(self, docs: list[str]) -> Field:
        name_tok = self.advance()
        t = self.tok
        if t.kind != "IDENT":
            if t.kind == ":":
                raise self.error("legacy 'name: Type' syntax is not supported; write 'name Type'")
            raise self.error(f"expected a type for field {name_tok.value!r}, found {self.describe(t)}")
        type_tok = self.advance()
        unsupported = None
        if type_tok.value == "Unsupported" and self.tok.kind == "(":
            self.advance()
            unsupported = self.expect("STRING", "a string in Unsupported(\"...\")").value
            self.expect(")", "')' closing Unsupported(")
        is_list = optional = False
        if self.tok.kind == "[":
            self.advance()
            self.expect("]", "']' (list types are written Type[])")
            is_list = True
        if self.tok.kind == "?":
            self.advance()
            optional = True
        if self.tok.kind == "!":
            raise self.error("legacy required marker '!' is not supported")
        if self.tok.kind in ("?", "["):
            raise self.error(f"unexpected {self.describe(self.tok)} after type {type_tok.value}")
        attrs: list[Attribute] = []
        while self.tok.kind == "@":
            attrs.append(self.attribute(block=False))
        trailing = self.end_of_line(f"field {name_tok.value!r}")
        all_docs = docs + ([trailing] if trailing else [])
        return _make_field(
            name=name_tok.value,
            type_name=type_tok.value,
            optional=optional,
            is_list=is_list,
            attrs=tuple(attrs),
            doc="\n".join(all_docs) if all_docs else None,
            unsupported=unsupported,
            line=name_tok.line,
        )

    # -- enum
    def enum_block(self, name_tok: _Tok, doc: str | None) -> Enum:
        self.open_block("enum", name_tok.value)
        values: list[EnumValue] = []
        attrs: list[Attribute] = []
        docs: list[str] = []
        seen: dict[str, _Tok] = {}
        while True:
            t = self.tok
            if t.kind == "}":
                self.advance()
                break
            if t.kind == "EOF":
                raise self.unclosed("enum", name_tok)
            if t.kind == "NL":
                self.advance()
            elif t.kind == "DOC":
                docs.append(self.advance().value)
            elif t.kind == "@@":
                attrs.append(self.attribute(block=True))
                self.end_of_line("a block attribute")
                docs = []
            elif t.kind == "IDENT":
                if t.value in seen:
                    raise self.error(f"enum value {t.value!r} is already defined in enum {name_tok.value}")
                seen[t.value] = t
                self.advance()
                vattrs: list[Attribute] = []
                while self.tok.kind == "@":
                    vattrs.append(self.attribute(block=False))
                trailing = None
                if self.tok.kind == "DOC":
                    trailing = self.advance().value
                if self.tok.kind == "NL":
                    self.advance()
                elif self.tok.kind not in ("}", "IDENT", "EOF"):
                    raise self.error(f"unexpected {self.describe(self.tok)} after enum value {t.value!r}")
                all_docs = docs + ([trailing] if trailing else [])
                mapped = _attr(vattrs, "map")
                values.append(
                    EnumValue(
                        name=t.value,
                        db_name=_map_value(mapped) or t.value,
                        attributes=tuple(vattrs),
                        doc="\n".join(all_docs) if all_docs else None,
                    )
                )
                docs = []
            else:
                raise self.error(f"expected an enum value, a block attribute or '}}', found {self.describe(t)}")
        mapped = _attr(attrs, "map")
        return Enum(
            name=name_tok.value,
            values=tuple(values),
            db_name=_map_value(mapped) or name_tok.value,
            attributes=tuple(attrs),
            doc=doc,
            line=name_tok.line,
        )

    # -- datasource / generator
    def config_block(self, keyword: str, name_tok: _Tok, doc: str | None) -> ConfigBlock:
        self.open_block(keyword, name_tok.value)
        props: list[tuple[str, Any]] = []
        while True:
            t = self.tok
            if t.kind == "}":
                self.advance()
                break
            if t.kind == "EOF":
                raise self.unclosed(keyword, name_tok)
            if t.kind in ("NL", "DOC"):
                self.advance()
            elif t.kind == "IDENT":
                key = self.advance()
                self.expect("=", f"'=' after {key.value!r}")
                props.append((key.value, self.expression()))
                if self.tok.kind == "DOC":
                    self.advance()
                if self.tok.kind == "NL":
                    self.advance()
                elif self.tok.kind not in ("}", "IDENT", "EOF"):
                    raise self.error(f"unexpected {self.describe(self.tok)} after the value of {key.value!r}")
            else:
                raise self.error(f"expected 'key = value' or '}}', found {self.describe(t)}")
        return ConfigBlock(kind=keyword, name=name_tok.value, properties=tuple(props), doc=doc)

    # -- attributes and expressions
    def path(self, what: str) -> str:
        parts = [self.expect("IDENT", what).value]
        while self.tok.kind == "." and self.peek().kind == "IDENT":
            self.advance()
            parts.append(self.advance().value)
        return ".".join(parts)

    def attribute(self, block: bool) -> Attribute:
        at = self.advance()
        if self.tok.kind != "IDENT":
            raise self.error(f"expected an attribute name after '{at.kind}', found {self.describe(self.tok)}")
        name = self.path("an attribute name")
        args = self.arguments() if self.tok.kind == "(" else None
        return Attribute(name=name, args=args, line=at.line)

    def arguments(self) -> tuple[Arg, ...]:
        opener = self.expect("(")
        args: list[Arg] = []
        while True:
            self.skip_nl()
            if self.tok.kind == ")":
                self.advance()
                return tuple(args)
            if self.tok.kind == "EOF":
                raise self.error(f"'(' at line {opener.line}, column {opener.col} is not closed")
            if self.tok.kind == "IDENT" and self.peek().kind == ":":
                name = self.advance().value
                self.advance()
                self.skip_nl()
                if self.tok.kind in (",", ")"):
                    args.append(Arg(name, None))  # "empty argument", kept as Prisma does
                else:
                    args.append(Arg(name, self.expression()))
            else:
                args.append(Arg(None, self.expression()))
            self.skip_nl()
            if self.tok.kind == ",":
                self.advance()
            elif self.tok.kind != ")":
                if self.tok.kind == "EOF":
                    raise self.error(f"'(' at line {opener.line}, column {opener.col} is not closed")
                raise self.error(f"expected ',' or ')' in argument list, found {self.describe(self.tok)}")

    def expression(self) -> Any:
        t = self.tok
        if t.kind == "STRING":
            self.advance()
            return t.value
        if t.kind == "NUMBER":
            self.advance()
            return t.value
        if t.kind == "[":
            self.advance()
            items: list[Any] = []
            while True:
                self.skip_nl()
                if self.tok.kind == "]":
                    self.advance()
                    return tuple(items)
                if self.tok.kind == "EOF":
                    raise self.error(f"'[' at line {t.line}, column {t.col} is not closed")
                items.append(self.expression())
                self.skip_nl()
                if self.tok.kind == ",":
                    self.advance()
                elif self.tok.kind != "]":
                    if self.tok.kind == "EOF":
                        raise self.error(f"'[' at line {t.line}, column {t.col} is not closed")
                    raise self.error(f"expected ',' or ']' in list, found {self.describe(self.tok)}")
        if t.kind == "IDENT":
            name = self.path("a name")
            if self.tok.kind == "(":
                return Call(name, self.arguments())
            if name == "true":
                return True
            if name == "false":
                return False
            return Ref(name)
        raise self.error(f"expected a value, found {self.describe(t)}")


# --------------------------------------------------------------------------- decoding


def _attr(attrs: Iterable[Attribute], name: str) -> Attribute | None:
    for a in attrs:
        if a.name == name:
            return a
    return None


def _map_value(a: Attribute | None) -> str | None:
    """The name given by ``@map("x")`` / ``@map(name: "x")`` (also ``@@map``)."""
    if a is None:
        return None
    v = a.arg("name")
    return v if isinstance(v, str) else None


def _native_type(attrs: Iterable[Attribute]) -> tuple[str, tuple[str, ...]] | None:
    for a in attrs:
        if a.name.count(".") == 1:
            return a.name.split(".", 1)[1], tuple(_plain(a2.value) for a2 in a.arguments)
    return None


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Ref):
        return value.name
    return render_value(value)


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, tuple):
        value = (value,)
    out = []
    for v in value:
        if isinstance(v, Ref):
            out.append(v.name)
        elif isinstance(v, Call):
            out.append(v.name)
        else:
            out.append(str(v))
    return tuple(out)


def _ref_name(value: Any) -> str | None:
    if value is None:
        return None
    return value.name if isinstance(value, Ref) else str(value)


def _relation(a: Attribute) -> Relation:
    name = a.arg("name")
    if not isinstance(name, str):
        name = None
    m = a.arg("map", position=None)
    return Relation(
        name=name,
        fields=_names(a.arg("fields", position=None)),
        references=_names(a.arg("references", position=None)),
        on_delete=_ref_name(a.arg("onDelete", position=None)),
        on_update=_ref_name(a.arg("onUpdate", position=None)),
        map=m if isinstance(m, str) else None,
    )


def _index_field(value: Any) -> IndexField:
    if isinstance(value, Call):
        length = value.get("length")
        return IndexField(
            name=value.name,
            sort=_ref_name(value.get("sort")),
            length=length if isinstance(length, int) else None,
            ops=value.get("ops"),
        )
    return IndexField(name=_ref_name(value) or "")


def _index_spec(kind: str, a: Attribute) -> IndexSpec:
    fields = a.arg("fields")
    items = fields if isinstance(fields, tuple) else (() if fields is None else (fields,))
    name = a.arg("name", position=None)
    mp = a.arg("map", position=None)
    clustered = a.arg("clustered", position=None)
    return IndexSpec(
        kind=kind,
        fields=tuple(_index_field(v) for v in items),
        name=name if isinstance(name, str) else None,
        map=mp if isinstance(mp, str) else None,
        type=_ref_name(a.arg("type", position=None)),
        clustered=clustered if isinstance(clustered, bool) else None,
        attribute=a,
    )


def _field_index_spec(kind: str, field_name: str, a: Attribute) -> IndexSpec:
    length = a.arg("length", position=None)
    mp = a.arg("map", position=None)
    clustered = a.arg("clustered", position=None)
    return IndexSpec(
        kind=kind,
        fields=(
            IndexField(
                name=field_name,
                sort=_ref_name(a.arg("sort", position=None)),
                length=length if isinstance(length, int) else None,
            ),
        ),
        map=mp if isinstance(mp, str) else None,
        clustered=clustered if isinstance(clustered, bool) else None,
        attribute=a,
    )


def _make_field(*, name, type_name, optional, is_list, attrs, doc, unsupported, line) -> Field:
    mapped = _attr(attrs, "map")
    default = _attr(attrs, "default")
    rel = _attr(attrs, "relation")
    return Field(
        name=name,
        type=type_name,
        optional=optional,
        list=is_list,
        attributes=attrs,
        db_name=_map_value(mapped) or name,
        native_type=_native_type(attrs),
        default=default.arg("value") if default is not None else None,
        is_id=_attr(attrs, "id") is not None,
        is_unique=_attr(attrs, "unique") is not None,
        is_updated_at=_attr(attrs, "updatedAt") is not None,
        relation=_relation(rel) if rel is not None else None,
        doc=doc,
        unsupported=unsupported,
        kind="unsupported" if unsupported is not None else "unknown",
        line=line,
    )


def _resolve(schema: Schema) -> Schema:
    """Second pass: classify each field's type now that every block name is known."""
    relational = {m.name for m in schema.models + schema.views}
    enums = {e.name for e in schema.enums}
    composites = {t.name for t in schema.types}

    def fix(f: Field) -> Field:
        if f.unsupported is not None:
            kind = "unsupported"
        elif f.type in SCALAR_TYPES:
            kind = "scalar"
        elif f.type in enums:
            kind = "enum"
        elif f.type in relational:
            kind = "model"
        elif f.type in composites:
            kind = "composite"
        else:
            kind = "unknown"
        relation = f.relation
        if kind == "model" and relation is None:
            relation = Relation()
        return dc.replace(f, kind=kind, relation=relation)

    def fix_block(blocks: tuple[Model, ...]) -> tuple[Model, ...]:
        return tuple(dc.replace(m, fields=tuple(fix(f) for f in m.fields)) for m in blocks)

    return dc.replace(
        schema, models=fix_block(schema.models), views=fix_block(schema.views), types=fix_block(schema.types)
    )


# --------------------------------------------------------------------------- API


def parse(text: str, source: str | None = None) -> Schema:
    """Parse Prisma schema text; ``source`` (a file name) is only used in errors."""
    return _Parser(text, source).parse()


def load(path: str | Path) -> Schema:
    """Parse a ``.prisma`` file, or every ``*.prisma`` file under a directory
    (Prisma's multi-file schema), merged in path order."""
    p = Path(path)
    if p.is_dir():
        files = sorted(p.rglob("*.prisma"))
        if not files:
            raise BadInput(f"no .prisma file under {p}", path=str(p))
        parts = [parse(f.read_text(encoding="utf-8"), source=str(f)) for f in files]
        merged = Schema(
            models=tuple(m for s in parts for m in s.models),
            enums=tuple(e for s in parts for e in s.enums),
            datasources=tuple(d for s in parts for d in s.datasources),
            generators=tuple(g for s in parts for g in s.generators),
            views=tuple(v for s in parts for v in s.views),
            types=tuple(t for s in parts for t in s.types),
        )
        _check_duplicates(merged)
        return _resolve(merged)
    return parse(p.read_text(encoding="utf-8"), source=str(p))


def _check_duplicates(schema: Schema) -> None:
    seen: dict[str, str] = {}
    for kind, blocks in (
        ("model", schema.models),
        ("view", schema.views),
        ("type", schema.types),
        ("enum", schema.enums),
    ):
        for b in blocks:
            if b.name in seen:
                raise BadInput(f"{kind} {b.name!r} is defined twice ({seen[b.name]} and {kind})", name=b.name)
            seen[b.name] = kind


@functools.lru_cache(maxsize=1)
def default_target_schema() -> Schema:
    """The target schema of the default mapping's ``[service]`` (packaged beside it)."""
    from ..mapping import load_mapping

    path = load_mapping().service.target_schema
    return parse(path.read_text(encoding="utf-8"), source=f"runbook/data/{path.name}")


# --------------------------------------------------------------------------- constraint names


def prisma_constraint_name(
    table: str,
    columns: Iterable[str] = (),
    suffix: str = "pkey",
    max_length: int = POSTGRES_MAX_IDENTIFIER_LENGTH,
) -> str:
    """Prisma's default name of a constraint or index, truncated as Prisma does.

    Follows ``ConstraintNames`` in prisma-engines
    (``psl/psl-core/src/datamodel_connector/constraint_names.rs``), always with the
    *database* names (``@@map`` / ``@map``), never the model / field names:

    * primary key: ``{table}_pkey`` (``columns`` empty);
    * unique: ``{table}_{col1}_{col2}_key``; index: ``{table}_{cols}_idx``;
      foreign key: ``{table}_{cols}_fkey`` (the referencing table and its columns).

    Truncation: the part before the suffix (``table`` or ``table_col1_col2``, *not*
    only the table name) is cut to ``max_length - len("_" + suffix)`` **bytes** of
    UTF-8 (backing off to a character boundary) when it is at least that long, then
    the suffix is appended; so the result never exceeds ``max_length`` (63 on
    PostgreSQL) bytes and the suffix is always kept whole.  Unlike PostgreSQL's own
    implicit names there is no per-part trimming and no numeric de-duplication.
    Checked against the DDL Prisma 7.10 writes (``tests/data/naming/``): 58- and
    59-byte tables, a cut inside a two-byte character, column lists cut mid-name.

    ``suffix`` may be given with or without its leading underscore (``"pkey"``,
    ``"_key"``, ``"idx"``, ``"fkey"``, ``"df"``).  The implicit many-to-many suffixes
    (``"AB_pkey"``, ``"B_index"``, ``"A_fkey"`` ...) are one suffix each, kept whole:
    see :func:`prisma_m2m_names`.
    """
    suffix = suffix if suffix.startswith("_") else "_" + suffix
    cols = list(columns)
    base = table + ("_" + "_".join(cols) if cols else "")
    limit = max_length - len(suffix.encode("utf-8"))
    raw = base.encode("utf-8")
    if len(raw) >= limit:
        raw = raw[:limit]
        base = raw.decode("utf-8", errors="ignore")  # drops a cut multi-byte character
    return base + suffix


def prisma_default_names(model: Model, schema: Schema | None = None, *, use_map: bool = False) -> dict:
    """The names Prisma Migrate gives ``model``'s table constraints and indexes.

    Returns ``{"pkey": str | None, "unique": {cols: name}, "index": {cols: name},
    "fkey": {cols: name}}`` where ``cols`` is the tuple of *column* names (``@map``
    applied) and every name comes from :func:`prisma_constraint_name` on the table's
    ``@@map`` name.  With ``use_map=True`` an explicit ``map: "..."`` on the
    attribute replaces the default, i.e. the name Prisma would really use.

    Views and composite types have no constraints: all entries are empty/None.
    ``schema`` is accepted for symmetry (and to check relation targets exist) and
    may be omitted.
    """
    out: dict[str, Any] = {"pkey": None, "unique": {}, "index": {}, "fkey": {}}
    if model.kind != "model":
        return out
    table = model.db_name

    def cols(spec: IndexSpec) -> tuple[str, ...]:
        return tuple(model.column(n) if model.has_field(n) else n for n in spec.field_names)

    pk = model.primary_key
    if pk is not None:
        out["pkey"] = (pk.map if use_map and pk.map else None) or prisma_constraint_name(table, (), "pkey")
    for spec in model.unique_constraints:
        c = cols(spec)
        out["unique"][c] = (spec.map if use_map and spec.map else None) or prisma_constraint_name(table, c, "key")
    for spec in model.indexes:
        c = cols(spec)
        out["index"][c] = (spec.map if use_map and spec.map else None) or prisma_constraint_name(table, c, "idx")
    for f in model.relation_fields():
        rel = f.relation
        if rel is None or not rel.fields:
            continue
        if schema is not None and not schema.has_model(f.type):
            continue
        c = tuple(model.column(n) if model.has_field(n) else n for n in rel.fields)
        out["fkey"][c] = (rel.map if use_map and rel.map else None) or prisma_constraint_name(table, c, "fkey")
    return out


# --------------------------------------------------------------------------- implicit many-to-many


def prisma_join_table_name(relation_name: str, max_length: int = POSTGRES_MAX_IDENTIFIER_LENGTH) -> str:
    """The join table of an implicit many-to-many relation: ``_<relation name>``, cut to
    ``max_length`` bytes (Prisma writes the cut name in its DDL)."""
    raw = ("_" + relation_name).encode("utf-8")[:max_length]
    return raw.decode("utf-8", errors="ignore")


def prisma_m2m_names(table: str) -> dict[str, str]:
    """The names Prisma gives the objects of an implicit many-to-many join table.

    ``pkey``: the primary key on ``("A", "B")``, ``_<T>_AB_pkey`` (Prisma 5 and later);
    ``unique``: the unique index on ``("A", "B")`` that Prisma 4 and earlier made instead,
    ``_<T>_AB_unique``; ``index``: the index on ``"B"``, ``_<T>_B_index``; ``A_fkey`` and
    ``B_fkey``: the foreign keys of ``"A"`` and ``"B"``.  Over 63 bytes the table name is
    cut and the suffix kept whole (``_AB_pkey`` is one suffix, not ``_AB`` + ``_pkey``).
    """
    return {k: prisma_constraint_name(table, (), suffix) for k, suffix in
            (("pkey", "AB_pkey"), ("unique", "AB_unique"), ("index", "B_index"), ("A_fkey", "A_fkey"),
             ("B_fkey", "B_fkey"))}


@dataclass(frozen=True)
class ImplicitManyToMany:
    """An implicit many-to-many relation: column ``A`` references ``a``'s id, ``B``
    references ``b``'s (``a`` is the model whose name sorts first)."""

    a: Model
    b: Model
    relation: str
    table: str

    @property
    def schema(self) -> str | None:
        return self.a.schema


def implicit_many_to_many(schema: Schema) -> tuple[ImplicitManyToMany, ...]:
    """Every implicit many-to-many relation of ``schema`` (list fields on both sides, no
    relation model), with its join table name."""
    seen: dict[str, ImplicitManyToMany] = {}
    for m in schema.models:
        for f in m.relation_fields():
            if not f.list or not any(o.name == f.type for o in schema.models):
                continue
            other = schema.model(f.type)
            rname = f.relation.name if f.relation and f.relation.name else None
            back = [g for g in other.relation_fields() if g.type == m.name and g.list and g is not f
                    and (g.relation.name if g.relation else None) == rname]
            if not back:
                continue
            a, b = sorted([m, other], key=lambda x: x.name)
            name = rname or f"{a.name}To{b.name}"
            seen.setdefault(name, ImplicitManyToMany(a, b, name, prisma_join_table_name(name)))
    return tuple(seen.values())
