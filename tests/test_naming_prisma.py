"""Prisma's names after the rename, judged by Prisma's own DDL (tests/data/naming/).

The legacy database is built from Prisma's DDL of ``old.prisma``; after ``migrate`` its
catalog must hold exactly the names PostgreSQL holds for a database built from Prisma's
DDL of the target schema: implicit many-to-many join tables, explicit ``map:`` names,
names over 63 bytes, a composite id. No name in these tests is typed by hand except
the hand-made objects of issue 10 (prefixed names), which Prisma does not make.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import runbook
from runbook.catalog.inspect import inspect
from runbook.cli import main
from runbook.connection import connect
from runbook.errors import ConflictError, MappingError
from runbook.mapping import load_mapping, parse_mapping
from runbook.ops import RenameStatistics, op_from_dict, op_to_dict
from runbook.plan import build_plan
from runbook.prisma import prisma_constraint_name, prisma_m2m_names
from snapshots import execute, rows

DATA = Path(__file__).parent / "data" / "naming"


def opts(tmp_path):
    return dict(backup=False, backup_dir=str(tmp_path / "backups"), log_dir=str(tmp_path / "logs"), progress=False)


def db_from(pg, sql_file: str) -> str:
    url = pg.url(pg.create_db())
    execute(url, (DATA / sql_file).read_text())
    return url


def snapshot(url):
    conn = connect(url, autocommit=True)
    try:
        return inspect(conn)
    finally:
        conn.close()


def names(url) -> set[tuple[str, str, str]]:
    """(table, kind, name) of every table, constraint, index and sequence of ``public``."""
    snap = snapshot(url)
    out = set()
    for t in snap.tables:
        if t.schema != "public" or t.name == "AuditLog":
            continue
        out.add((t.name, "table", t.name))
        out |= {(t.name, f"constraint {c.type}", c.name) for c in snap.constraints_of(t.oid)}
        out |= {(t.name, "index", i.name) for i in snap.indexes_of(t.oid)}
        out |= {(t.name, "sequence", s.name) for s in snap.sequences_of(t.oid)}
    return out


@pytest.mark.parametrize("mapping, target_sql", [("mapping.toml", "target.sql"),
                                                 ("mapping-defaults.toml", "target-defaults.sql")])
def test_migrated_names_are_those_of_prismas_ddl_of_the_target(pg, tmp_path, mapping, target_sql):
    """mapping.toml names target.prisma as the service's schema: its map: names win;
    mapping-defaults.toml names none: Prisma's defaults, custom names kept."""
    legacy = db_from(pg, "old.sql")
    execute(legacy, """INSERT INTO "Category" (name, label) VALUES ('a', 'A'), ('b', 'B');
                       INSERT INTO "Rule" (title, "ownerId") VALUES ('r', 1);
                       INSERT INTO "_CategoryToRule" VALUES (2, 1)""")
    expected = names(db_from(pg, target_sql))
    r = runbook.migrate(legacy, str(DATA / mapping), **opts(tmp_path))
    assert r.status == "migrated" and r.verification.ok
    got = names(legacy)
    assert got - expected == set() and expected - got == set()
    # the join rows read the same way round: A is the category, B the rule
    assert rows(legacy, 'SELECT "A", "B" FROM _category_to_rule') == [(2, 1)]
    # nothing is left to rename
    assert runbook.plan(legacy, str(DATA / mapping)).empty
    assert not [n for n in runbook.verify(legacy, str(DATA / mapping), crud=False).notes if "still to do" in n]


def test_verify_names_an_index_whose_name_is_not_the_target_schemas(pg, tmp_path):
    """A map: name lost after the migration (renamed by hand) is drift for Prisma: verify says so."""
    url = db_from(pg, "old.sql")
    mapping = str(DATA / "mapping.toml")
    assert runbook.migrate(url, mapping, **opts(tmp_path)).status == "migrated"
    execute(url, "ALTER INDEX rules_title_search RENAME TO rules_title_idx")
    notes = runbook.verify(url, mapping, crud=False).notes
    assert "rename index rules_title_idx -> rules_title_search: still to do, Prisma sees the old name as drift" in notes


