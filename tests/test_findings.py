"""Finding codes (runbook/findings.py): every finding of ``analyze`` carries a registered,
stable code, docs/findings.md is the registry, and the report says *blocker* only for what
stops the run (issue 14).

Two databases: the reference legacy database (the demo fixture, with the default
mapping), and one built here that is not it: its tables in a schema of their own, a
PL/pgSQL function that names a table (and a comment that does), a function of dynamic SQL,
a custom-named index, a view, a session holding a lock, and NOT NULL columns a small
Prisma schema does not know, of a model the service writes and of one it does not.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

import runbook
from runbook import compat, report
from runbook.compat import BLOCKER, INFO, WARNING, Finding
from runbook.connection import password_of
from runbook.findings import CODES, Note, lookup, render_html, render_markdown, service_code
from runbook.plan import Blocker
from test_compat import execute

DOCS = Path(__file__).resolve().parent.parent / "docs" / "findings.md"

DDL = [
    "CREATE SCHEMA crm",
    'CREATE TABLE crm."Customer" (id serial PRIMARY KEY, name text NOT NULL, "legacyCode" text NOT NULL)',
    'CREATE TABLE crm."Order" (id serial PRIMARY KEY, "customerId" integer NOT NULL REFERENCES crm."Customer"(id), '
    '"legacyRef" text NOT NULL)',
    'CREATE INDEX cust_name_lookup ON crm."Customer" (name)',
    'CREATE VIEW crm.customer_names AS SELECT name FROM crm."Customer"',
    "CREATE FUNCTION crm.count_customers() RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN\n"
    '  -- counts the rows of "Customer"\n'
    '  RETURN (SELECT count(*) FROM crm."Customer"); END $$',
    "CREATE FUNCTION crm.purge_orders() RETURNS void LANGUAGE plpgsql AS $$ BEGIN\n"
    "  EXECUTE 'DELETE FROM crm.\"Order\"'; END $$",
]

PRISMA = """
datasource db {
  provider = "postgresql"
}

model Customer {
  id     Int     @id @default(autoincrement())
  name   String
  orders Order[]
  @@map("customers")
}

model Order {
  id         Int      @id @default(autoincrement())
  customerId Int
  customer   Customer @relation(fields: [customerId], references: [id])
  @@map("orders")
}
"""

MAPPING = """
schema = "crm"
audit_table = false

[service]
name = "crm"
target_schema = "target.prisma"
writes = ["Order"]

[[tables]]
from = "Customer"
to = "customers"

