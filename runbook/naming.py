"""Identifiers: quoting, validation, and the names Prisma and PostgreSQL derive.

Every identifier that reaches SQL goes through :func:`q`, which follows PostgreSQL's own
``quote_ident()`` (``quote_identifier()`` in ``ruleutils.c``): a name stays bare only when
it is lowercase letters, digits and underscores, starts with a letter or underscore, and
is not a keyword PostgreSQL reserves in any way; otherwise it is double-quoted with its
quotes doubled. So ``users`` stays bare, ``"User"`` is quoted, ``"a""b"`` is escaped, and
the rendered scripts read like ones a person would write and still cannot be broken by a
name.

Not SQLAlchemy's identifier preparer, which this module used before: it left
``lateral`` (fully reserved), ``collation`` and ``concurrently`` (reserved as type and
function names) and ~70 other keywords bare, which breaks the SQL; and importing it cost
every command 0.1 s. The keyword list is PostgreSQL 18's ``pg_get_keywords()`` minus the
unreserved ones; tests compare :func:`q` with the server's ``quote_ident()``.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidIdentifier

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1

#: what ON DELETE / ON UPDATE of a foreign key may say (written into the SQL as it is)
FK_ACTIONS = frozenset({"CASCADE", "RESTRICT", "NO ACTION", "SET NULL", "SET DEFAULT"})

#: ``SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'`` on PostgreSQL 18: keywords
#: that must be quoted to be used as a name (reserved, type/function names, column names)
RESERVED_KEYWORDS = frozenset("""
all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean
both case cast char character check coalesce collate collation column concurrently constraint create
cross current_catalog current_date current_role current_schema current_time current_timestamp
current_user dec decimal default deferrable desc distinct do else end except exists extract false
fetch float for foreign freeze from full grant greatest group grouping having ilike in initially
inner inout int integer intersect interval into is isnull join json json_array json_arrayagg
json_exists json_object json_objectagg json_query json_scalar json_serialize json_table json_value
lateral leading least left like limit localtime localtimestamp merge_action national natural nchar
none normalize not notnull null nullif numeric offset on only or order out outer overlaps overlay
placing position precision primary real references returning right row select session_user setof
similar smallint some substring symmetric system_user table tablesample then time timestamp to
trailing treat trim true union unique user using values varchar variadic verbose when where window
with xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot
xmlserialize xmltable
""".split())

_BARE = re.compile(r"[a-z_][a-z0-9_]*\Z")


def q(name: str) -> str:
    """Quote an identifier for PostgreSQL, only when needed (as ``quote_ident()`` does)."""
    if _BARE.match(name) and name not in RESERVED_KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def qq(schema: str, name: str) -> str:
    """A schema-qualified identifier."""
    return f"{q(schema)}.{q(name)}"


def literal(value) -> str:
    """A SQL literal for a plain Python value (str, bool, int, float, None)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidIdentifier("a literal contains a NUL byte")
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def validate_identifier(name, what: str = "name") -> str:
    """Refuse what cannot safely be a table/column/type name: one clear reason."""
    if not isinstance(name, str):
        raise InvalidIdentifier(f"{what} must be a string, got {type(name).__name__}: {name!r}")
    if name == "" or name.strip() == "":
        raise InvalidIdentifier(f"{what} is empty")
    if name != name.strip():
        raise InvalidIdentifier(f"{what} {name!r} has leading or trailing whitespace")
    if len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
        raise InvalidIdentifier(
            f"{what} {name[:20]!r}... is {len(name.encode('utf-8'))} bytes; PostgreSQL keeps only {MAX_IDENTIFIER_BYTES}",
            name=name,
        )
    bad = [c for c in name if c in '";\\' or unicodedata.category(c).startswith("C")]
    if bad:
        raise InvalidIdentifier(f"{what} {name!r} contains {bad[0]!r}: quotes, semicolons, backslashes and control characters are refused", name=name)
    if name.lower().startswith("pg_"):
        raise InvalidIdentifier(f"{what} {name!r} starts with pg_, which PostgreSQL reserves for system objects", name=name)
    return name


def pg_object_name(name1: str, name2: str | None, label: str) -> str:
    """PostgreSQL's ``makeObjectName``: how it names a serial column's sequence.

    ``<table>_<column>_seq``; when too long, the longer of the two parts is shortened
    one character at a time until the whole fits in 63 bytes.
    """
    overhead = len(label.encode()) + 1 + (1 if name2 else 0)
    n1, n2 = name1, name2 or ""
    avail = MAX_IDENTIFIER_BYTES - overhead
    while len(n1.encode()) + len(n2.encode()) > avail:
        if len(n1.encode()) > len(n2.encode()):
            n1 = n1[:-1]
        else:
            n2 = n2[:-1]
    return f"{n1}_{n2}_{label}" if name2 else f"{n1}_{label}"


_snake_re = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``AssistantChatSession`` -> ``assistant_chat_session`` (for suggestions only)."""
    return _snake_re.sub("_", name).lower()


def is_pascal_case(name: str) -> bool:
    return bool(re.match(r"^[A-Z][A-Za-z0-9]*$", name)) and name != name.upper() or bool(
        re.match(r"^[A-Z][a-z0-9]+([A-Z][a-z0-9]*)*$", name))


def is_snake_case(name: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$", name))
