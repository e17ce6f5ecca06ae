"""``runbook scan-code``: the services' code that names an old table or column.

Two fixture repositories under tests/data/scan/: ``billing`` (a mapping of its own:
"Invoice" -> invoices, "LineItem" -> line_items with "unitPrice" renamed, "Customer" ->
customers; a TypeScript service with Prisma raw queries, kysely, knex and drizzle, a
Prisma schema, a Python worker with SQLAlchemy, a Go report, a Ruby admin model, a .sql
report) and ``assistant`` (the default mapping). Every planted reference is listed
below with its exact file:line:column; every other string of the fixtures (comments, UI
strings, type and class names, import paths, unquoted names, another schema) is a false
friend, so the scan must find exactly these. No database is needed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.cli import main

DATA = Path(__file__).resolve().parent / "data" / "scan"
BILLING_MAPPING = DATA / "billing" / "mapping.toml"

R, B, P, S = "raw SQL", "query builder", "Prisma model", "SQL file"
H, M = "high", "medium"

BILLING = [
    ("admin-rb/app/models/invoice.rb:3:22", "Invoice", "invoices", B, H),
    ("admin-rb/app/models/invoice.rb:7:15", "Invoice", "invoices", R, H),
    ("admin-rb/app/models/invoice.rb:7:32", "Invoice", "invoices", R, H),
    ("admin-rb/app/models/invoice.rb:8:13", "LineItem", "line_items", R, H),
    ("admin-rb/app/models/invoice.rb:8:27", "LineItem", "line_items", R, H),
    ("admin-rb/app/models/invoice.rb:8:52", "Invoice", "invoices", R, H),
    ("admin-rb/app/models/invoice.rb:9:14", "LineItem", "line_items", R, H),
    ("admin-rb/app/models/invoice.rb:9:25", "unitPrice", "unit_price_cents", R, H),
    ("admin-rb/app/models/invoice.rb:14:52", "Customer", "customers", R, H),
    ("api-ts/prisma/schema.prisma:8:7", "Invoice", "invoices", P, H),
    ("api-ts/prisma/schema.prisma:10:3", "issuedOn", "issued_at", P, H),
    ("api-ts/prisma/schema.prisma:18:3", "unitPrice", "unit_price_cents", P, H),
    ("api-ts/prisma/schema.prisma:30:10", "Customer", "customers", P, H),
    ("api-ts/src/invoices.ts:18:21", "issuedOn", "issued_at", R, H),
    ("api-ts/src/invoices.ts:19:11", "Invoice", "invoices", R, H),
    ("api-ts/src/invoices.ts:19:28", "Customer", "customers", R, H),
    ("api-ts/src/invoices.ts:24:36", "LineItem", "line_items", R, H),
    ("api-ts/src/invoices.ts:24:51", "unitPrice", "unit_price_cents", R, H),
    ("api-ts/src/invoices.ts:25:46", "unitPrice", "unit_price_cents", R, H),
    ("api-ts/src/invoices.ts:25:64", "LineItem", "line_items", R, H),
    ("api-ts/src/invoices.ts:29:25", "Invoice", "invoices", B, H),
    ("api-ts/src/invoices.ts:29:50", "issuedOn", "issued_at", B, H),
    ("api-ts/src/invoices.ts:29:69", "issuedOn", "issued_at", B, H),
    ("api-ts/src/invoices.ts:33:16", "LineItem", "line_items", B, H),
    ("api-ts/src/invoices.ts:33:54", "Invoice", "invoices", B, H),
    ("api-ts/src/invoices.ts:33:65", "Invoice", "invoices", B, H),
    ("api-ts/src/invoices.ts:33:79", "LineItem", "line_items", B, H),
    ("api-ts/src/invoices.ts:33:108", "LineItem", "line_items", B, H),
    ("api-ts/src/invoices.ts:33:117", "unitPrice", "unit_price_cents", B, H),
    ("api-ts/src/invoices.ts:37:16", "Invoice", "invoices", B, H),
    ("api-ts/src/invoices.ts:37:36", "issuedOn", "issued_at", B, M),  # a quoted key in .insert({...})
    ("api-ts/src/schema.ts:4:34", "Invoice", "invoices", B, H),
    ("api-ts/src/schema.ts:6:19", "issuedOn", "issued_at", B, H),
    ("api-ts/src/schema.ts:11:23", "unitPrice", "unit_price_cents", B, H),  # old column, new table
    ("db/reports/invoice_totals.sql:3:17", "issuedOn", "issued_at", S, H),
    ("db/reports/invoice_totals.sql:3:36", "unitPrice", "unit_price_cents", S, H),
    ("db/reports/invoice_totals.sql:4:7", "Invoice", "invoices", S, H),
    ("db/reports/invoice_totals.sql:5:7", "LineItem", "line_items", S, H),
    ("db/reports/invoice_totals.sql:6:19", "issuedOn", "issued_at", S, H),
    ("db/reports/invoice_totals.sql:13:11", "Invoice", "invoices", S, H),  # a PL/pgSQL body
    ("db/reports/invoice_totals.sql:13:25", "issuedOn", "issued_at", S, M),
    ("reports-go/report.go:17:36", "issuedOn", "issued_at", R, H),
    ("reports-go/report.go:17:55", "unitPrice", "unit_price_cents", R, H),
    ("reports-go/report.go:18:7", "Invoice", "invoices", R, H),
    ("reports-go/report.go:19:7", "LineItem", "line_items", R, H),
    ("reports-go/report.go:28:57", "Invoice", "invoices", R, H),
    ("reports-go/report.go:32:18", "Customer", "customers", B, H),
    ("worker-py/worker/db.py:11:6", "LineItem", "line_items", B, H),
    ("worker-py/worker/db.py:14:13", "unitPrice", "unit_price_cents", B, H),
    ("worker-py/worker/db.py:19:22", "Invoice", "invoices", B, H),
    ("worker-py/worker/db.py:22:25", "issuedOn", "issued_at", B, H),
    ("worker-py/worker/db.py:27:47", "Invoice", "invoices", R, H),
    ("worker-py/worker/db.py:27:87", "issuedOn", "issued_at", R, H),
    ("worker-py/worker/db.py:32:40", "unitPrice", "unit_price_cents", R, H),
    ("worker-py/worker/db.py:33:15", "LineItem", "line_items", R, H),
]

ASSISTANT = [
    ("api/app.py:12:21", "sessionName", "title", B, H),
    ("api/app.py:17:53", "User", "users", R, H),
    ("prisma/schema.prisma:7:7", "User", "users", P, H),  # model User without @@map
    ("prisma/schema.prisma:15:3", "sessionName", "title", P, H),
    ("prisma/schema.prisma:16:33", "lastActiveAt", "lastMessageAt", P, H),
    ("web/src/chat.ts:6:39", "sessionName", "title", R, H),
    ("web/src/chat.ts:6:58", "AssistantChatSession", "chat_sessions", R, H),
    ("web/src/chat.ts:12:37", "AssistantChatSession", "chat_sessions", R, H),
    ("web/src/chat.ts:12:64", "lastActiveAt", "lastMessageAt", R, H),
]

#: (file, a snippet of the line): lines that hold an old name but no reference
FALSE_FRIENDS = [
    ("api-ts/src/invoices.ts", '// Invoices service: reads the "Invoice" table'),  # comment
    ("api-ts/src/invoices.ts", '// SELECT * FROM "Invoice"'),  # SQL in a comment
    ("api-ts/src/invoices.ts", 'import { Invoice } from "./models/Invoice"'),  # import path
    ("api-ts/src/invoices.ts", 'from "../generated/LineItem"'),
    ("api-ts/src/invoices.ts", 'export type TableName = "Invoice" | "LineItem"'),  # type-level strings
    ("api-ts/src/invoices.ts", "export class InvoiceView implements Invoice"),  # class / type names
    ("api-ts/src/invoices.ts", 'title = "Invoice";'),  # a UI string
    ("api-ts/src/invoices.ts", "Welcome, Customer ${name}! Your Invoice is ready."),
    ("api-ts/src/invoices.ts", "SELECT * FROM invoice WHERE true"),  # unquoted: the table invoice
    ("api-ts/src/invoices.ts", 'Delete "Invoice" ${n}? This cannot be undone.'),  # a dialog, not SQL
    ("api-ts/src/invoices.ts", 'export const pattern = /"Invoice"/g;'),  # a regular expression
    ("api-ts/prisma/schema.prisma", '"Invoice" in a comment is not a reference'),
    ("api-ts/prisma/schema.prisma", "model LineItem {"),  # @@map("line_items")
    ("api-ts/prisma/schema.prisma", "invoice   Invoice @relation"),  # a relation field's type
    ("worker-py/worker/db.py", '"""Invoice worker: sends every Invoice to its Customer'),  # docstring
    ("worker-py/worker/db.py", "from .models.Invoice import render"),
    ("worker-py/worker/db.py", "class Invoice(Base):"),
    ("worker-py/worker/db.py", '# SELECT * FROM "Invoice" in a comment'),
    ("worker-py/worker/db.py", 'cur.execute("SELECT count(*) FROM customer")'),
    ("worker-py/worker/db.py", "Welcome, Customer {cur.rowcount}: {render('Invoice')}"),
    ("reports-go/report.go", '// Invoice is the report\'s row; the "Invoice" table'),
    ("reports-go/report.go", "type Invoice struct {"),
    ("reports-go/report.go", 'fmt.Println("Invoice report for Customer", id)'),
    ("admin-rb/app/models/invoice.rb", '# The "Invoice" model of the admin app'),
    ("admin-rb/app/models/invoice.rb", "class Invoice < ApplicationRecord"),
    ("admin-rb/app/models/invoice.rb", '"Invoice ##{id} for Customer"'),
    ("db/reports/invoice_totals.sql", '-- Totals per invoice: reads "Invoice"'),
    ("db/reports/invoice_totals.sql", "SELECT count(*) FROM invoice;"),
    ("db/reports/invoice_totals.sql", 'SELECT * FROM legacy."Customer";'),  # another schema
    ("api-ts/src/invoices.ts", '// old code: knex("Invoice").select("issuedOn")'),  # code commented out
    ("api-ts/src/invoices.ts", '/* prisma.$queryRaw`SELECT * FROM "LineItem"` */'),
    ("worker-py/worker/db.py", '"""Moves old rows: DELETE FROM "Invoice" WHERE "issuedOn"'),  # SQL in a docstring
    ("worker-py/worker/db.py", "# conn.execute(text('DELETE FROM \"Invoice\"'))"),
    ("reports-go/report.go", '// Before GORM: db.Table("Customer");'),
    ("admin-rb/app/models/invoice.rb", '# self.table_name = "Invoice"'),
    ("admin-rb/app/models/invoice.rb", "connection.execute('SELECT * FROM \"LineItem\"')"),  # =begin ... =end
    ("db/reports/invoice_totals.sql", "RAISE NOTICE 'touched \"Customer\"';"),  # a string in a function body
]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["scan-code", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def rows(expected, root: str) -> set[tuple]:
    return {(f"{root}/{loc}", old, new, kind, conf) for loc, old, new, kind, conf in expected}


def found(result) -> set[tuple]:
    return {(h.location, h.old, h.new, h.kind, h.confidence) for h in result.hits}


@pytest.fixture
def billing(tmp_path, monkeypatch):
    """A copy of the billing fixture, with folders that are never read planted in it;
    the current folder is its parent, so that locations read ``billing/...``."""
    root = tmp_path / "billing"
    shutil.copytree(DATA / "billing", root)
    planted = 'const q = db.query(\'SELECT * FROM "Invoice"\');\n'
    for folder in ("api-ts/node_modules/orm", ".git/hooks", "worker-py/.venv/lib", "api-ts/dist", "api-ts/build",
                   "worker-py/env"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "index.js").write_text(planted)
        (root / folder / "q.py").write_text('db.execute(\'SELECT * FROM "Invoice"\')\n')
    (root / "worker-py/env/pyvenv.cfg").write_text("home = /usr/bin\n")
    monkeypatch.chdir(tmp_path)
    return root


@pytest.fixture
def assistant(tmp_path, monkeypatch):
    root = tmp_path / "assistant"
    shutil.copytree(DATA / "assistant", root)
    monkeypatch.chdir(tmp_path)
    return root


def test_every_planted_reference_is_found_at_its_exact_place_and_nothing_else(billing):
    from runbook.scan import scan

    r = scan(["billing"], BILLING_MAPPING)
    assert found(r) == rows(BILLING, "billing")
    assert r.files == 8  # the node_modules, .git, venv and build folders are not read
    for h in r.hits:  # the location points at the old name itself
        text = Path(h.file).read_text().splitlines()[h.line - 1]
        assert text[h.column - 1:].startswith(h.old), h
    assert ("billing/api-ts/prisma/migrations/20240101000000_init/migration.sql",
            "an applied Prisma migration (history, never edited)") in r.skipped


def test_no_false_friend_is_reported(billing):
    from runbook.scan import scan

    lines = {(h.file, h.line) for h in scan(["billing"], BILLING_MAPPING).hits}
    for file, snippet in FALSE_FRIENDS:
        text = (billing / file).read_text().splitlines()
        at = [i + 1 for i, line in enumerate(text) if snippet in line]
        assert len(at) == 1, (file, snippet)
        assert (f"billing/{file}", at[0]) not in lines, (file, snippet)


def test_the_default_mapping_on_the_assistant_fixture(assistant):
    from runbook.scan import scan

    r = scan(["assistant"])
    assert found(r) == rows(ASSISTANT, "assistant")
    assert r.verdict == "found: 9 references in 3 files"


def test_the_text_output_the_verdict_and_exit_code_1(billing, capsys):
    code, out, err = run(capsys, "billing", "--mapping", str(BILLING_MAPPING))
    assert code == 1 and err == ""
    assert out.splitlines()[-1] == f"found: {len(BILLING)} references in 7 files"
    shown = set()
    for line in out.splitlines():
        m = re.match(r"(\S+:\d+:\d+)\s+(\S+)\s+(\S+)\s+(raw SQL|query builder|Prisma model|SQL file)\s+(high|medium|low)",
                     line)
        if m:
            shown.add(m.groups())
    assert shown == rows(BILLING, "billing")
    assert "Summary" in out


def test_json_matches_the_text(billing, capsys):
    code_t, out, _ = run(capsys, "billing", "--mapping", str(BILLING_MAPPING))
    code_j, js, _ = run(capsys, "billing", "--mapping", str(BILLING_MAPPING), "--json")
    d = json.loads(js)
    assert code_t == code_j == 1
    assert d["verdict"] == out.splitlines()[-1]
    assert {(h["location"], h["old"], h["new"], h["kind"], h["confidence"]) for h in d["hits"]} == rows(BILLING, "billing")
    for h in d["hits"]:
        assert h["location"] in out and h["location"] == f"{h['file']}:{h['line']}:{h['column']}"
    assert d["files"] == 8 and d["files_with_hits"] == 7
    assert d["summary"]["by_confidence"] == {c: sum(r[4] == c for r in BILLING) for c in ("high", "medium", "low")}


def _apply(diff_file: Path, cwd: Path) -> None:
    dry = subprocess.run(["patch", "-p1", "--dry-run", "-i", str(diff_file)], cwd=cwd, capture_output=True, text=True)
    assert dry.returncode == 0 and "FAILED" not in dry.stdout and "fuzz" not in dry.stdout, dry.stdout + dry.stderr
    subprocess.run(["patch", "-p1", "-s", "-i", str(diff_file)], cwd=cwd, check=True)


def test_the_patch_applies_and_leaves_only_what_was_not_sure(billing, capsys):
    before = {p: p.read_bytes() for p in billing.rglob("*") if p.is_file()}
    code, out, _ = run(capsys, "billing", "--mapping", str(BILLING_MAPPING), "--patch", "fix.diff")
    assert code == 1
    assert {p: p.read_bytes() for p in billing.rglob("*") if p.is_file()} == before  # nothing edited in place
    diff = Path("fix.diff").read_text()
    assert diff.startswith("--- a/billing/") and '+  @@map("invoices")' in diff
    _apply(Path("fix.diff").resolve(), billing.parent)
    code, out, _ = run(capsys, "billing", "--mapping", str(BILLING_MAPPING), "--json")
    left = {(f"{h['file']}:{h['line']}", h["old"], h["new"], h["kind"], h["confidence"]) for h in json.loads(out)["hits"]}
    assert left == {(r[0].rsplit(":", 1)[0], *r[1:]) for r in rows(BILLING, "billing") if r[4] != "high"}
    from runbook.prisma import load

    schema = load(billing / "api-ts/prisma/schema.prisma")  # still a valid schema, models named as before
    assert schema.model("Invoice").db_name == "invoices"
    assert schema.model("LineItem").field("unitPrice").db_name == "unit_price_cents"


def test_the_patch_on_the_assistant_fixture_leaves_it_clean(assistant, capsys):
    code, diff, err = run(capsys, "assistant", "--patch", "-")
    assert code == 1 and err.strip() == "found: 9 references in 3 files"
    Path("fix.diff").write_text(diff)
    _apply(Path("fix.diff").resolve(), assistant.parent)
    code, out, _ = run(capsys, "assistant")
    assert code == 0
    assert out.splitlines()[-1] == "clean: no reference to an old name in 3 files"
    code, out, _ = run(capsys, "assistant", "--json")
    assert code == 0 and json.loads(out)["hits"] == []


def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "bad.toml").write_text("tables = [\n")
    (tmp_path / "empty.toml").write_text("tables = []\n")
    for argv in (["nowhere"], ["src", "--mapping", "bad.toml"], ["src", "--mapping", "empty.toml"],
                 ["src", "--mapping", "missing.toml"], ["src", "--patch", "-", "--json"]):
        for extra in ([], ["--json"]):
            if "--json" in argv and extra:
                continue
            code, out, err = run(capsys, *argv, *extra)
            assert code == 2, (argv, extra)
            assert len(err.strip().splitlines()) == 1 and err.startswith("runbook: "), err
            assert "Traceback" not in err