[[tables]]
from = "Order"
to = "orders"
"""


def coded(a) -> list[tuple[str, str]]:
    """(what, code) of everything the analysis returns that is a finding."""
    out = [("blocker", b.code) for b in a.plan.blockers]
    out += [("note", getattr(n, "code", None)) for n in a.plan.notes]
    out += [("at risk", r.code) for r in a.at_risk]
    out += [("session", b.code) for b in a.blocking]
    out += [("conflict", c.code) for c in a.conflicts]
    out += [("dump problem", getattr(p, "code", None)) for p in a.dump_problems]
    out += [("service finding", r.get("code")) for r in a.service_findings]
    out += [("service note", getattr(n, "code", None)) for n in a.service_notes]
    if not a.owns_tables:
        out.append(("role", "RB404"))  # a fact of the analysis, not an object of its own
    return out


def assert_all_registered(a) -> set[str]:
    got = coded(a)
    assert got, "the analysis found nothing to check"
    missing = [(what, code) for what, code in got if code not in CODES]
    assert not missing, missing
    d = json.loads(json.dumps(a.to_dict(), default=str))  # what `analyze --json` prints
    assert {f["code"] for f in d["findings"]} == {code for _, code in got}
    assert all(x["code"] in CODES for x in d["at_risk"] + d["blocking"] + d["conflicts"] + d["plan"]["blockers"])
    return {code for _, code in got}


@pytest.fixture
def crm(empty_db, tmp_path):
    execute(empty_db, *DDL)
    (tmp_path / "target.prisma").write_text(PRISMA)
    (tmp_path / "mapping.toml").write_text(MAPPING)
    return empty_db, str(tmp_path / "mapping.toml")


# --------------------------------------------------------------------------- the registry


def test_codes_are_unique_and_well_formed():
    from runbook import findings

    assert len(CODES) == len(findings._ALL)  # no code registered twice
    assert len({c.title for c in CODES.values()}) == len(CODES)
    for code, c in CODES.items():
        assert re.fullmatch(r"RB[1-9]\d\d", code) and c.code == code
        assert c.severity in (BLOCKER, WARNING, INFO, findings.WRITES_DEPENDENT), code
        assert c.title and c.explanation and c.fix
    assert set(findings._SERVICE.values()) <= set(CODES)


def test_docs_findings_md_pins_the_registry():
    """docs/findings.md is generated from the registry; its code -> title table and one
    section per code are read back and compared, so either drifting fails."""
    text = DOCS.read_text()
    assert text == render_markdown(), "docs/findings.md is stale: write runbook.findings.render_markdown() to it"
    table = dict(re.findall(r"^\| \[(RB\d{3})\]\(#rb\d{3}\) \| (.+?) \| .+? \|$", text, re.M))
    assert table == {code: c.title for code, c in CODES.items()}
    sections = dict(re.findall(r"^## (RB\d{3}): (.+)$", text, re.M))
    assert sections == table
    for code in CODES:
        assert f'<a id="{code.lower()}"></a>' in text


def test_findings_html_has_an_anchor_per_code_and_needs_nothing_else():
    page = render_html()
    for code, c in CODES.items():
        assert f'id="{code.lower()}"' in page and code in page
    assert not re.search(r"<(link|script|img)\b", page) and "http" not in page


def test_an_unregistered_code_is_refused():
    with pytest.raises(ValueError, match="RB999"):
        Blocker("conflict", "x", "y", code="RB999")
    with pytest.raises(ValueError):
        Blocker("conflict", "x", "y")  # every blocker names its code
    with pytest.raises(ValueError):
        Note("text", "RB000")
    with pytest.raises(ValueError, match="register one"):
        Finding("M", "t", "c", "nullability", INFO, "p", "c", "f")
    assert Finding("M", "t", "c", "unknown column", BLOCKER, "p", "c", "f", ("writes",)).code == "RB305"
    assert service_code("name", INFO) == lookup("RB321").code
    assert service_code("enum", BLOCKER, ("reads", "writes")) != service_code("enum", BLOCKER, ("writes",))


# --------------------------------------------------------------------------- the demo fixture


def test_every_finding_of_the_demo_carries_a_code(ref_db, workdir):
    a = runbook.analyze(ref_db, backup_dir=str(workdir))
    codes = assert_all_registered(a)
    assert a.service_findings and a.at_risk  # the demo has both (and no plan note)
    assert {"RB203", "RB201"} <= codes  # views/triggers/policies follow by OID; functions rewritten


def test_the_demo_write_limit_is_a_warning_not_a_blocker(ref_db, workdir):
    """users."passwordHash" (NOT NULL, no default, unknown to the AI Assistant, which
    never writes users) limits the service's writes but does not stop the run."""
    a = runbook.analyze(ref_db, backup_dir=str(workdir))
    limits = [r for r in a.service_findings if r["code"] == "RB305"]
    assert limits and all(r["severity"] == "warning (writes)" for r in limits)
    assert not a.plan.blockers and a.count(BLOCKER) == 0 and a.count(WARNING) >= len(limits)
    shown = report.service_compat(a).data
    warnings = shown.split("<h4>Warnings")[1]
    assert all(r["problem"] in warnings for r in limits)
    assert "blocker (writes)" not in shown
    facts = dict(report.overview(a).df.values.tolist())
    assert facts["blockers (they stop the run)"] == "0"
    assert facts["warnings (they do not stop it)"] == str(a.count(WARNING))


# --------------------------------------------------------------------------- a database that is not the fixture


def test_every_finding_of_another_database_carries_a_code(crm, workdir):
    url, mapping = crm
    lock = psycopg2.connect(url)
    try:
        with lock.cursor() as cur:
            cur.execute('LOCK TABLE crm."Order" IN ACCESS SHARE MODE')  # held until rollback
        a = runbook.analyze(url, mapping, backup_dir=str(workdir))
    finally:
        lock.rollback()
        lock.close()
    codes = assert_all_registered(a)
    by_object = {b.object: b.code for b in a.plan.blockers}
    assert by_object == {"crm.purge_orders()": "RB101"}  # dynamic SQL cannot be rewritten
    risk = {r.name: r.code for r in a.at_risk}
    assert risk["crm.count_customers()"] == "RB201" and risk["crm.purge_orders()"] == "RB101"
    assert risk["crm.customer_names"] == "RB203"
    assert any(n.code == "RB204" and "cust_name_lookup" in n for n in a.plan.notes)
    assert [(b.code, b.tables) for b in a.blocking] == [("RB401", ("Order",))]
    assert {"RB330"} <= codes  # the blocked plan is not predicted for the service
    facts = dict(report.overview(a).df.values.tolist())
    assert facts["blockers (they stop the run)"] == "1" == str(a.count(BLOCKER))
    table = report.blockers(a).df
    assert list(table["severity"]) == ["blocker", "warning"]  # the function stops the run; the session does not
    assert 'href="findings.html#rb101"' in table["code"][0]
    assert 'href="findings.html#rb101"' in report.at_risk(a)._repr_html_()


