"""Partitioned tables and inheritance children among the mapped tables (issue 9 item 7):
migrated, backed up, verified and rolled back, their partitions included."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg2
import pytest

import runbook
from runbook.execute.backup import BackupJob, data_tables, list_backup
from runbook.catalog.inspect import inspect
from runbook.errors import BackupFailed, ConflictError
from runbook.mapping import load_mapping
from runbook.plan import build_plan
from snapshots import execute, rows, scalar, state

PRISMA_SCHEMA = Path(__file__).resolve().parent / "data" / "prisma" / "partitioned.prisma"

# A RANGE-partitioned "Event" (2 partitions, one of them LIST-sub-partitioned, and a
# default), an index and a foreign key on it to "User", a foreign key from "EventTag" to
# it (PostgreSQL 12+), a HASH-partitioned "Metric", and an inheritance parent "Animal"
# that has rows of its own beside its child "Dog"'s.
SCHEMA = """
CREATE TABLE "User" (id text PRIMARY KEY, email text NOT NULL);
CREATE UNIQUE INDEX "User_email_key" ON "User"(email);
CREATE TABLE "Event" (id serial, "userId" text NOT NULL, "createdAt" timestamp(3) NOT NULL, kind text NOT NULL,
  CONSTRAINT "Event_pkey" PRIMARY KEY (id, "createdAt", kind),
  CONSTRAINT "Event_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"(id) ON DELETE RESTRICT ON UPDATE CASCADE
) PARTITION BY RANGE ("createdAt");
CREATE TABLE "Event_2024" PARTITION OF "Event" FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE "Event_2025" PARTITION OF "Event" FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (kind);
CREATE TABLE "Event_2025_a" PARTITION OF "Event_2025" FOR VALUES IN ('a');
CREATE TABLE "Event_2025_b" PARTITION OF "Event_2025" FOR VALUES IN ('b');
CREATE TABLE "Event_default" PARTITION OF "Event" DEFAULT;
CREATE INDEX "Event_userId_idx" ON "Event"("userId");
CREATE TABLE "EventTag" (id serial PRIMARY KEY, "eventId" int NOT NULL, "eventCreatedAt" timestamp(3) NOT NULL,
  "eventKind" text NOT NULL, tag text,
  CONSTRAINT "EventTag_eventId_eventCreatedAt_eventKind_fkey" FOREIGN KEY ("eventId", "eventCreatedAt", "eventKind")
    REFERENCES "Event"(id, "createdAt", kind));
CREATE TABLE "Metric" (id bigint NOT NULL, value double precision, CONSTRAINT "Metric_pkey" PRIMARY KEY (id))
  PARTITION BY HASH (id);
