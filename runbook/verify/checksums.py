"""Row counts and content checksums, computed in the database in one pass per table
(``count(*)`` and ``sum(hashtextextended(ROW(...)::text, 0))``), never by pulling rows
into Python."""

from __future__ import annotations

from ..naming import literal, q, qq


def row_expr(columns: list[str], fills: dict[str, str] | None = None) -> str:
    fills = fills or {}
    parts = [f"coalesce({q(c)}, {literal(fills[c])})" if c in fills else q(c) for c in columns]
    return f"ROW({', '.join(parts)})::text"


def count_and_checksum(cur, schema: str, table: str, exprs: list[str] | None) -> tuple[int, list[str]]:
    """``count(*)`` and one checksum per row expression, in one pass over the table."""
    sums = [f"sum(hashtextextended({e}, 0))::text" for e in (exprs or [])]
    cur.execute(f"SELECT count(*){''.join(', ' + s for s in sums)} FROM {qq(schema, table)}")
    row = cur.fetchone()
    return row[0], [r or "0" for r in row[1:]]