def test_prisma_constraint_name_is_prismas_rule_at_63_bytes(pg):
    """Every name of trunc.prisma's DDL, as PostgreSQL holds it, is the one
    prisma_constraint_name / prisma_m2m_names give (58-, 59-byte tables, a cut inside a
    two-byte character, column lists, an implicit many-to-many)."""
    snap = snapshot(db_from(pg, "trunc.sql"))
    checked = 0
    for t in (t for t in snap.tables if t.schema == "public"):
        m2m = prisma_m2m_names(t.name) if t.name.startswith("_") and {c.name for c in t.columns} == {"A", "B"} else None
        for c in snap.constraints_of(t.oid):
            if c.type == "n":
                continue
            if m2m:
                want = m2m["pkey"] if c.type == "p" else m2m[f"{c.columns[0]}_fkey"]
            else:
                want = prisma_constraint_name(t.name, () if c.type == "p" else c.columns, {"p": "pkey", "f": "fkey"}[c.type])
            assert c.name == want
            checked += 1
        for i in snap.indexes_of(t.oid):
            if i.backs_constraint:
                continue
            want = m2m["index"] if m2m else prisma_constraint_name(t.name, i.columns, "key" if i.is_unique else "idx")
            assert i.name == want
            checked += 1
    assert checked == 15
    assert max(len(n.encode()) for _, _, n in names(db_from(pg, "trunc.sql"))) == 63


def test_join_table_names_over_63_bytes_keep_their_suffix_whole():
    t = "_categories_to_tags_with_an_exceptionally_long_relation_name_fo"
    assert prisma_m2m_names(t)["A_fkey"] != prisma_m2m_names(t)["B_fkey"]
    assert prisma_m2m_names(t)["pkey"] == "_categories_to_tags_with_an_exceptionally_long_relation_AB_pkey"
    assert prisma_m2m_names("_T")["unique"] == "_T_AB_unique"


def test_prisma4_join_table_unique_index_follows_the_table(pg):
    """Prisma 4 and earlier made a unique index _<T>_AB_unique instead of a primary key."""
    url = db_from(pg, "old.sql")
    execute(url, 'ALTER TABLE "_CategoryToRule" DROP CONSTRAINT "_CategoryToRule_AB_pkey";'
                 'CREATE UNIQUE INDEX "_CategoryToRule_AB_unique" ON "_CategoryToRule" ("A", "B")')
    p = build_plan(snapshot(url), load_mapping(DATA / "mapping-defaults.toml"))
    renames = {(o.old, o.new) for o in p.ops if o.kind in ("rename index", "rename constraint")}
    assert ("_CategoryToRule_AB_unique", "_category_to_rule_AB_unique") in renames
    assert ("_CategoryToRule_B_index", "_category_to_rule_B_index") in renames


def test_a_target_schema_that_swaps_a_and_b_of_a_join_table_is_refused(pg, tmp_path):
    """A is the model whose name sorts first: a target that renames Category to Zone
    would read _category_to_rule's rows backwards."""
    url = db_from(pg, "old.sql")
    target = (DATA / "target.prisma").read_text().replace("Category", "Zone")
    (tmp_path / "target.prisma").write_text(target)
    (tmp_path / "mapping.toml").write_text((DATA / "mapping.toml").read_text())
    with pytest.raises(ConflictError, match=r'column "A" references .Category., but in the target schema "A" of relation'):
        build_plan(snapshot(url), load_mapping(tmp_path / "mapping.toml"))


# -- issue 10 item 14: hand-made objects named after the old table ----------------------------

