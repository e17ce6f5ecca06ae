"""The terminal (issue 14): width, colour only where someone reads it, the verdict line,
dry runs without a wall of SQL, help on every option. The real command, against the
real test server; in a pseudo-terminal where the terminal is the point."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.cli import build_parser, main
from snapshots import execute, state
from terminal import ANSI, Shown, in_terminal

BOX = re.compile("[\u2500-\u257f]")  # box-drawing characters


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def last_line(out: str) -> str:
    return [l for l in out.splitlines() if l.strip()][-1]


def piped(*args, env=None):
    environ = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS")}
    return subprocess.run([sys.executable, "-m", "runbook.cli", *args], capture_output=True, text=True,
                          env=environ | (env or {}), timeout=600)


def own_database(pg, tmp_path, *, taken: bool) -> tuple[str, str]:
    """A database of its own (not the reference fixture): schema ``shop``, two PascalCase
    tables with a foreign key, and a mapping for them; with ``taken`` one target exists."""
    url = pg.url(pg.create_db())
    execute(url, 'CREATE SCHEMA shop; CREATE TABLE shop."Customer" (id int PRIMARY KEY, "fullName" text); '
                 'CREATE TABLE shop."PurchaseOrder" (id int PRIMARY KEY, "customerId" int REFERENCES '
                 'shop."Customer"(id), note text)' + ("; CREATE TABLE shop.purchase_orders (id int)" if taken else ""))
    mapping = tmp_path / "shop.toml"
    mapping.write_text('schema = "shop"\naudit_table = false\n[[tables]]\nfrom = "Customer"\nto = "customers"\n'
                       '[[tables]]\nfrom = "PurchaseOrder"\nto = "purchase_orders"\n')
    return url, str(mapping)


def assert_fits(shown: Shown, width: int) -> None:
    wide = [l for l in Shown.lines(shown.out) if len(l) > width]
    assert not wide, f"{len(wide)} lines over {width} characters, e.g. {wide[0]!r}"


# -- width and verdict of analyze ------------------------------------------------------------

def test_analyze_at_100_columns_fits_and_ends_on_ready(ref_db, tmp_path):
    """In a terminal wider than COLUMNS, COLUMNS wins: no line over 100 characters (the
    findings' long texts wrap in their cells), and the last line is the verdict with the
    plan's operations and fingerprint as --json gives them."""
    d = json.loads(piped("analyze", "--json", "--database-url", ref_db).stdout)
    shown = in_terminal("analyze", "--database-url", ref_db, env={"COLUMNS": "100"}, cols=200)
    assert shown.code == 0, shown.err
    assert_fits(shown, 100)
    last = shown.last_line
    assert last.startswith("ready: ") and f"{len(d['plan']['operations'])} operations" in last
    assert d["plan"]["fingerprint"][:12] in last and "estimated lock window" in last


def test_analyze_of_another_database_at_the_terminal_width(pg, tmp_path):
    """Not the fixture: another schema, other tables; the terminal's own width (60) is
    kept without COLUMNS, and the verdict counts this database's plan."""
    url, mapping = own_database(pg, tmp_path, taken=False)
    shown = in_terminal("analyze", "--database-url", url, "--mapping", mapping, cols=60)
    assert shown.code == 0, shown.err
    assert_fits(shown, 60)
    d = json.loads(piped("analyze", "--json", "--database-url", url, "--mapping", mapping).stdout)
    lines = [l.strip() for l in Shown.lines(shown.out) if l.strip()]
    start = max(i for i, l in enumerate(lines) if l.startswith("ready: "))  # the verdict wraps at 60 too
    # the estimate is calibrated by each run of analyze on the server, so it is a range of its own
    m = re.fullmatch(rf"ready: {len(d['plan']['operations'])} operations, estimated lock window "
                     rf"([\d.,]+)-([\d.,]+) ms, fingerprint {d['plan']['fingerprint'][:12]}", " ".join(lines[start:]))
    assert m and float(m.group(1).replace(",", "")) <= float(m.group(2).replace(",", ""))
    assert d["lock_estimate"]["calibrated"] and d["lock_estimate"]["low_s"] <= d["lock_estimate"]["high_s"]


def test_analyze_of_a_blocked_database_ends_on_blocked(pg, tmp_path):
    url, mapping = own_database(pg, tmp_path, taken=True)
    before = state(url)
    shown = in_terminal("analyze", "--database-url", url, "--mapping", mapping, env={"COLUMNS": "100"})
    assert shown.code == 2
    assert_fits(shown, 100)
    r = piped("analyze", "--database-url", url, "--mapping", mapping, "--json")
    d = json.loads(r.stdout)  # the same exit code, pure JSON
    assert r.returncode == 2 and len(d["plan"]["blockers"]) == len(d["conflicts"]) == 1
    assert shown.last_line == "blocked: 1 blocker in the plan (1 conflict) (listed above)"
    assert "shop.purchase_orders" in ANSI.sub("", shown.out)
    assert state(url) == before


# -- colour only in a terminal -------------------------------------------------------------

def test_colour_in_a_terminal_none_when_piped_or_with_no_color(ref_db):
    """The verdict is coloured in a terminal; piped output has no escape, no box-drawing
    and no padding at the lines' ends; NO_COLOR=1 in a terminal has no escape either."""
    shown = in_terminal("analyze", "--database-url", ref_db)
    assert shown.code == 0 and "\x1b[" in shown.out
    r = piped("analyze", "--database-url", ref_db)
    assert r.returncode == 0 and "\x1b" not in r.stdout + r.stderr and not BOX.search(r.stdout)
    assert [l for l in r.stdout.splitlines() if l != l.rstrip()] == []  # no padding at the lines' ends
    assert last_line(r.stdout).startswith("ready: ")
    plain = in_terminal("analyze", "--database-url", ref_db, env={"NO_COLOR": "1"})
    assert plain.code == 0 and "\x1b" not in plain.out + plain.err
    assert plain.last_line.startswith("ready: ")


def test_piped_output_is_not_wrapped_without_columns(ref_db):
    """A log keeps each note and finding on one line (greppable) when no width is set."""
    r = piped("analyze", "--database-url", ref_db)
    d = json.loads(piped("analyze", "--json", "--database-url", ref_db).stdout)
    fixes = [f["fix"] for f in d["service_findings"]]
    assert fixes and all(any(f in l for l in r.stdout.splitlines()) for f in fixes)


# -- dry runs ------------------------------------------------------------------------------

def test_migrate_dry_run_shows_steps_and_preflight_words_and_sql_only_on_request(ref_db, tmp_path, capsys):
    common = ["--database-url", ref_db, "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l")]
    before = state(ref_db)
    code, out, _ = run(capsys, "migrate", "--dry-run", *common)
    n = len(json.loads(piped("analyze", "--json", "--database-url", ref_db).stdout)["plan"]["operations"])
    assert code == 0 and "ALTER TABLE" not in out
    assert re.search(r"^\s*1\s+prepare\s", out, re.M) and "exclusive" in out  # the steps table
    assert "True" not in out and "False" not in out and re.search(r"\bpass\b", out)
    assert last_line(out) == f"dry run: {n} operations would run (nothing changed)"
    code, out, _ = run(capsys, "migrate", "--dry-run", "--sql", *common)
    assert code == 0 and 'ALTER TABLE public."User" RENAME TO users;' in out
    assert last_line(out).startswith("dry run: ")
    sql = tmp_path / "dry.sql"
    code, out, _ = run(capsys, "migrate", "--dry-run", "--sql-out", str(sql), *common)
    assert code == 0 and "ALTER TABLE" not in out and 'ALTER TABLE public."User" RENAME TO users;' in sql.read_text()
    code, out, _ = run(capsys, "migrate", "--dry-run", "--json", *common)
    assert code == 0 and json.loads(out)["action"] == "dry-run"  # pure JSON
    assert state(ref_db) == before