def test_a_write_limit_is_a_warning_and_a_write_stop_a_blocker(crm, workdir):
    """Customer."legacyCode" blocks creates of Customer, which the service does not write:
    a warning; Order."legacyRef" blocks creates of Order, which it writes: a blocker."""
    url, mapping = crm
    execute(url, "DROP FUNCTION crm.purge_orders()")
    a = runbook.analyze(url, mapping, backup_dir=str(workdir))
    assert_all_registered(a)
    sev = {(r["model"], r["column"]): (r["code"], r["severity"]) for r in a.service_findings}
    assert sev[("Customer", "legacyCode")] == ("RB305", "warning (writes)")
    assert sev[("Order", "legacyRef")] == ("RB305", "blocker (writes)")
    assert a.count(BLOCKER) == sum(r["severity"].startswith("blocker") for r in a.service_findings) == 1
    shown = report.service_compat(a).data
    blockers_part, warnings_part = shown.split("<h4>Warnings")
    assert "legacyRef" in blockers_part and "legacyCode" not in blockers_part
    assert "legacyCode" in warnings_part and "legacyRef" not in warnings_part
    assert 'href="findings.html#rb305"' in shown
    facts = dict(report.overview(a).df.values.tolist())
    assert facts["blockers (they stop the run)"] == "1"
    assert int(facts["warnings (they do not stop it)"]) >= 1


def test_check_schema_rows_say_warning_for_a_model_the_service_does_not_write(crm, capsys):
    """`runbook check-schema` prints Compatibility.rows(): the same words as the report."""
    url, mapping = crm
    schema = str(Path(mapping).parent / "target.prisma")
    execute(url, 'ALTER TABLE crm."Customer" RENAME TO customers', 'ALTER TABLE crm."Order" RENAME TO orders')
    c = compat.check(url, schema, db_schema="crm", written=("Order",))
    rows = {(r["model"], r["column"]): r for r in c.rows()}
    assert rows[("Customer", "legacyCode")]["severity"] == "warning (writes)"
    assert rows[("Order", "legacyRef")]["severity"] == "blocker (writes)"
    assert all(r["code"] in CODES for r in c.rows((BLOCKER, WARNING, INFO)))
    assert [f.column for f in c.blocking] == ["legacyRef"]  # what stops it is unchanged
    from runbook.cli import main

    code = main(["check-schema", "--database-url", url, "--target-schema", schema, "--db-schema", "crm",
                 "--writes", "Order"])
    out = capsys.readouterr().out
    assert code != 0 and "1 blocker(s) stop the service" in out
    lines = {col: l for l in out.splitlines() for col in ("legacyCode", "legacyRef") if col in l.split()}
    assert all(lines[col].split()[0] in CODES for col in lines)  # each finding's row starts with its code
    assert "warning (writes)" in lines["legacyCode"] and "blocker" not in lines["legacyCode"]
    assert "blocker (writes)" in lines["legacyRef"]
    assert password_of(url) not in out


INV = [
    "CREATE SCHEMA inv",
    'CREATE TABLE inv."Tag" (id int PRIMARY KEY)', "CREATE TABLE inv.tags (id int)",
    'CREATE TABLE inv."Label" (id int PRIMARY KEY)', "CREATE VIEW inv.labels AS SELECT 1 AS x",
    'CREATE TABLE inv."Item" (id int PRIMARY KEY, sku text, a text, b text)',
    "CREATE TABLE inv.other (id int)", "CREATE INDEX items_pkey ON inv.other (id)",
    'CREATE INDEX "Item_sku_trgm" ON inv."Item" (sku)',
    'CREATE TABLE inv."Event" (id int, at date) PARTITION BY RANGE (at)',
    """CREATE TABLE inv."Event_2024" PARTITION OF inv."Event" FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')""",
    """CREATE TABLE inv."Event_2025" PARTITION OF inv."Event" FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')""",
    'CREATE TABLE inv."Note" (id int, body text)',  # no primary key
    f'CREATE INDEX "Item_{"x" * 58}" ON inv."Item" (a)',  # 63 bytes: with "items_" it would be 64
]

INV_MAPPING = """
schema = "inv"
audit_table = false

[[enums]]
name = "other"
values = ["A", "B"]

[[tables]]
from = "Tag"
to = "tags"

[[tables]]
from = "Label"
to = "labels"

[[tables]]
from = "Ghost"
to = "ghosts"

[[tables]]
from = "Item"
to = "items"
rename_columns = [{ from = "a", to = "b" }, { from = "zz", to = "yy" }]
add_columns = [
  { name = "kind", type = "other" },
  { name = "ownerId", type = "integer", references = { table = "Nope", column = "id" } },
]
set_defaults = [{ column = "qq", default = 0 }]

[[tables]]
from = "Event"
to = "events"

[[tables]]
from = "Event_2024"
to = "events_2024"
rename_columns = [{ from = "id", to = "ident" }]

[[tables]]
from = "Note"
to = "notes"
rename_columns = [{ from = "body", to = "text", not_null = true, fill_nulls = "empty" }]
"""


