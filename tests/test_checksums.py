"""The baseline's checksums hash each row once (``count_and_checksums``): they must be
the very sums of their definition (every row hashed as it is, and as it reads once its
NULLs are filled), on a table that is not the fixture's."""

from __future__ import annotations

import psycopg2

from runbook.verify.checksums import count_and_checksum, count_and_checksums, row_expr
from snapshots import execute

DDL = """
CREATE SCHEMA "Sales Ops";
CREATE TABLE "Sales Ops"."Deal" (id int PRIMARY KEY, "Title" text, note text, amount numeric, "when" date);
INSERT INTO "Sales Ops"."Deal"
SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'deal ' || g END, CASE WHEN g % 5 = 0 THEN NULL ELSE 'n' || g END,
       g * 1.5, DATE '2024-01-01' + g
FROM generate_series(1, 3000) g;
CREATE TABLE "Sales Ops"."Empty" (id int, "Title" text);
"""
COLS = ["id", "Title", "note", "amount", "when"]
FILLS = {"Title": "Untitled deal", "note": "it's none"}


def definition(cur, schema: str, table: str, cols, fills) -> tuple[int, str, str]:
    """Both sums as defined: every row hashed once per expression."""
    n, sums = count_and_checksum(cur, schema, table, [row_expr(cols), row_expr(cols, fills)])
    return n, sums[0], sums[1]


def test_one_hash_a_row_gives_the_sums_of_the_definition(empty_db):
    execute(empty_db, DDL)
    c = psycopg2.connect(empty_db)
    cur = c.cursor()
    for fills in (FILLS, {"Title": "Untitled deal"}, {}):
        got = count_and_checksums(cur, "Sales Ops", "Deal", COLS, fills)
        assert got == definition(cur, "Sales Ops", "Deal", COLS, fills), fills
        if not fills:
            assert got[1] == got[2]
    assert count_and_checksums(cur, "Sales Ops", "Empty", ["id", "Title"], {"Title": "x"}) == (0, "0", "0")
    assert count_and_checksums(cur, "Sales Ops", "Empty", ["id", "Title"]) == definition(
        cur, "Sales Ops", "Empty", ["id", "Title"], {})
    # the expected sum is what the table reads once its NULLs are filled
    n, raw, expected = count_and_checksums(cur, "Sales Ops", "Deal", COLS, FILLS)
    assert raw != expected
    cur.execute('UPDATE "Sales Ops"."Deal" SET "Title" = coalesce("Title", \'Untitled deal\'), '
                'note = coalesce(note, \'it\'\'s none\')')
    assert count_and_checksums(cur, "Sales Ops", "Deal", COLS) == (n, expected, expected)
    c.rollback()
    c.close()