def test_sql_without_dry_run_is_refused_before_connecting(ref_db, tmp_path, capsys):
    before = state(ref_db)
    for cmd in ("migrate", "rollback"):
        code, out, err = run(capsys, cmd, "--sql", "--database-url", ref_db, "--backup-dir", str(tmp_path))
        assert code == 2 and "--sql needs --dry-run" in err and len(err.strip().splitlines()) == 1
    assert state(ref_db) == before


def test_rollback_dry_run_shows_steps_and_sql_only_on_request(ref_db, tmp_path, capsys):
    common = ["--database-url", ref_db, "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"),
              "--no-progress"]
    assert run(capsys, "migrate", *common)[0] == 0
    before = state(ref_db)
    code, out, _ = run(capsys, "rollback", "--dry-run", *common)
    assert code == 0 and "ALTER TABLE" not in out and "rename table users -> User" in out
    assert re.fullmatch(r"dry run: \d+ operations would run \(nothing changed\)", last_line(out))
    code, out, _ = run(capsys, "rollback", "--dry-run", "--sql", *common)
    assert code == 0 and 'ALTER TABLE public.users RENAME TO "User";' in out
    assert state(ref_db) == before


# -- the verdict line of every command --------------------------------------------------------

VERDICT = re.compile(r"^[A-Za-z][A-Za-z ]*: \S")