def test_each_kind_of_plan_blocker_and_note_has_its_own_code(empty_db, tmp_path, workdir):
    execute(empty_db, *INV)
    (tmp_path / "mapping.toml").write_text(INV_MAPPING)
    a = runbook.analyze(empty_db, str(tmp_path / "mapping.toml"), backup_dir=str(workdir))
    assert_all_registered(a)
    assert {b.object: b.code for b in a.plan.blockers} == {
        "inv.tags": "RB103",  # the target table exists
        "inv.labels": "RB104",  # the target name is a view's
        "inv.Ghost": "RB105",  # the mapped table is missing
        "inv.items_pkey": "RB106",  # the primary key's new name is an index's
        "items.b": "RB107",  # the column rename's target exists
        "Item.zz": "RB108",  # the renamed column is missing
        "Item.qq": "RB108",  # the column given a default is missing
        "inv.other": "RB109",  # the enum's name is a table's
        "Nope": "RB110",  # the added foreign key's table is missing
        "Note.body": "RB111",  # NULLs filled by a primary key the table does not have
        "Event_2024.id": "RB112",  # an inherited column renamed on a partition
    }
    notes = {n.code for n in a.plan.notes}
    assert {"RB206", "RB207", "RB209"} <= notes  # "Item_sku_trgm" keeps its prefix (and the 63-byte one);
    # "Event_2025" keeps its name
    assert {c.code for c in a.conflicts} == {b.code for b in a.plan.blockers}
    assert a.count(BLOCKER) == len(a.plan.blockers)
    table = report.blockers(a).df
    assert len(table) == len(a.plan.blockers) and set(table["severity"]) == {"blocker"}
    assert 'href="findings.html#rb103"' in report.conflicts(a)._repr_html_()


def test_a_role_that_cannot_back_up_nor_rename_is_told_so_with_codes(crm, pg, workdir):
    """A login role that may read the mapped tables but owns none of them, and cannot read
    another table: the backup cannot be taken (RB403) and the renames are refused (RB404),
    both blockers."""
    url, mapping = crm
    role, password = f"rb_find_{secrets.token_hex(4)}", f"Pw-{secrets.token_hex(8)}"
    execute(url, "DROP FUNCTION crm.purge_orders()", "CREATE TABLE crm.secret (x int)",
            f"CREATE ROLE {role} LOGIN PASSWORD '{password}'", f"GRANT USAGE ON SCHEMA crm TO {role}",
            f'GRANT SELECT ON crm."Customer", crm."Order", crm.customer_names TO {role}')
    p = urlsplit(url)
    as_role = urlunsplit(p._replace(netloc=f"{role}:{password}@{p.hostname}:{p.port}"))
    try:
        a = runbook.analyze(as_role, mapping, backup_dir=str(workdir))
    finally:
        execute(url, f"DROP OWNED BY {role}")
        execute(pg.url("postgres"), f"DROP ROLE {role}")
    codes = assert_all_registered(a)
    assert a.dump_problems and {p.code for p in a.dump_problems} == {"RB403"}
    assert not a.owns_tables and "RB404" in codes
    stops = {f.code for f in a.findings if f.severity == BLOCKER}
    assert {"RB403", "RB404"} <= stops
    table = report.blockers(a).df
    assert any("rb404" in c for c in table["code"]) and any("rb403" in c for c in table["code"])


def test_every_place_that_makes_a_finding_names_a_registered_code():
    """Read as source, so that the places no database of these tests reaches (a join table
    read backwards, a partition's foreign-key clone ...) are checked too: each Blocker,
    Note, AtRisk, Blocking and Conflict made in the plan and the API names a code, a
    registered literal or another finding's ``.code``."""
    import ast

    root = Path(runbook.__file__).parent
    made = {"Blocker", "Note", "AtRisk", "Blocking", "Conflict"}
    seen = 0
    for path in [*sorted((root / "plan").glob("*.py")), root / "api.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) in made):
                continue
            arg = next((k.value for k in node.keywords if k.arg == "code"), None) or node.args[-1]
            literals = [n.value for n in ast.walk(arg) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            where = f"{path.name}:{node.lineno}"
            if isinstance(arg, ast.Attribute):
                assert arg.attr == "code", where
            else:
                assert literals and all(c in CODES for c in literals), (where, literals)
            seen += 1
    assert seen >= 40, seen  # the places this test was written against (41)