def test_a_clean_folder_exits_0_and_the_command_runs_as_a_program(tmp_path):
    (tmp_path / "app.ts").write_text('// "User" is fine here\nexport const t = "Welcome, User";\n'
                                     'knex("users").select("email");\n')
    r = subprocess.run([sys.executable, "-m", "runbook.cli", "scan-code", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "clean: no reference to an old name in 1 files"
    r = subprocess.run([sys.executable, "-m", "runbook.cli", "scan-code", str(tmp_path / "nope")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "does not exist" in r.stderr


@pytest.mark.parametrize("sql, expected", [
    ('SELECT * FROM "User"', [("User", "users", "table")]),
    ("SELECT * FROM User", []),  # folds to user
    ('SELECT * FROM legacy."User"', []),
    ('SELECT * FROM public."User" u WHERE u."sessionName" IS NULL', [("User", "users", "table")]),
    ("SELECT 'FROM \"User\"' AS t -- \"User\"", []),  # a string literal and a comment
    ('SELECT "sessionName" FROM "AssistantChatSession"', [("sessionName", "title", "column"),
                                                          ("AssistantChatSession", "chat_sessions", "table")]),
    ('SELECT "sessionName" FROM chat_sessions', [("sessionName", "title", "column")]),  # new table, old column
    ('WITH "User" AS (SELECT 1) SELECT * FROM "User"', []),  # a CTE shadows the table
    ('INSERT INTO "AssistantChatSession" ("sessionName") VALUES (?)', [
        ("AssistantChatSession", "chat_sessions", "table"), ("sessionName", "title", "column")]),
    ('"User" WHERE id = ${id}', [("User", "users", "table")]),  # a fragment: the tokenizer
    ('JOIN "User" ON ', [("User", "users", "table")]),
])
def test_sql_references(sql, expected):
    from runbook.mapping import load_mapping
    from runbook.scan.names import Names
    from runbook.scan.sql import find_refs

    refs, _ = find_refs(sql, Names.from_mapping(load_mapping()))
    assert sorted((r.old, r.new, r.what) for r in refs) == sorted(expected)
    for r in refs:
        assert sql[r.start:r.end] == r.old


@pytest.mark.parametrize("name, text, expected", [
    # a concatenated piece of SQL
    ("a.ts", 'const q = "SELECT * FROM " + \'"User"\' + " WHERE id = $1";\n', {("1:32", "User", R, "medium")}),
    # kysely's array form; an alias
    ("b.ts", 'db.selectFrom(["chat_folders", "User as u"]).select("u.email");\n', {("1:33", "User", B, H)}),
    # a bare column in a statement of two tables: medium
    ("c.ts", 'knex("AssistantChatSession").join("User", "User.id", "userId").select("sessionName");\n',
     {("1:7", "AssistantChatSession", B, H), ("1:36", "User", B, H), ("1:44", "User", B, H),
      ("1:72", "sessionName", B, M)}),
    # a Prisma model of another schema (multiSchema) is not the mapping's table
    ("d.prisma", 'model User {\n  id String @id\n  @@schema("legacy")\n}\n', set()),
    ('e.prisma', 'model User {\n  id String @id\n  @@map(name: "User")\n}\n', {("3:16", "User", P, H)}),
    # Go: a raw string passed to Exec; an escaped quote in an interpreted one
    ("f.go", 'db.Exec(`DELETE FROM "AssistantFolder" WHERE id = $1`, id)\n'
             'db.Query("SELECT \\"sessionName\\" FROM \\"AssistantChatSession\\"")\n',
     {("1:23", "AssistantFolder", R, H), ("2:20", "sessionName", R, H), ("2:41", "AssistantChatSession", R, H)}),
    # Ruby: a heredoc with an interpolation; a UI string
    ("g.rb", 'ActiveRecord::Base.connection.execute(<<~SQL)\n  UPDATE "User" SET email = #{x}\nSQL\nputs "User"\n',
     {("2:11", "User", R, H)}),
    # Python: %s placeholders, a raw string, an f-string that is not SQL
    ("h.py", 'cur.execute("SELECT 1 FROM \\"User\\" WHERE id = %s", (1,))\n'
             'cur.execute(r\'DELETE FROM "AssistantMessage"\')\nprint(f"User {name}")\n',
     {("1:30", "User", R, H), ("2:28", "AssistantMessage", R, H)}),
    # a TSX text node with an apostrophe does not derail the lexer
    ("i.tsx", 'export const P = () => <p>Don\'t panic, User</p>;\n'
              'const r = prisma.$queryRaw`SELECT 1 FROM "User"`;\n', {("2:43", "User", R, H)}),
])
def test_snippets(tmp_path, name, text, expected):
    from runbook.scan import scan

    (tmp_path / name).write_text(text)
    r = scan([tmp_path / name])
    assert {(f"{h.line}:{h.column}", h.old, h.kind, h.confidence) for h in r.hits} == expected
    for h in r.hits:
        assert text.splitlines()[h.line - 1][h.column - 1:].startswith(h.old)


@pytest.mark.parametrize("name, text, expected", [
    ("fk.py", 'user_id = Column(ForeignKey("User.id"))\nfolder = relationship("User")\n', {("1:30", "User", B, H)}),
    ("gorm.go", 'func (User) TableName() string { return "User" }\n', {("1:42", "User", B, H)}),
    ("entity.ts", '@Entity("User")\nexport class User {}\n@Entity({ name: "AssistantFolder" })\nclass F {}\n',
     {("1:10", "User", B, H), ("3:18", "AssistantFolder", B, H)}),
    ("js.ts", 'const a = Array.from("User"); path.join("User", x); console.table("User");\n', set()),
    ("raw.ts", 'knex("users").whereRaw(\'"User"."email" = ?\', [e]);\n', {("1:26", "User", R, H)}),
])
def test_more_orms(tmp_path, name, text, expected):
    test_snippets(tmp_path, name, text, expected)


def test_files_that_cannot_be_read_are_listed_as_skipped(tmp_path):
    from runbook.scan import scan

    (tmp_path / "broken.prisma").write_text('model User {\n  id String @id\n  @@map("User)\n}\n')
    (tmp_path / "latin1.py").write_bytes('q = "SELECT * FROM \\"User\\" -- caf\xe9"\n'.encode("latin-1"))
    (tmp_path / "ok.sql").write_text('SELECT 1 FROM "User";\n')
    r = scan([tmp_path])
    assert r.files == 2 and [h.location for h in r.hits] == [f"{tmp_path}/ok.sql:1:16"]
    why = dict(r.skipped)
    assert why[f"{tmp_path}/latin1.py"] == "not UTF-8"
    assert why[f"{tmp_path}/broken.prisma"].startswith("not a Prisma schema")


def test_in_a_terminal(monkeypatch):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from terminal import in_terminal

    monkeypatch.chdir(DATA)
    shown = in_terminal("scan-code", "assistant")
    assert shown.code == 1 and shown.last_line.strip() == "found: 9 references in 3 files"
    rows = [line for line in shown.lines(shown.out) if re.match(r"assistant/\S+:\d+:\d+ ", line)]
    assert [r.split()[0] for r in rows] == [f"assistant/{h[0]}" for h in ASSISTANT]  # whole, one a line