def test_every_command_ends_on_its_verdict_line(ref_db, tmp_path, capsys, monkeypatch):
    """Each command's last stdout line is its verdict, with numbers from its result."""
    monkeypatch.setenv("DATABASE_URL", ref_db)
    dirs = ["--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"), "--no-progress"]
    d = json.loads(run(capsys, "analyze", "--json")[1])
    n, fp = len(d["plan"]["operations"]), d["plan"]["fingerprint"][:12]
    expect = [  # (argv, exit code, the verdict's start)
        (["analyze"], 0, f"ready: {n} operations"),
        (["plan", "--out", str(tmp_path / "sql")], 0, f"planned: {n} operations, fingerprint {fp}"),
        (["migrate", "--dry-run", *dirs], 0, f"dry run: {n} operations would run"),
        (["migrate", "--rehearse", *dirs], 0, "rehearsed: "),
        (["migrate", *dirs], 0, "migrated: in "),
        (["verify"], 0, "verified: "),
        (["migrate", *dirs], 0, "nothing to do: already migrated"),
        (["analyze"], 0, "nothing to do: "),
        (["rollback", "--dry-run", *dirs], 0, "dry run: "),
        (["rollback", *dirs], 0, "rolled back: in "),
        (["check-schema"], 1, "INCOMPATIBLE: "),  # rolled back: the service's tables are not there
        (["demo-db", "--stop", "--dir", str(tmp_path / "no-server")], 0, "nothing to do: no embedded PostgreSQL"),
    ]
    for argv, code, start in expect:
        got, out, err = run(capsys, *argv)
        assert got == code, (argv, err)
        assert last_line(out).startswith(start) and VERDICT.match(last_line(out)), (argv, last_line(out))


def test_verdicts_count_the_checks_of_the_result(ref_db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", ref_db)
    dirs = ["--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"), "--no-progress"]
    assert run(capsys, "migrate", *dirs)[0] == 0
    code, out, _ = run(capsys, "verify")
    v = json.loads(run(capsys, "verify", "--json")[1])
    assert last_line(out) == f"verified: {sum(c['ok'] for c in v['checks'])}/{len(v['checks'])} checks"
    execute(ref_db, 'ALTER TABLE chat_sessions DROP CONSTRAINT "chat_sessions_userId_fkey"')
    code, out, _ = run(capsys, "verify")
    v = json.loads(run(capsys, "verify", "--json")[1])
    failed = [c["name"] for c in v["checks"] if not c["ok"]]
    assert code == 1 and failed
    assert last_line(out) == (f"FAILED: {len(v['checks']) - len(failed)}/{len(v['checks'])} checks pass; "
                              f"first failure: {failed[0]}")


def test_restore_ends_on_not_restored_then_restored(ref_db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", ref_db)
    code, out, _ = run(capsys, "migrate", "--json", "--backup-dir", str(tmp_path / "b"), "--log-dir",
                       str(tmp_path / "l"))
    backup = json.loads(out)["backup"]["path"]
    before = state(ref_db)
    code, out, _ = run(capsys, "restore", backup)
    assert code == 0 and last_line(out) == "not restored: nothing was changed: re-run with --yes to restore"
    assert state(ref_db) == before
    dirs = ["--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"), "--no-progress"]
    assert run(capsys, "rollback", "--drop-added-columns", *dirs)[0] == 0  # as test_engine restores
    tables = json.loads(run(capsys, "restore", backup, "--json")[1])["tables_in_backup"]
    code, out, err = run(capsys, "restore", backup, "--yes")
    assert code == 0 and last_line(out) == f"restored: {len(tables)} tables from {Path(backup).name}", err
    code, out, _ = run(capsys, "analyze")
    assert code == 0 and last_line(out).startswith("ready: ")  # the legacy tables are back: a plan again


# -- help ----------------------------------------------------------------------------------

def _without_help(p: argparse.ArgumentParser, name: str = "runbook"):
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            helped = {c.dest for c in a._choices_actions if c.help}
            for n, q in a.choices.items():
                if n not in helped:
                    yield f"{name} {n} (the command)"
                yield from _without_help(q, f"{name} {n}")
        elif not isinstance(a, (argparse._HelpAction, argparse._VersionAction)) and not a.help:
            yield f"{name} {'/'.join(a.option_strings) or a.dest}"


def test_every_option_and_positional_of_every_command_has_help():
    assert list(_without_help(build_parser())) == []
