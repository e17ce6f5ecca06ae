"""runbook fleet on Dagster, in-process, against the suite's real PostgreSQL: 10 tenant
databases (copies of the reference legacy database), waves, the failure budget, resume,
a held database, rollback of a wave, and a kill of the orchestrator mid-wave."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2

from runbook.cli import main
from runbook.mapping import as_mapping
from runbook.naming import q

N = 10


def _tenants(pg, template, tmp_path, monkeypatch, variants, *, canary, then=("50%", "100%"), extra="",
             lock_timeout="100ms"):
    """len(variants) tenant databases, their URL variables set, fleet.toml written; (inventory, names, urls)."""
    from runbook.fleet.demo import make_tenant, write_inventory

    names, urls, rows = [], {}, []
    prefix = f"RB_FLEET_{os.getpid()}_{tmp_path.name[-6:].upper()}"
    for i, variant in enumerate(variants, 1):
        db = pg.create_db(template=template)
        url = pg.url(db)
        make_tenant(url, variant)
        name, env = f"tenant-{i:02d}", f"{prefix}_{i:02d}_URL".replace("-", "_")
        monkeypatch.setenv(env, url)
        names.append(name)
        urls[name] = url
        rows.append((name, env, {"region": "eu" if i % 2 else "us", "tenant": f"{i:02d}"}))
    inv = write_inventory(tmp_path / "fleet.toml", rows, runner="engine", canary=canary, then=then,
                          extra=f'lock_timeout = "{lock_timeout}"\nattempts = 1\nbackup = false\n' + extra)
    return inv, names, urls


def _catalog(url: str) -> list[tuple]:
    """Every relation's name, schema and storage: what a touch would change."""
    c = psycopg2.connect(url)
    try:
        with c.cursor() as cur:
            cur.execute("SELECT n.nspname, c.relname, c.relfilenode FROM pg_class c JOIN pg_namespace n "
                        "ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                        "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2")
            return cur.fetchall()
    finally:
        c.close()


def _where(url: str) -> set[str]:
    from runbook.status import status

    return {t.where for t in status(url).tables}


def _runs(url: str) -> list[str]:
    c = psycopg2.connect(url)
    try:
        with c.cursor() as cur:
            cur.execute("SELECT to_regclass('runbook.runs') IS NOT NULL")
            if not cur.fetchone()[0]:
                return []
            cur.execute("SELECT status FROM runbook.runs ORDER BY started_at")
            return [r[0] for r in cur.fetchall()]
    finally:
        c.close()


def _state(inv: Path) -> dict:
    return json.loads((inv.parent / "outputs" / "fleet" / "state.json").read_text())


def _approve(inv: Path, capsys) -> str:
    assert main(["fleet", "plan", "--inventory", str(inv), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    fp = next(d["fingerprint"] for d in plan["databases"] if d["name"] == "tenant-01")
    assert main(["fleet", "plan", "--inventory", str(inv), "--approve", fp[:12]]) == 0
    capsys.readouterr()
    return fp


def _quiet_table():
    """A mapped table no online step (fill) writes: a lock on it makes only the lock window wait."""
    m = as_mapping(None)
    t = next(t for t in m.tables if not any(c.fill_nulls for c in t.rename_columns))
    return f"{q(m.schema)}.{q(t.old)}"


def test_canary_failure_stops_the_rollout_then_a_rerun_resumes_and_the_held_database_is_never_touched(
        pg, reference_template, tmp_path, monkeypatch, capsys):
    variants = ["legacy"] * N
    variants[6] = "extra"  # its own trigger function: a plan of its own, held
    inv, names, urls = _tenants(pg, reference_template, tmp_path, monkeypatch, variants,
                                canary=["tenant-01", "tenant-02"])
    held = "tenant-07"
    held_before = _catalog(urls[held])
    fp = _approve(inv, capsys)

    # the canary tenant-02 fails: a session holds a lock its lock window waits for (lock_timeout 100ms, 1 attempt)
    blocker = psycopg2.connect(urls["tenant-02"])
    with blocker.cursor() as cur:
        cur.execute(f"LOCK TABLE {_quiet_table()} IN ACCESS SHARE MODE")
    try:
        assert main(["fleet", "run", "--inventory", str(inv), "--json"]) == 1
    finally:
        blocker.rollback()
        blocker.close()
    out = json.loads(capsys.readouterr().out)
    assert out["stopped"]["before_wave"] == 2
    assert out["databases"]["tenant-01"]["state"] == "migrated"
    assert out["databases"]["tenant-02"]["state"] == "failed"
    assert _where(urls["tenant-02"]) == {"old"}  # the failed canary is as it was
    for n in names[2:]:  # wave 2 and 3 were never started
        assert _runs(urls[n]) == [], n
        assert _where(urls[n]) == {"old"}, n
        assert out["databases"][n]["state"] in ("pending", "held"), n

    # the fix (the lock is gone); the re-run resumes: tenant-01 is skipped, the rest migrate
    archives_01 = sorted((inv.parent / "outputs/fleet/databases/tenant-01").rglob("summary.json"))
    assert main(["fleet", "run", "--inventory", str(inv), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "tenant-01" not in out["ran"]
    assert _runs(urls["tenant-01"]) == ["migrated"]  # one migration: not run again
    assert sorted((inv.parent / "outputs/fleet/databases/tenant-01").rglob("summary.json")) == archives_01
    for n in names:
        if n != held:
            assert _where(urls[n]) == {"new"}, n
            assert out["databases"][n]["state"] == "migrated", n

    # the held database: listed, never run, nothing in it changed, no archive
    assert out["databases"][held]["state"] == "held"
    assert held not in out["ran"]
    assert _catalog(urls[held]) == held_before
    assert _runs(urls[held]) == []
    assert not (inv.parent / "outputs/fleet/databases" / held).exists()

    # status reads the state file alone
    assert main(["fleet", "status", "--inventory", str(inv), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["counts"]["migrated"] == N - 1 and st["counts"]["held"] == 1
    page = (inv.parent / "outputs/fleet/index.html").read_text()
    assert "databases/tenant-03/migrate/" in page  # the table links each archive
    for url in urls.values():
        assert url not in page

    # rollback of wave 1 (the canary): both back under their old names, the others untouched
    assert main(["fleet", "rollback", "--inventory", str(inv), "--wave", "1", "--json"]) == 0
    capsys.readouterr()
    assert _where(urls["tenant-01"]) == {"old"} and _where(urls["tenant-02"]) == {"old"}
    assert _where(urls["tenant-03"]) == {"new"}
    assert _state(inv)["databases"]["tenant-01"]["state"] == "rolled back"
    # back at the schema the approved plan was made for: the next fleet run would migrate it again
    assert main(["fleet", "plan", "--inventory", str(inv), "--json"]) == 0
    placed = {d["name"]: d for d in json.loads(capsys.readouterr().out)["databases"]}
    assert placed["tenant-01"]["state"] == "rolled back" and placed["tenant-01"]["fingerprint"] == fp


def _waiting_on_a_lock(pg, url: str) -> bool:
    c = pg.admin()
    try:
        with c.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                        (urlsplit(url).path[1:],))
            return cur.fetchone()[0] > 0
    finally:
        c.close()


def _runbook_sessions(pg, url: str) -> int:
    c = pg.admin()
    try:
        with c.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name LIKE 'runbook%%'",
                        (urlsplit(url).path[1:],))
            return cur.fetchone()[0]
    finally:
        c.close()


def test_a_killed_orchestrator_leaves_each_database_migrated_or_as_it_was_and_a_rerun_finishes(
        pg, reference_template, tmp_path, monkeypatch, capsys):
    """The orchestrator is killed (SIGKILL, by its pid) in wave 2 while tenant-05 is in the
    middle of its migration: its online prepare steps done, its lock window waiting for a
    lock another session holds. Nothing is left half-renamed; the re-run recovers
    tenant-05 (undoes its prepare steps, migrates it) and finishes the rest."""
    variants = ["legacy"] * N
    inv, names, urls = _tenants(pg, reference_template, tmp_path, monkeypatch, variants, canary=["tenant-01"],
                                then=("100%",), lock_timeout="20s")
    _approve(inv, capsys)
    victim = "tenant-05"
    blocker = psycopg2.connect(urls[victim])
    with blocker.cursor() as cur:
        cur.execute(f"LOCK TABLE {_quiet_table()} IN ACCESS SHARE MODE")
    state_file = inv.parent / "outputs" / "fleet" / "state.json"
    proc = subprocess.Popen([sys.executable, "-m", "runbook.cli", "fleet", "run", "--inventory", str(inv)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    try:
        # kill it once tenant-05's lock window waits (a bounded wait for that event, not a timing assertion)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                st = json.loads(state_file.read_text())
            except (OSError, ValueError):
                st = {}
            if st.get("databases", {}).get(victim, {}).get("state") == "running" and _waiting_on_a_lock(pg, urls[victim]):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the rollout ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        blocker.rollback()  # the lock is released: the dead run's waiting backend ends (its client is gone)
        blocker.close()
    deadline = time.monotonic() + 60
    while _runbook_sessions(pg, urls[victim]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _runbook_sessions(pg, urls[victim]) == 0
    from runbook.status import status

    assert _where(urls["tenant-01"]) == {"new"}  # wave 1 was done
    assert _where(urls[victim]) == {"old"} and status(urls[victim]).state == "interrupted"
    migrated_before = {n for n in names if _where(urls[n]) == {"new"}}
    for n in names:  # migrated, or under its old names (never some tables renamed and others not)
        assert _where(urls[n]) in ({"new"}, {"old"}), n

    assert main(["fleet", "run", "--inventory", str(inv), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for n in names:
        st = status(urls[n])
        assert st.state == "migrated" and st.last_run.status == "migrated", (n, st.verdict)  # verified
        assert out["databases"][n]["state"] == "migrated", n
    for n in migrated_before:  # done before the kill: not run again
        assert _runs(urls[n]).count("migrated") == 1, n
    assert victim in out["ran"]


def test_the_notebooks_runner_gives_each_database_runbook_runs_archive(pg, reference_template, tmp_path, monkeypatch,
                                                                      capsys):
    """runner = "notebooks": the database goes through runbook run's pipeline (the four
    notebooks, papermill), its archive of its own whose manifest verifies."""
    inv, names, urls = _tenants(pg, reference_template, tmp_path, monkeypatch, ["legacy"], canary=["tenant-01"],
                                then=())
    text = inv.read_text().replace('runner = "engine"', 'runner = "notebooks"')
    inv.write_text(text)
    _approve(inv, capsys)
    assert main(["fleet", "run", "--inventory", str(inv), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    entry = out["databases"]["tenant-01"]
    assert entry["state"] == "migrated" and entry["verdict"] == "migrated", entry
    index = inv.parent / "outputs" / "fleet" / entry["archive"]
    assert index.name == "index.html" and (index.parent / "03-verify.html").exists()
    assert main(["evidence", "check", str(index.parent)]) == 0
    assert _where(urls["tenant-01"]) == {"new"}
    assert urls["tenant-01"] not in (inv.parent / "outputs" / "fleet" / "state.json").read_text()
