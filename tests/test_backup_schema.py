"""``migrate --backup schema+changed``: for a database too large to dump before every
migration, the schema (verified) and the keys of the rows the plan changes (the NULLs it
fills), with what a restore from it can and cannot bring back; ``runbook restore``
refuses it (it would empty every table)."""

from __future__ import annotations

import json
import subprocess

from runbook.cli import main
from runbook.execute.backup import _tool, restore_backup
from snapshots import execute, rows, schema_dump, state

DDL = """
CREATE SCHEMA crm;
CREATE TABLE crm."Account" (id int CONSTRAINT "Account_pkey" PRIMARY KEY, "displayName" text);
CREATE TABLE crm."Contact" (id int PRIMARY KEY, "accountId" int REFERENCES crm."Account", email text);
CREATE INDEX "Contact_email_idx" ON crm."Contact" (email);
INSERT INTO crm."Account" SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'a' || g END FROM generate_series(1, 50) g;
INSERT INTO crm."Contact" SELECT g, 1 + g % 50, 'c' || g FROM generate_series(1, 200) g;
"""
MAPPING = """
schema = "crm"
audit_table = false
[[tables]]
from = "Account"
to = "accounts"
rename_columns = [{ from = "displayName", to = "display_name", not_null = true, fill_nulls = "unnamed" }]
[[tables]]
from = "Contact"
to = "contacts"
"""


def cli(capsys, *args):
    code = main(list(args) + ([] if args[0] == "restore" else ["--no-progress"]))
    out, err = capsys.readouterr()
    return code, out, err


def test_schema_and_changed_rows_are_saved_verified_and_say_what_they_cannot_restore(pg, empty_db, tmp_path, capsys):
    execute(empty_db, DDL)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING)
    before = state(empty_db)
    nulls = sorted(str(r[0]) for r in rows(empty_db, 'SELECT id FROM crm."Account" WHERE "displayName" IS NULL'))
    assert len(nulls) == 7
    backups = tmp_path / "backups"
    code, out, err = cli(capsys, "migrate", "--database-url", empty_db, "--mapping", str(mapping), "--json",
                         "--backup", "schema+changed", "--backup-dir", str(backups), "--log-dir", str(tmp_path / "logs"))
    assert code == 0, err
    s = json.loads(out)
    assert s["backup"]["kind"] == "schema+changed" and s["backup"]["verified"] is True
    assert "cannot bring back: any row's data" in s["backup"]["output"]
    dump = backups / f"backup-{s['run_id']}.schema.dump"
    toc = subprocess.run([str(_tool("pg_restore")), "--list", str(dump)], capture_output=True, text=True,
                         check=True).stdout
    assert " TABLE crm Account " in toc and " TABLE crm Contact " in toc and " TABLE DATA " not in toc
    # the rows the plan changed: exactly the keys whose NULL it filled
    manifest = json.loads((backups / f"backup-{s['run_id']}.changed.json").read_text())
    [fill] = manifest["changed_rows"]
    assert (fill["table"], fill["column"], fill["key"], fill["rows"]) == ("crm.Account", "displayName", "id", 7)
    assert sorted((backups / fill["file"]).read_text().split()) == nulls
    assert manifest["a restore cannot bring back"][0].startswith("any row's data")
    # the schema it holds is the schema as it was: restored into an empty database
    other = pg.url(pg.create_db())
    r = restore_backup(other, dump, server_version_num=int(rows(other, "SHOW server_version_num")[0][0]), clean=False)
    assert r.returncode == 0, r.stderr
    assert schema_dump(other) == before[0]
    # runbook restore refuses it: a --clean restore would empty every table
    migrated = state(empty_db)
    code, out, err = cli(capsys, "restore", str(dump), "--database-url", empty_db, "--yes")
    assert code == 2 and "none of their rows" in err and "Traceback" not in err
    assert state(empty_db) == migrated
    # the rollback does not need it: the plan reversed, the NULLs put back from runbook.filled
    code, out, err = cli(capsys, "rollback", "--database-url", empty_db, "--mapping", str(mapping),
                         "--backup-dir", str(backups), "--log-dir", str(tmp_path / "logs"))
    assert code == 0, err
    assert state(empty_db) == before


def test_a_bad_backup_mode_is_refused_before_connecting(capsys, tmp_path):
    code, out, err = cli(capsys, "migrate", "--database-url", "postgresql://nobody@127.0.0.1:1/none",
                         "--backup", "schema+nothing", "--log-dir", str(tmp_path / "logs"))
    assert code == 2 and "give dump, schema+changed, none or snapshot-command=CMD" in err
    assert not (tmp_path / "logs").exists()
