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


def count_and_checksums(cur, schema: str, table: str, columns: list[str],
                        fills: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``count(*)``, the checksum of the rows as they are (``row_expr(columns)``) and as
    they must read once the NULLs of ``fills`` are filled (``row_expr(columns, fills)``),
    in one pass that hashes each row once: the second checksum is the first plus, over
    the rows with a NULL to fill only, the difference of their two hashes (the same sum
    as hashing every row twice, at the cost of the rows the fill will change). Without
    ``fills`` both checksums are the one sum."""
    fills = fills or {}
    raw = f"hashtextextended({row_expr(columns)}, 0)"
    total = f"coalesce(sum({raw}), 0)"
    if fills:
        nulls = " OR ".join(f"{q(c)} IS NULL" for c in fills)
        delta = f"coalesce(sum(hashtextextended({row_expr(columns, fills)}, 0)::numeric - {raw}) FILTER (WHERE {nulls}), 0)"
        expected = f"({total} + {delta})::text"
    else:
        expected = f"{total}::text"
    # identical aggregates are computed once per query (PostgreSQL shares their state)
    cur.execute(f"SELECT count(*), {total}::text, {expected} FROM {qq(schema, table)}")
    n, a, b = cur.fetchone()
    return n, a, b