HAND_MADE = ('CREATE INDEX "User_email_trgm_idx" ON "User" (lower(email) text_pattern_ops);'
             'CREATE STATISTICS "User_name_stats" ON email, username FROM "User"')


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_prefixed_hand_made_names_are_listed_by_analyze_and_verify(ref_db, workdir, capsys):
    execute(ref_db, HAND_MADE)
    code, out, err = run(capsys, "analyze", "--database-url", ref_db)
    assert code == 0, err
    assert "Names kept (2):" in out
    assert ("note RB206: expression index 'User_email_trgm_idx' on 'users' keeps the old table's name as its prefix; "
            "rename_prefixed = true in the mapping renames it to 'users_email_trgm_idx'") in out
    assert "statistics object 'User_name_stats' on 'users'" in out and "'users_name_stats'" in out
    code, out, err = run(capsys, "migrate", "--database-url", ref_db, "--no-backup", "--no-progress")
    assert code == 0, err
    code, out, err = run(capsys, "verify", "--database-url", ref_db)
    assert code == 0, err
    notes = [l for l in out.splitlines() if l.startswith("note RB206: ")]  # each note says its finding code
    assert len(notes) == 2 and "User_email_trgm_idx" in notes[0] + notes[1] and "User_name_stats" in notes[0] + notes[1]
    code, out, err = run(capsys, "verify", "--database-url", ref_db, "--json")
    assert code == 0 and len(json.loads(out)["notes"]) == 2


def _prefixed_mapping(workdir) -> str:
    from importlib import resources

    res = resources.files("runbook.data")
    text = res.joinpath("mapping.toml").read_text()
    text = text.replace('target_schema = "ai_assistant.prisma"',
                        f"target_schema = {json.dumps(str(Path(str(res.joinpath('ai_assistant.prisma')))))}")
    path = workdir / "mapping.toml"
    path.write_text("rename_prefixed = true\n" + text)
    return str(path)


def test_rename_prefixed_renames_them_and_the_rollback_puts_them_back(ref_db, workdir, tmp_path):
    execute(ref_db, HAND_MADE)
    mapping = _prefixed_mapping(workdir)
    p = runbook.plan(ref_db, mapping)
    assert not [n for n in p.notes if "prefix" in n]
    r = runbook.migrate(ref_db, mapping, **opts(tmp_path))
    assert r.status == "migrated" and r.verification.ok
    stats = {n for (n,) in rows(ref_db, "SELECT stxname FROM pg_statistic_ext")}
    idx = {n for (n,) in rows(ref_db, "SELECT relname FROM pg_class WHERE relkind = 'i'")}
    assert "users_name_stats" in stats and "User_name_stats" not in stats
    assert "users_email_trgm_idx" in idx and "User_email_trgm_idx" not in idx
    # a hand-made name is still custom, but no longer the old table's
    assert runbook.verify(ref_db, mapping).notes == ("expression index 'users_email_trgm_idx' on 'users' keeps its custom name",)
    # the rollback is the stored plan (op_to_dict / op_from_dict), reversed
    back = runbook.rollback(ref_db, mapping, **opts(tmp_path))
    assert back.status == "rolled back", back.status
    assert "User_name_stats" in {n for (n,) in rows(ref_db, "SELECT stxname FROM pg_statistic_ext")}
    assert "User_email_trgm_idx" in {n for (n,) in rows(ref_db, "SELECT relname FROM pg_class WHERE relkind = 'i'")}


def test_rename_statistics_round_trips_and_checks(ref_db):
    execute(ref_db, HAND_MADE)
    op = RenameStatistics("public", "users", "User_name_stats", "users_name_stats")
    assert op_from_dict(json.loads(json.dumps(op_to_dict(op)))) == op
    assert rows(ref_db, f"SELECT {op.check()}") == [(False,)]
    execute(ref_db, ";".join(op.statements()))
    assert rows(ref_db, f"SELECT {op.check()}, {op.reverse().check()}") == [(True, False)]


def test_rename_prefixed_must_be_a_boolean(capsys, tmp_path):
    with pytest.raises(MappingError, match="'rename_prefixed' must be bool"):
        parse_mapping({"rename_prefixed": "yes", "tables": [{"from": "User", "to": "users"}]})
    bad = tmp_path / "m.toml"
    bad.write_text('rename_prefixed = 1\n[[tables]]\nfrom = "User"\nto = "users"\n')
    code, out, err = run(capsys, "plan", "--database-url", "postgresql://u@127.0.0.1:1/x", "--mapping", str(bad))
    assert code == 2 and err.strip().count("\n") == 0 and "rename_prefixed" in err
