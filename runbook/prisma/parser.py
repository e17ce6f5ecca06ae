"""A parser of the Prisma schema language (``schema.prisma``).

Hand-written: a small tokenizer (:mod:`runbook.prisma.lexer`) and a recursive-descent
parser, no dependency.  There is no maintained Python parser of the Prisma language on
PyPI (``prisma-schema-parser`` does not exist there; Prisma's own parser is the Rust
crate ``schema-ast`` inside ``prisma-engines``, reachable from Python only through the
Node CLI), so this module follows that crate's grammar
(``psl/schema-ast/src/parser/datamodel.pest``):

* top-level blocks ``model``, ``view``, ``type`` (composite type), ``enum``,
  ``datasource`` and ``generator``;
* a field is ``name Type[]? @attr(...) @attr ...`` ended by a newline, a block
  attribute ``@@name(...)`` is ended by a newline; inside ``(...)`` and ``[...]``
  newlines are allowed (a leniency Prisma does not have);
* identifiers, strings, numbers and comments are the lexer's (see its docstring);
  ``///`` doc comments are kept as ``doc`` on the model, view, type, enum, field or
  enum value they precede (or trail, on the same line).

The result is a :class:`~runbook.prisma.model.Schema`.  Only syntax is checked, not
Prisma's validation rules; a syntax error raises :class:`PrismaSyntaxError` naming the
1-based line and column.  Duplicate top-level names are reported the same way.
"""

from __future__ import annotations

import dataclasses as dc
from pathlib import Path
from typing import Any

from ..errors import BadInput
from .lexer import _Lexer, _Tok
from .model import (
    SCALAR_TYPES,
    Arg,
    Attribute,
    Call,
    ConfigBlock,
    Enum,
    EnumValue,
    Field,
    Model,
    PrismaSyntaxError,
    Ref,
    Relation,
    Schema,
    _attr,
    _map_value,
    _native_type,
    _relation,
)

__all__ = ["parse", "load"]


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