CREATE TABLE "Metric_p0" PARTITION OF "Metric" FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE "Metric_p1" PARTITION OF "Metric" FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE "Animal" (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE "Dog" (breed text) INHERITS ("Animal");
INSERT INTO "User" SELECT 'u' || g, 'u' || g || '@example.com' FROM generate_series(1, 5) g;
INSERT INTO "Event" ("userId", "createdAt", kind)
  SELECT 'u' || (g % 5 + 1), timestamp '2023-06-01' + g * interval '3 days', CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END
  FROM generate_series(1, 400) g;
INSERT INTO "EventTag" ("eventId", "eventCreatedAt", "eventKind", tag)
  SELECT id, "createdAt", kind, 't' FROM "Event" WHERE id % 7 = 0;
INSERT INTO "Metric" SELECT g, g / 3.0 FROM generate_series(1, 100) g;
INSERT INTO "Animal" (name) VALUES ('generic');
INSERT INTO "Dog" (name, breed) VALUES ('rex', 'lab'), ('fido', 'pug');
"""

MAPPING = """
audit_table = false

[[tables]]
from = "Event_2024"   # a partition named in the mapping, listed before its parent
to = "events_2024"

[[tables]]
from = "User"
to = "users"

[[tables]]
from = "Event"
to = "events"

[[tables]]
from = "EventTag"
to = "event_tags"

[[tables]]
from = "Metric"
to = "metrics"

[[tables]]
from = "Animal"
to = "animals"
"""

LEAVES = {"Event_2024", "Event_2025_a", "Event_2025_b", "Event_default", "Metric_p0", "Metric_p1", "Animal", "Dog"}


def opts(tmp_path):
    return dict(backup_dir=str(tmp_path / "backups"), log_dir=str(tmp_path / "logs"), progress=False)


@pytest.fixture
def part_db(empty_db, tmp_path):
    execute(empty_db, SCHEMA)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING)
    return empty_db, str(mapping)


def _snap(url):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        return inspect(conn)
    finally:
        conn.close()


def _constraint_names(url) -> set[str]:
    return {n for (n,) in rows(url, "SELECT conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace")}


def test_catalog_knows_partitions_parents_and_leaves(part_db):
    url, _ = part_db
    snap = _snap(url)
    event, e2025, dog = snap.table("public", "Event"), snap.table("public", "Event_2025"), snap.table("public", "Dog")
    assert event.kind == "p" and event.relfilenode == 0 and event.partition_key == 'RANGE ("createdAt")'
    assert {snap.table_by_oid(o).name for o in event.children} == {"Event_2024", "Event_2025", "Event_default"}
    assert e2025.is_partition and e2025.parents == (event.oid,) and e2025.partition_bound.startswith("FOR VALUES FROM")
    assert snap.table("public", "Event_default").partition_bound == "DEFAULT"
    assert [t.name for t in snap.storage_tables(event.oid)] == ["Event_2024", "Event_2025_a", "Event_2025_b",
                                                               "Event_default"]
    assert not dog.is_partition and dog.parents == (snap.table("public", "Animal").oid,)
    assert [t.name for t in snap.storage_tables(dog.parents[0])] == ["Animal", "Dog"]
    # a foreign key of a partitioned table is cloned onto every partition
    fk = next(c for c in snap.constraints if c.name == "Event_userId_fkey" and c.table_oid == event.oid)
    assert {snap.table_by_oid(c.table_oid).name for c in snap.constraints if c.parent_oid == fk.oid} == {
        "Event_2024", "Event_2025", "Event_default"}


def test_backup_check_expects_the_leaves_not_the_partitioned_parent(part_db, tmp_path):
    url, _ = part_db
    snap = _snap(url)
    event, animal = snap.table("public", "Event"), snap.table("public", "Animal")
    expected = data_tables(snap, [event.oid, animal.oid])
    assert expected == [("public", n) for n in ("Event_2024", "Event_2025_a", "Event_2025_b", "Event_default",
                                                "Animal", "Dog")]
    job = BackupJob(url, tmp_path, "b", snap.server_version)
    info = job.wait(expect_tables=expected)
    assert info.verified
    data = {l.split(" TABLE DATA ")[1].split()[1] for l in list_backup(Path(info.path)) if " TABLE DATA " in l}
    assert "Event" not in data and LEAVES <= data  # pg_dump writes no data entry for a partitioned table
    job = BackupJob(url, tmp_path, "c", snap.server_version)
    with pytest.raises(BackupFailed, match="lacks the data of public.Event;"):
        job.wait(expect_tables=[("public", "Event")])


def test_partitioned_and_inherited_tables_migrate_verify_and_roll_back(part_db, tmp_path):
    url, mapping = part_db
    before = state(url)
    analysis = runbook.analyze(url, mapping, backup_dir=str(tmp_path / "b"))
    notes = " ".join(analysis.notes)
    for kept in ("Event_2025", "Event_default", "Metric_p0", "Dog"):  # partitions the mapping does not name
        assert f"'{kept}'" in notes
    assert "'Event_2024' of" not in notes  # named in the mapping: renamed

    r = runbook.migrate(url, mapping, **opts(tmp_path))
    assert r.status == "migrated" and r.verification.ok, r.verification.failed
    data = {l.split(" TABLE DATA ")[1].split()[1] for l in list_backup(Path(r.backup.path)) if " TABLE DATA " in l}
    assert LEAVES <= data
    storage = {c.name: c.detail for c in r.verification.checks if "storage untouched" in c.name}
    assert storage["events: storage untouched (relfilenode)"] == "relfilenode of its 4 leaf tables unchanged"
    assert storage["animals: storage untouched (relfilenode)"] == "relfilenode of its 2 leaf tables unchanged"

    tables = {n for (n,) in rows(url, "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                                      "AND relkind IN ('r', 'p')")}
    assert {"events", "events_2024", "Event_2025", "Event_2025_a", "Event_default", "metrics", "Metric_p0",
            "animals", "Dog", "users", "event_tags"} <= tables
    assert scalar(url, "SELECT count(*) FROM events") == 400 and scalar(url, "SELECT count(*) FROM animals") == 3
    cons = _constraint_names(url)
    # the parent's names are Prisma's for the new table; a renamed partition's own names follow it
    assert {"events_pkey", "events_userId_fkey", "events_2024_pkey", "Event_2025_pkey", "metrics_pkey",
            "event_tags_eventId_eventCreatedAt_eventKind_fkey", "animals_pkey"} <= cons
    # no clone of a renamed foreign key keeps the old name: on every partition, and on the
    # table referencing the partitioned one (one clone per partition)
    fks = rows(url, "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' "
                    "AND connamespace = 'public'::regnamespace ORDER BY 1, 2")
    assert not [f for f in fks if f[1].startswith(("Event_", "EventTag_"))], fks
    assert ('"Event_2025_b"', "events_userId_fkey") in fks  # sub-partitions too
    idx = {n for (n,) in rows(url, "SELECT relname FROM pg_class WHERE relkind IN ('i', 'I')")}
    assert {"events_userId_idx", "events_2024_userId_idx", "Event_2025_a_userId_idx", "events_id_seq"} <= idx | {
        n for (n,) in rows(url, "SELECT relname FROM pg_class WHERE relkind = 'S'")}
    # the partitioned index is the parent of the partitions' indexes, as before
    assert scalar(url, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.\"events_userId_idx\"'::regclass") == 3

    v = runbook.verify(url, mapping, crud=False)
    assert v.ok, v.failed

    rb = runbook.rollback(url, mapping, **opts(tmp_path))
    assert rb.status == "rolled back", rb.verification.failed
    after = state(url)
    assert after[0] == before[0]  # pg_dump --schema-only, byte for byte
    assert after[1] == before[1]  # every table's rows (the leaves: relkind 'r')
    assert _constraint_names(url) >= {"Event_userId_fkey", "EventTag_eventId_eventCreatedAt_eventKind_fkey"}


def test_partitions_are_locked_through_their_parent(part_db):
    url, mapping = part_db
    snap = _snap(url)
    plan = build_plan(snap, load_mapping(mapping))
    # LOCK TABLE on the parent locks its partitions, parent first, as a query through the
    # parent does: the mapped partition is not locked on its own before its parent
    assert 'public."Event_2024"' not in plan.lock_tables
    assert plan.lock_tables.index('public."EventTag"') < plan.lock_tables.index('public."Event"') < \
        plan.lock_tables.index('public."User"')
    conn = psycopg2.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(f"LOCK TABLE {', '.join(plan.lock_tables)} IN ACCESS EXCLUSIVE MODE")
        cur.execute("SELECT relation::regclass::text FROM pg_locks WHERE pid = pg_backend_pid() "
                    "AND locktype = 'relation' AND mode = 'AccessExclusiveLock'")
        locked = {r[0] for r in cur.fetchall()}
        conn.rollback()
    finally:
        conn.close()
    assert {'"Event_2024"', '"Event_2025_b"', '"Event_default"', '"Metric_p1"', '"Dog"'} <= locked


def test_storage_proof_covers_every_leaf(part_db, tmp_path):
    url, mapping = part_db
    r = runbook.migrate(url, mapping, **opts(tmp_path))
    assert r.status == "migrated"
    execute(url, 'VACUUM FULL "Event_2025_b"')  # new storage for one sub-partition
    v = runbook.verify(url, mapping, crud=False)
    failed = {c.name: c.detail for c in v.failed}
    assert "events: storage untouched (relfilenode)" in failed
    assert "Event_2025_b" in failed["events: storage untouched (relfilenode)"]


def test_dropping_a_column_added_to_a_partitioned_table_dumps_its_partitions_first(part_db, tmp_path):
    url, _ = part_db
    m = tmp_path / "add.toml"
    m.write_text('audit_table = false\n[[tables]]\nfrom = "Event"\nto = "events"\n'
                 'add_columns = [{ name = "source", type = "text" }]\n'
                 '[[tables]]\nfrom = "Animal"\nto = "animals"\nadd_columns = [{ name = "legs", type = "integer" }]\n')
    before = state(url)
    assert runbook.migrate(url, str(m), **opts(tmp_path)).status == "migrated"
    execute(url, "UPDATE events SET source = 'app' WHERE kind = 'a'; UPDATE animals SET legs = 4")
    rb = runbook.rollback(url, str(m), drop_added_columns=True, **opts(tmp_path))
    assert rb.status == "rolled back"
    # what was written into the dropped columns, in every partition and child, is in the dump
    toc = list_backup(Path(rb.backup.path))
    data = {l.split(" TABLE DATA ")[1].split()[1] for l in toc if " TABLE DATA " in l}
    assert {"Event_2024", "Event_2025_a", "Event_2025_b", "Event_default", "animals", "Dog"} <= data
    assert state(url) == before


def test_column_changes_on_a_partition_are_refused_before_anything_runs(part_db, tmp_path):
    url, _ = part_db
    m = tmp_path / "bad.toml"
    m.write_text('audit_table = false\n[[tables]]\nfrom = "Event_2024"\nto = "events_2024"\n'
                 'rename_columns = [{ from = "kind", to = "type" }]\n')
    before = state(url)
    with pytest.raises(ConflictError, match="inherited: rename it on 'Event'"):
        runbook.migrate(url, str(m), **opts(tmp_path))
    assert state(url) == before


def _toolkit() -> Path | None:
    d = os.environ.get("RUNBOOK_PRISMA_TOOLKIT")
    return Path(d) if d and (Path(d) / "node_modules").is_dir() and shutil.which("node") else None


@pytest.mark.skipif(_toolkit() is None, reason="RUNBOOK_PRISMA_TOOLKIT: an installed copy of prisma-toolkit")
def test_prisma_sees_no_drift_after_migrate(empty_db, tmp_path):
    # Prisma takes a partition that is partitioned itself ("Event_2025") for a table of its
    # own, with or without runbook: here the 2025 partition is not sub-partitioned
    url = empty_db
    start, end = SCHEMA.index('CREATE TABLE "Event_2025" '), SCHEMA.index('CREATE TABLE "Event_default"')
    execute(url, SCHEMA[:start] + 'CREATE TABLE "Event_2025" PARTITION OF "Event" '
                                  "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n" + SCHEMA[end:])
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING)
    assert runbook.migrate(url, str(mapping), **opts(tmp_path)).status == "migrated"
    out = subprocess.run([str(_toolkit() / "drift.sh"), url, str(PRISMA_SCHEMA)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no drift" in out.stdout
