"""The parsed form of a Prisma schema: frozen data classes, and how values print back.

Every attribute is kept generically as :class:`Attribute` (name without the ``@``,
arguments as :class:`Arg`), so unknown ones (``@@fulltext``, ``@ignore``, future ones)
survive.  Well-known ones are also decoded into typed fields (``Field.default``,
``Field.relation``, ``Model.primary_key`` ...); the decoding helpers are at the end of
this module, beside the classes whose properties use them.

Values of arguments and of ``datasource``/``generator`` keys are decoded as:
``str`` (escapes resolved), ``int``/``float``, ``bool`` (``true``/``false``),
:class:`Ref` (a bare name: an enum value, ``Cascade``, ``Desc``, a field name),
``tuple`` (an array) and :class:`Call` (``cuid()``, ``env("X")``, ``a(sort: Desc)``);
:func:`render_value` writes one back as Prisma source text.

A syntax error is a :class:`PrismaSyntaxError` (defined here, raised by the lexer and
the parser).
"""

from __future__ import annotations

import dataclasses as dc
from dataclasses import dataclass
from typing import Any, Iterable, Union

from ..errors import BadInput

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
    "render_value",
]

SCALAR_TYPES = frozenset(
    {"String", "Boolean", "Int", "BigInt", "Float", "Decimal", "DateTime", "Json", "Bytes"}
)
REFERENTIAL_ACTIONS = frozenset({"Cascade", "Restrict", "NoAction", "SetNull", "SetDefault"})


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

