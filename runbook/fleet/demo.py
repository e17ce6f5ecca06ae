"""``runbook fleet demo``: tenant databases on the embedded server, in varied states, and
the inventory that rolls them out.

Every tenant is a copy (``CREATE DATABASE ... TEMPLATE``) of the reference legacy
database; a few are then made different, as tenants in the field are:

* ``migrated``: migrated already (``runbook migrate`` ran on it before the fleet);
* ``blocker``: a table already has the new name of a mapped table (a conflict blocker);
* ``extra``: a table of its own whose trigger function names a mapped table, so its plan
  (which rewrites that function) has a fingerprint of its own: held for review.

The tables are the mapping's (the default mapping unless one is given), never assumed.
"""

from __future__ import annotations

from pathlib import Path

import psycopg2

from ..mapping import as_mapping
from ..naming import q

__all__ = ["VARIANTS", "make_tenant", "write_inventory", "demo_variants"]

VARIANTS = ("legacy", "migrated", "blocker", "extra")


def demo_variants(n: int) -> list[str]:
    """n tenants: one of each variant at fixed places (the 7th, 12th and 16th of 20), the rest legacy."""
    v = ["legacy"] * n
    for i, kind in ((round(n * 0.35) - 1, "migrated"), (round(n * 0.6) - 1, "blocker"), (round(n * 0.8) - 1, "extra")):
        if 0 < i < n:
            v[i] = kind
    return v


def clone(admin_url: str, template: str, name: str) -> None:
    c = psycopg2.connect(admin_url)
    c.autocommit = True
    try:
        with c.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                        "AND pid <> pg_backend_pid()", (name,))
            cur.execute(f"DROP DATABASE IF EXISTS {q(name)}")
            cur.execute(f"CREATE DATABASE {q(name)} TEMPLATE {q(template)}")
    finally:
        c.close()


def make_tenant(url: str, variant: str, mapping=None, *, log_dir: str | Path = "outputs/logs") -> None:
    """Turn a copy of the reference legacy database into ``variant`` (``migrated``: the
    engine's log goes to ``log_dir``)."""
    m = as_mapping(mapping)
    first = m.tables[0]
    if variant == "legacy":
        return
    if variant == "migrated":
        from .. import api

        api.migrate(url, mapping, backup=False, progress=False, log_dir=str(log_dir))
        return
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            if variant == "blocker":  # the target name is taken: the plan is blocked
                cur.execute(f"CREATE TABLE {q(m.schema)}.{q(first.new)} (id integer PRIMARY KEY)")
            elif variant == "extra":  # a table of this tenant's own, its trigger function naming a mapped table
                cur.execute(f"SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                            f"AND a.attnum = i.indkey[0] WHERE i.indisprimary AND i.indrelid = %s::regclass",
                            (f"{q(m.schema)}.{q(first.old)}",))
                key = cur.fetchone()[0]
                cur.execute(f"CREATE TABLE {q(m.schema)}.{q('TenantBilling')} (id serial PRIMARY KEY, "
                            f"{q('ownerKey')} text NOT NULL, plan text NOT NULL DEFAULT 'basic')")
                cur.execute(f"CREATE FUNCTION {q(m.schema)}.tenant_billing_owner() RETURNS trigger LANGUAGE plpgsql "
                            f"AS $f$ BEGIN IF NOT EXISTS (SELECT 1 FROM {q(m.schema)}.{q(first.old)} "
                            f"WHERE {q(key)}::text = NEW.{q('ownerKey')}) THEN RAISE EXCEPTION 'unknown owner'; "
                            f"END IF; RETURN NEW; END $f$")
                cur.execute(f"CREATE TRIGGER tenant_billing_owner BEFORE INSERT ON {q(m.schema)}.{q('TenantBilling')} "
                            f"FOR EACH ROW EXECUTE FUNCTION {q(m.schema)}.tenant_billing_owner()")
            else:
                raise ValueError(f"unknown variant {variant!r}")
    finally:
        conn.close()


