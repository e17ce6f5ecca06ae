"""Identifiers: quoting, validation, and the names Prisma and PostgreSQL derive.

Every identifier that reaches SQL goes through :func:`q`. It uses SQLAlchemy's
PostgreSQL identifier preparer, which quotes only when it must (``users`` stays bare,
``"User"`` is quoted, ``"a""b"`` is escaped), so the rendered scripts read like ones a
person would write and still cannot be broken by a name.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidIdentifier

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1

_preparer = None


def q(name: str) -> str:
    """Quote an identifier for PostgreSQL (only when needed)."""
    global _preparer
    if _preparer is None:  # imported on first use: `runbook migrate` starts pg_dump before it needs this
        from sqlalchemy.dialects import postgresql

        _preparer = postgresql.dialect().identifier_preparer
    return _preparer.quote(name)


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


# Prisma's naming rule lives with the Prisma schema parser; re-exported here.
from .prisma import prisma_constraint_name  # noqa: E402,F401


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
