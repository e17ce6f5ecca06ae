"""The mapping file: which tables become what, and the column changes that go with it.

TOML or YAML, validated into frozen data. Every name is checked by
:func:`runbook.naming.validate_identifier`; every type against a short safe list or an
enum declared in the same file; every default is a literal. Nothing from the file is
ever pasted into SQL unquoted.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .errors import MappingError
from .naming import FK_ACTIONS, literal, validate_identifier

SAFE_TYPES = {
    "text": "text",
    "boolean": "boolean",
    "bool": "boolean",
    "integer": "integer",
    "int": "integer",
    "bigint": "bigint",
    "double precision": "double precision",
    "jsonb": "jsonb",
    "timestamp(3)": "timestamp(3) without time zone",
    "timestamp": "timestamp(3) without time zone",
    "timestamptz": "timestamp(3) with time zone",
    "timestamptz(3)": "timestamp(3) with time zone",
}
NOW = "now()"


@dataclass(frozen=True)
class ForeignKeyRef:
    table: str  # a source or target name of a mapped table, or any other table of the schema
    column: str
    on_delete: str = "RESTRICT"
    on_update: str = "CASCADE"


@dataclass(frozen=True)
class AddColumn:
    name: str
    type: str  # a SAFE_TYPES value, or the name of an enum (then enum=True)
    enum: bool = False
    not_null: bool = False
    default: object = None  # a literal, or NOW
    references: ForeignKeyRef | None = None

    def default_sql(self) -> str | None:
        return default_sql(self.default, self.type, self.enum)


@dataclass(frozen=True)
class RenameColumn:
    old: str
    new: str
    not_null: bool = False
    fill_nulls: str | None = None


@dataclass(frozen=True)
class SetDefault:
    column: str
    default: object

    def default_sql(self) -> str:
        return default_sql(self.default, None, False)


@dataclass(frozen=True)
class TableMapping:
    old: str
    new: str
    rename_columns: tuple[RenameColumn, ...] = ()
    add_columns: tuple[AddColumn, ...] = ()
    set_defaults: tuple[SetDefault, ...] = ()

    def new_column_name(self, old_column: str) -> str:
        for r in self.rename_columns:
            if r.old == old_column:
                return r.new
        return old_column


@dataclass(frozen=True)
class EnumSpec:
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ServiceSpec:
    """The service that must work after the migration (the mapping's ``[service]``).

    ``target_schema`` is the service's Prisma schema (resolved against the mapping
    file's folder); without it, the service checks are skipped. ``writes`` names the
    models the service inserts into (None: every model of the target schema).
    """

    name: str | None = None
    target_schema: Path | None = None
    writes: tuple[str, ...] | None = None
    health_url: str | None = None

    @property
    def configured(self) -> bool:
        return self.target_schema is not None

    def load_schema(self):
        """The parsed target schema (:class:`runbook.prisma.Schema`), or None."""
        if self.target_schema is None:
            return None
        from .prisma import load

        try:
            return load(self.target_schema)
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError(f"cannot read the service's target schema {self.target_schema}: "
                               f"{getattr(exc, 'strerror', None) or 'not UTF-8'}") from None

    def written_models(self, schema) -> tuple[str, ...]:
        """The models the service writes: ``writes``, or every model of ``schema``."""
        if self.writes is not None:
            return self.writes
        return tuple(m.name for m in schema.models if not m.is_ignored)


@dataclass(frozen=True)
class MergeSpec:
    """The mapping's ``[merge]`` (``runbook merge-legacy``): legacy conversations and their
    messages, into the service's sessions and messages (names after the rename)."""

    conversations_from: str
    conversations_into: str
    messages_from: str
    messages_into: str


@dataclass(frozen=True)
class Mapping:
    schema: str
    tables: tuple[TableMapping, ...]
    enums: tuple[EnumSpec, ...] = ()
    audit_table: str | None = "AuditLog"
    source: str = "<default>"
    service: ServiceSpec = field(default_factory=ServiceSpec)
    merge: MergeSpec | None = None
    #: rename hand-made indexes, constraints and statistics objects whose name starts
    #: with the old table's name (``User_email_trgm_idx`` -> ``users_email_trgm_idx``)
    rename_prefixed: bool = False
    #: expand: a view under each renamed table's old name, with the legacy column names
    #: (``migrate --compat-views``; ``runbook contract`` drops them), in ``compat_schema``
    #: (None: ``schema``)
    compat_views: bool = False
    compat_schema: str | None = None

    def final_name(self, name: str) -> str:
        """A mapped table's new name (given its old or new name); other names unchanged."""
        for t in self.tables:
            if name in (t.old, t.new):
                return t.new
        return name

    def old_name(self, name: str) -> str:
        for t in self.tables:
            if name in (t.old, t.new):
                return t.old
        return name

    def enum(self, name: str) -> EnumSpec | None:
        for e in self.enums:
            if e.name == name:
                return e
        return None


def default_sql(value, type_: str | None, enum: bool) -> str | None:
    if value is None:
        return None
    if value == NOW:
        return "CURRENT_TIMESTAMP"
    return literal(value)


def _expect(d, key, types, where, required=True, default=None):
    if key not in d:
        if required:
            raise MappingError(f"{where}: missing '{key}'")
        return default
    v = d[key]
    if not isinstance(v, types):
        raise MappingError(f"{where}: '{key}' must be {getattr(types, '__name__', types)}, got {type(v).__name__}")
    return v


def _check_keys(d: dict, allowed: set[str], where: str) -> None:
    if not isinstance(d, dict):
        raise MappingError(f"{where}: expected a table of keys, got {type(d).__name__}")
    extra = sorted(set(map(str, d)) - allowed)
    if extra:
        raise MappingError(f"{where}: unknown key '{extra[0]}' (allowed: {', '.join(sorted(allowed))})")


def _type(raw: str, enums: dict[str, EnumSpec], where: str) -> tuple[str, bool]:
    if raw in enums:
        return raw, True
    key = " ".join(raw.lower().split())
    if key in SAFE_TYPES:
        return SAFE_TYPES[key], False
    m = re.fullmatch(r"varchar\((\d{1,5})\)", key)
    if m and 0 < int(m.group(1)) <= 10485760:
        return f"character varying({int(m.group(1))})", False
    raise MappingError(f"{where}: type {raw!r} is not allowed (use one of {', '.join(sorted(SAFE_TYPES))}, varchar(n), or an enum declared under [[enums]])")


def _control_char(text: str) -> str | None:
    """The first control, format or line-separator character in ``text`` (None: none).

    A newline or carriage return would end a ``-- ...`` comment of the generated script,
    and a bidi or zero-width character would make a reviewed script read differently
    from what runs: every literal the mapping gives is refused when it holds one."""
    for c in text:
        if unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp"):
            return c
    return None


def _text_literal(v: str, where: str, what: str) -> str:
    """A string from the mapping that reaches SQL as a literal: no control characters."""
    bad = _control_char(v)
    if bad is not None:
        shown = v if len(v) <= 40 else v[:40] + "..."
        raise MappingError(f"{where}: {what} {shown!r} contains the control character U+{ord(bad):04X}; "
                           "literals in a mapping must be printable text")
    return v


def _default(v, where):
    if isinstance(v, float) and not math.isfinite(v):
        raise MappingError(f"{where}: default {v!r} is not a finite number")
    if v is None or isinstance(v, (bool, int, float, str)):
        if isinstance(v, str):
            _text_literal(v, where, "default")
        return v
    raise MappingError(f"{where}: default must be a string, number or boolean")


def _service(d, source: str, base_dir: Path | None) -> ServiceSpec:
    where = f"{source}: [service]"
    _check_keys(d, {"name", "target_schema", "writes", "health_url"}, where)
    name = _expect(d, "name", str, where, False)
    ts = _expect(d, "target_schema", str, where, False)
    path = None
    if ts is not None:
        if not ts.strip() or any(unicodedata.category(c).startswith("C") for c in ts):
            raise MappingError(f"{where}: target_schema must be a file name without control characters")
        path = Path(ts)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise MappingError(f"{where}: target_schema {ts!r} does not exist (resolved to {path})")
    writes = _expect(d, "writes", list, where, False)
    if writes is not None:
        if not all(isinstance(w, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", w) for w in writes):
            raise MappingError(f"{where}: 'writes' must list Prisma model names")
        if path is None:
            raise MappingError(f"{where}: 'writes' needs a 'target_schema' to name models of")
        writes = tuple(writes)
    url = _expect(d, "health_url", str, where, False)
    if url is not None and not re.match(r"https?://[^\s]+\Z", url):
        raise MappingError(f"{where}: health_url must be an http:// or https:// URL")
    spec = ServiceSpec(name, path, writes, url)
    if path is not None and writes:
        schema = spec.load_schema()
        unknown = [w for w in writes if not schema.has_model(w)]
        if unknown:
            raise MappingError(f"{where}: 'writes' names {', '.join(unknown)}, not a model of {path.name}")
    return spec


def parse_mapping(data: dict, source: str = "<mapping>", base_dir: Path | None = None) -> Mapping:
    """Validate a decoded mapping document into a :class:`Mapping`.

    ``base_dir``: the folder relative paths in the mapping (``[service] target_schema``)
    are resolved against, the mapping file's own."""
    if not isinstance(data, dict):
        raise MappingError(f"{source}: the mapping must be a table of keys")
    _check_keys(data, {"schema", "tables", "enums", "audit_table", "service", "merge", "rename_prefixed",
                        "compat_views", "compat_schema"}, source)
    rename_prefixed = _expect(data, "rename_prefixed", bool, source, False, False)
    compat_views = _expect(data, "compat_views", bool, source, False, False)
    compat_schema = _expect(data, "compat_schema", str, source, False)
    if compat_schema is not None:
        compat_schema = validate_identifier(compat_schema, "compat_schema")
    schema = validate_identifier(_expect(data, "schema", str, source, False, "public"), "schema")
    audit = data.get("audit_table", "AuditLog")
    if audit is not None and audit is not False:
        audit = validate_identifier(audit, "audit_table")
    else:
        audit = None
    enums = _enums(_expect(data, "enums", list, source, False, []), source)
    raw_tables = _expect(data, "tables", list, source)
    if not raw_tables:
        raise MappingError(f"{source}: 'tables' is empty: nothing to rename")
    tables = [_table(t, f"{source}: tables[{i}]", source, enums) for i, t in enumerate(raw_tables)]
    _check_table_names(tables, enums, source)
    service = _service(data["service"], source, base_dir) if "service" in data else ServiceSpec()
    merge = _merge(data["merge"], source) if "merge" in data else None
    return Mapping(schema, tuple(tables), tuple(enums.values()), audit, source, service, merge, rename_prefixed,
                   compat_views, compat_schema)


def _enums(raw: list, source: str) -> dict[str, EnumSpec]:
    """``[[enums]]``: each a name and its distinct values."""
    enums: dict[str, EnumSpec] = {}
    for i, e in enumerate(raw):
        where = f"{source}: enums[{i}]"
        _check_keys(e, {"name", "values"}, where)
        name = validate_identifier(_expect(e, "name", str, where), f"{where} name")
        values = _expect(e, "values", list, where)
        if not values:
            raise MappingError(f"{where}: an enum needs at least one value")
        for v in values:
            if not isinstance(v, str) or not v or len(v.encode()) > 63:
                raise MappingError(f"{where}: enum value {v!r} must be a non-empty string of at most 63 bytes")
            _text_literal(v, where, "enum value")
        if len(set(values)) != len(values):
            raise MappingError(f"{where}: duplicate enum values")
        if name in enums:
            raise MappingError(f"{where}: enum {name!r} declared twice")
        enums[name] = EnumSpec(name, tuple(values))
    return enums


def _table(t, where: str, source: str, enums: dict[str, EnumSpec]) -> TableMapping:
    """One ``[[tables]]`` entry: its names, column renames, added columns and defaults."""
    _check_keys(t, {"from", "to", "rename_columns", "add_columns", "set_defaults"}, where)
    old = validate_identifier(_expect(t, "from", str, where), f"{where} 'from'")
    new = validate_identifier(_expect(t, "to", str, where), f"{where} 'to'")
    where = f"{source}: table {old!r}"
    if old == new:
        raise MappingError(f"{where}: 'from' and 'to' are the same name")
    renames = [_rename_column(r, f"{where} rename_columns[{j}]")
               for j, r in enumerate(_expect(t, "rename_columns", list, where, False, []))]
    adds = [_add_column(a, f"{where} add_columns[{j}]", enums)
            for j, a in enumerate(_expect(t, "add_columns", list, where, False, []))]
    defaults = []
    for j, d in enumerate(_expect(t, "set_defaults", list, where, False, [])):
        w = f"{where} set_defaults[{j}]"
        _check_keys(d, {"column", "default"}, w)
        defaults.append(SetDefault(validate_identifier(_expect(d, "column", str, w), f"{w} column"),
                                   _default(d.get("default"), w)))
    produced = [r.new for r in renames] + [a.name for a in adds]
    dup = {c for c in produced if produced.count(c) > 1}
    if dup:
        raise MappingError(f"{where}: column {sorted(dup)[0]!r} is produced twice")
    if len({r.old for r in renames}) != len(renames):
        raise MappingError(f"{where}: a column is renamed twice")
    return TableMapping(old, new, tuple(renames), tuple(adds), tuple(defaults))


def _rename_column(r, w: str) -> RenameColumn:
    _check_keys(r, {"from", "to", "not_null", "fill_nulls"}, w)
    fill = _expect(r, "fill_nulls", str, w, False)
    if fill is not None:
        _text_literal(fill, w, "fill_nulls")
    return RenameColumn(validate_identifier(_expect(r, "from", str, w), f"{w} 'from'"),
                        validate_identifier(_expect(r, "to", str, w), f"{w} 'to'"),
                        bool(_expect(r, "not_null", bool, w, False, False)), fill)


def _add_column(a, w: str, enums: dict[str, EnumSpec]) -> AddColumn:
    _check_keys(a, {"name", "type", "not_null", "default", "references"}, w)
    name = validate_identifier(_expect(a, "name", str, w), f"{w} name")
    typ, is_enum = _type(_expect(a, "type", str, w), enums, w)
    not_null = bool(_expect(a, "not_null", bool, w, False, False))
    default = _default(a.get("default"), w)
    if is_enum and default is not None and default not in enums[typ].values:
        raise MappingError(f"{w}: default {default!r} is not a value of enum {typ!r}")
    if not_null and default is None:
        raise MappingError(f"{w}: a NOT NULL column added to a table with rows needs a default")
    ref = _references(a["references"], w) if "references" in a else None
    return AddColumn(name, typ, is_enum, not_null, default, ref)


def _references(rr, w: str) -> ForeignKeyRef:
    _check_keys(rr, {"table", "column", "on_delete", "on_update"}, f"{w} references")
    on_delete = str(rr.get("on_delete", "RESTRICT")).upper()
    on_update = str(rr.get("on_update", "CASCADE")).upper()
    if on_delete not in FK_ACTIONS or on_update not in FK_ACTIONS:
        raise MappingError(f"{w}: on_delete/on_update must be one of {', '.join(sorted(FK_ACTIONS))}")
    return ForeignKeyRef(validate_identifier(_expect(rr, "table", str, w), f"{w} references.table"),
                         validate_identifier(_expect(rr, "column", str, w), f"{w} references.column"),
                         on_delete, on_update)


def _check_table_names(tables: list[TableMapping], enums: dict[str, EnumSpec], source: str) -> None:
    """No table renamed twice, no two tables to one name, no chain or swap, no enum
    named like a table (a table's row type has the table's name)."""
    olds = [t.old for t in tables]
    news = [t.new for t in tables]
    for name in set(olds):
        if olds.count(name) > 1:
            raise MappingError(f"{source}: table {name!r} is renamed twice")
    for name in set(news):
        if news.count(name) > 1:
            srcs = [t.old for t in tables if t.new == name]
            raise MappingError(f"{source}: two tables map to {name!r}: {', '.join(map(repr, srcs))}")
    chained = set(olds) & set(news)
    if chained:
        raise MappingError(f"{source}: {sorted(chained)[0]!r} is both renamed and a rename target; chains and swaps are refused")
    for name in enums:  # CREATE TYPE would fail
        if name in olds or name in news:
            raise MappingError(f"{source}: enum {name!r} has the name of a table the mapping renames")


def _merge(d, source: str) -> MergeSpec:
    where = f"{source}: [merge]"
    _check_keys(d, {"conversations", "messages"}, where)
    out = []
    for key in ("conversations", "messages"):
        part = _expect(d, key, dict, where)
        _check_keys(part, {"from", "into"}, f"{where} {key}")
        out += [validate_identifier(_expect(part, k, str, f"{where} {key}"), f"{where} {key}.{k}") for k in ("from", "into")]
    if len(set(out)) != 4:
        raise MappingError(f"{where}: the four tables must be different")
    return MergeSpec(*out)


def load_mapping(path: str | Path | None = None) -> Mapping:
    """The mapping in ``path`` (``.toml``, ``.yaml``/``.yml``), or the default one."""
    if path is None:
        res = resources.files("runbook.data").joinpath("mapping.toml")
        return parse_mapping(tomllib.loads(res.read_text()), "default mapping", Path(str(res)).parent)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"cannot read mapping {p}: {exc.strerror if isinstance(exc, OSError) else 'not UTF-8'}") from None
    try:
        if p.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = tomllib.loads(text)
    except Exception as exc:  # the parsers raise their own types; all mean "malformed"
        msg = " ".join(str(exc).split())
        raise MappingError(f"mapping {p.name} is malformed: {msg}") from None
    return parse_mapping(data, p.name, p.resolve().parent)


def as_mapping(mapping: "Mapping | str | Path | None") -> Mapping:
    """A :class:`Mapping` as given, or loaded from its path (None: the default mapping)."""
    if isinstance(mapping, Mapping):
        return mapping
    return load_mapping(mapping)


@functools.lru_cache(maxsize=1)
def default_target_schema():
    """The target schema of the default mapping's ``[service]`` (packaged beside it), parsed
    (a :class:`runbook.prisma.Schema`).  Here, not in :mod:`runbook.prisma`, which knows no
    mapping."""
    from .prisma import parse

    path = load_mapping().service.target_schema
    return parse(path.read_text(encoding="utf-8"), source=f"runbook/data/{path.name}")