def write_inventory(path: Path, tenants: list[tuple[str, str, dict]], *, runner: str = "engine",
                    concurrency: int = 1, canary: list[str] | None = None, then=("50%", "100%"),
                    extra: str = "") -> Path:
    """A fleet.toml for ``tenants`` [(name, url_env, tags)]."""
    lines = [f"# runbook fleet inventory: {len(tenants)} databases", f'runner = "{runner}"',
             f"concurrency = {concurrency}", 'environment = "development"', extra.strip(), "",
             "[failure_budget]", "max_failures = 1", "", "[waves]",
             f"canary = [{', '.join(repr(c).replace(chr(39), chr(34)) for c in (canary or [tenants[0][0]]))}]",
             f"then = [{', '.join(chr(34) + t + chr(34) for t in then)}]", ""]
    for name, env, tags in tenants:
        tag_text = ", ".join(f'{k} = "{v}"' for k, v in tags.items())
        lines += ["[[databases]]", f'name = "{name}"', f'url_env = "{env}"', f"tags = {{ {tag_text} }}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


MARKER = ".runbook-fleet-demo"


def build_demo(server_dir: Path, out: Path, *, databases: int = 20, messages: int = 500, runner: str = "engine",
               concurrency: int = 1, say=print):
    """Start the embedded server in ``server_dir``, create the tenant databases afresh,
    set their URL variables in this process, write ``out/fleet.toml`` (and ``out/env.sh``
    with the variables, for a later ``runbook fleet rollback`` from a shell) and approve
    the canary's plan. Returns the inventory."""
    import os
    import shutil

    from ..demo import fixture
    from ..demo.server import LocalServer
    from ..errors import BadInput
    from . import state as fstate
    from .inventory import load_inventory
    from .planning import place_all

    out = Path(out).absolute()
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise BadInput(f"{out} exists and is not a fleet demo's folder: give another --out")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / MARKER).write_text("made by runbook fleet demo; removed by the next one\n")
    srv = LocalServer.create(Path(server_dir)).start()
    admin = srv.socket_url("postgres")
    template = "runbook_fleet_template"
    clone(admin, "template1", template)
    fixture.build(srv.socket_url(template), messages=messages)
    variants = demo_variants(databases)
    tenants, exports = [], []
    regions = ("eu", "us", "ap")
    for i, variant in enumerate(variants, 1):
        name, db, env = f"tenant-{i:02d}", f"runbook_fleet_tenant_{i:02d}", f"RUNBOOK_FLEET_TENANT_{i:02d}_URL"
        clone(admin, template, db)
        url = srv.socket_url(db)
        make_tenant(url, variant, log_dir=out / "setup-logs")
        os.environ[env] = url
        exports.append(f"export {env}='{url}'")
        tenants.append((name, env, {"environment": "production", "region": regions[i % 3], "tenant": f"{i:02d}"}))
    say(f"{databases} tenant databases on the embedded PostgreSQL {srv.version().split()[-1]} (port {srv.port}): "
        + ", ".join(f"{t[0]} {v}" for t, v in zip(tenants, variants) if v != "legacy")
        + f", the other {variants.count('legacy')} legacy")
    (out / "env.sh").write_text("# the demo's URL variables (socket, no password): . ./env.sh\n"
                                + "\n".join(exports) + "\n")
    inv = load_inventory(write_inventory(out / "fleet.toml", tenants, runner=runner, concurrency=concurrency,
                                         extra='output_dir = "."'))
    placed = place_all(inv)
    canary = placed[0]
    with fstate.update(inv.state_file) as st:
        st["approved"].append({"fingerprint": canary.fingerprint, "approved_at": fstate.now(), "by": "runbook fleet demo",
                               "databases": [p.name for p in placed if p.fingerprint == canary.fingerprint]})
    say(f"approved the canary's plan {canary.fingerprint[:12]} (as `runbook fleet plan --approve "
        f"{canary.fingerprint[:12]}` does)")
    return inv
