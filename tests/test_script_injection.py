"""The generated migration script runs only the plan's SQL, whatever the mapping holds.

The script is read by a person and run with psql: every name and literal of the mapping
reaches it, in statements (quoted), inside dollar-quoted bodies (the fill trigger, the
verification block, a rewritten function) and in the ``-- ...`` comment above each step
(``describe()``). A label that ends a comment, or closes a dollar quote, would run as SQL.
The fuzz test below draws mappings from an alphabet of exactly those characters, runs
the rendered script with psql and compares the result with ``runbook.migrate``.
"""

from __future__ import annotations

import subprocess
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import runbook
from runbook.execute.backup import _env_and_url, _tool
from runbook.errors import ConflictError, MappingError
from runbook.mapping import parse_mapping
from runbook.ops import CreateEnum, FillNulls, RenameTrigger, SetDefault
from runbook.plan import comment
from runbook.naming import q
from snapshots import execute, rows, state


def psql(url: str, script: Path) -> subprocess.CompletedProcess:
    env, plain = _env_and_url(url)
    return subprocess.run([str(_tool("psql")), "-X", "-q", "-v", "ON_ERROR_STOP=1", f"--dbname={plain}", "-f",
                           str(script)], capture_output=True, text=True, env=env)


def public_tables(url: str) -> set[str]:
    return {r[0] for r in rows(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def one_enum_mapping(values, **column) -> dict:
    return {"enums": [{"name": "R", "values": values}],
            "tables": [{"from": "User", "to": "users", "add_columns": [{"name": "r", "type": "R", **column}]}]}


# -- refusals: one line, exit 2 ------------------------------------------------------------------

SMUGGLED = 'A\nDROP TABLE "Note"; --'


@pytest.mark.parametrize("doc, what", [
    (one_enum_mapping([SMUGGLED, "B"]), "enum value"),
    (one_enum_mapping(["A\rDROP TABLE x; --"]), "enum value"),
    (one_enum_mapping(["A\u2028B"]), "enum value"),
    (one_enum_mapping(["A\u202eB"]), "enum value"),  # bidi override: reads differently than it runs
    ({"tables": [{"from": "User", "to": "users", "add_columns": [{"name": "c", "type": "text", "default": SMUGGLED}]}]},
     "default"),
    ({"tables": [{"from": "User", "to": "users", "set_defaults": [{"column": "username", "default": "x\ty"}]}]},
     "default"),
    ({"tables": [{"from": "AssistantChatSession", "to": "s", "rename_columns": [
        {"from": "sessionName", "to": "title", "not_null": True, "fill_nulls": "Untitled\n; DROP TABLE x"}]}]},
     "fill_nulls"),
])
def test_a_control_character_in_a_mapping_literal_is_refused(doc, what):
    with pytest.raises(MappingError, match=what) as exc:
        parse_mapping(doc)
    assert "\n" not in str(exc.value) and "control character" in str(exc.value)


def test_a_non_finite_default_is_refused():
    doc = {"tables": [{"from": "User", "to": "users", "add_columns": [
        {"name": "c", "type": "double precision", "default": float("nan")}]}]}
    with pytest.raises(MappingError, match="not a finite number"):
        parse_mapping(doc)


def test_the_cli_refuses_a_smuggled_label_in_one_line_and_exit_2(ref_db, tmp_path, capsys):
    from runbook import cli

    f = tmp_path / "m.toml"
    f.write_text('[[enums]]\nname = "R"\nvalues = ["A\\nDROP TABLE \\"Note\\"; --", "B"]\n'
                 '[[tables]]\nfrom = "User"\nto = "users"\nadd_columns = [{ name = "r", type = "R" }]\n')
    before = state(ref_db)
    assert cli.main(["migrate", "--database-url", ref_db, "--mapping", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "control character U+000A" in err and "Traceback" not in err
    assert state(ref_db) == before


# -- the script: every comment is one line, every dollar quote holds ------------------------------

@pytest.mark.parametrize("op", [
    CreateEnum("public", "R", (SMUGGLED, "B")),
    SetDefault("public", "t", "c", "'x\r\nDROP TABLE y; --'", None),
    FillNulls("public", "t", "c", "id", "a\nb", "0123456789"),
    RenameTrigger("public", "t", 'User_x\u2028\nDROP TABLE "Note"; --', "users_x"),
], ids=lambda o: o.kind)
def test_a_step_comment_stays_one_line_whatever_the_op_holds(op):
    """Defence in depth: whatever an op's fields hold (a trigger's name comes from the
    catalog, not the mapping), its comment is one line and the op's SQL follows it."""
    from runbook.plan import Plan

    line = comment(op.describe())
    assert line.startswith("-- ") and len(line.splitlines()) == 1 and not _control(line)
    lines = Plan("public", (op,), ()).sql_body().splitlines()
    i = lines.index(line)
    assert lines[i + 1] == op.statements()[0].splitlines()[0]


def test_a_trigger_name_from_the_catalog_cannot_end_its_comment(ref_db, tmp_path):
    """A trigger named after its table is renamed with it; a newline in its name used to
    end the step's comment, and the rest of the name ran as SQL."""
    name = 'User_x\nDROP TABLE "Note"; --'
    execute(ref_db, "CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$; "
                    f'CREATE TRIGGER {q(name)} BEFORE UPDATE ON public."User" FOR EACH ROW EXECUTE FUNCTION public.noop()')
    f = tmp_path / "m.sql"
    f.write_text(runbook.plan(ref_db).render("t"))
    r = psql(ref_db, f)
    assert r.returncode == 0, r.stderr
    assert "Note" in public_tables(ref_db) and "users" in public_tables(ref_db)
    assert rows(ref_db, "SELECT tgname FROM pg_trigger WHERE tgrelid = 'public.users'::regclass AND tgname LIKE 'users_x%'") \
        == [('users_x\nDROP TABLE "Note"; --',)]


def test_a_dollar_tag_inside_a_literal_or_a_name_cannot_close_its_quote(ref_db, tmp_path):
    """The verification block (``$verify$``), the fill trigger (``$fn$``), the fill loop
    (``$fill$``) and a rewritten function (``$function$``) quote their bodies with a tag
    the body does not hold: a label, a placeholder or a new table name holding the tag
    stays data."""
    label, fill, session = '$verify$; DROP TABLE "Note"; --', "$fn$ $fill$; DROP TABLE \"Tag\"; --", "s$function$"
    m = parse_mapping({
        "enums": [{"name": "R", "values": [label, "B"]}],
        "tables": [{"from": "User", "to": "users", "add_columns": [{"name": "r", "type": "R", "not_null": True,
                                                                   "default": label}]},
                   {"from": "AssistantChatSession", "to": session, "rename_columns": [
                       {"from": "sessionName", "to": "title", "not_null": True, "fill_nulls": fill}]}]})
    nulls = rows(ref_db, 'SELECT count(*) FROM "AssistantChatSession" WHERE "sessionName" IS NULL')[0][0]
    assert nulls > 0
    f = tmp_path / "m.sql"
    f.write_text(runbook.plan(ref_db, m, strict=True).render("t"))
    r = psql(ref_db, f)
    assert r.returncode == 0, r.stderr
    assert {"Note", "Tag", "users", session} <= public_tables(ref_db)
    assert rows(ref_db, 'SELECT DISTINCT r::text FROM users') == [(label,)]
    assert rows(ref_db, f"SELECT count(*) FROM public.{q(session)} WHERE title = %s", (fill,))[0][0] == nulls
    # the rewritten trigger function names the new table and still works
    execute(ref_db, 'INSERT INTO "AssistantChatMessage" (id, "sessionId", role, content) '
                    f'SELECT \'m-new\', id, \'user\', \'hi\' FROM public.{q(session)} LIMIT 1')


# -- the fuzz -------------------------------------------------------------------------------------

def _control(s: str) -> bool:
    return any(unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp") for c in s)


FRAGMENTS = ["'", "''", '"', "$$", "$verify$", "$fn$", "$fill$", "$function$", "--", "/*", "*/", ";", "\\", ":x",
             ":'x'", "%s", "%(x)s", " ", "\n", "\r", "\t", "\x00", "\u2028", "\u202e", "é", "ß", "日本", "🙂", "E'",
             "DROP TABLE \"Note\"; ", "pg_"]
letters = st.text("abcXYZ_09", min_size=1, max_size=4)
printable = st.text(st.characters(codec="utf-8", exclude_categories=("C", "Zl", "Zp")), min_size=1, max_size=3)


def _built(fragments):
    return st.lists(st.one_of(st.sampled_from(fragments), letters, printable), min_size=1, max_size=5).map("".join)


# What the mapping should accept (mostly), and anything at all (one field now and then).
literals = _built([f for f in FRAGMENTS if not _control(f)])
names = _built([f for f in FRAGMENTS if not _control(f) and f not in ('"', ";", "\\", "pg_")
                and not f.startswith(("DROP", "E'", ":'"))]).filter(lambda n: n == n.strip())
anything = st.one_of(
    _built(FRAGMENTS),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8),
    st.integers(58, 66).map(lambda n: "n" * n),
)
FIELDS = ("session", "user", "enum", "title", "label", "kind_default", "note_default", "username_default", "fill")


def valid_name(s: str) -> bool:
    """The mapping's rule for names, restated: what the fuzz expects to be accepted."""
    return (bool(s.strip()) and s == s.strip() and len(s.encode()) <= 63 and not any(c in '";\\' for c in s)
            and not _control(s) and not s.lower().startswith("pg_"))


def valid_literal(s: str) -> bool:
    return not _control(s)


@st.composite
def mappings(draw):
    f = {k: draw(names if k in ("session", "user", "enum", "title") else literals) for k in FIELDS}
    spoiled = draw(st.sampled_from((None,) * 4 + FIELDS))
    if spoiled:
        f[spoiled] = draw(anything)
    session, user, enum, title = f["session"], f["user"], f["enum"], f["title"]
    labels = [f["label"]] + draw(st.lists(literals, max_size=2))
    kind_default = draw(st.sampled_from(labels)) if spoiled != "kind_default" else f["kind_default"]
    note_default, username_default, fill = f["note_default"], f["username_default"], f["fill"]
    doc = {
        "enums": [{"name": enum, "values": labels}],
        "tables": [
            {"from": "AssistantChatSession", "to": session,
             "rename_columns": [{"from": "sessionName", "to": title, "not_null": True, "fill_nulls": fill}],
             "add_columns": [{"name": "kind", "type": enum, "not_null": True, "default": kind_default},
                             {"name": "note", "type": "text", "default": note_default}]},
            {"from": "User", "to": user, "set_defaults": [{"column": "username", "default": username_default}]},
        ],
    }
    valid = (all(valid_name(n) for n in (session, user, enum, title))
             and all(valid_literal(v) for v in [*labels, kind_default, note_default, username_default, fill])
             and all(len(v.encode()) <= 63 for v in labels) and len(set(labels)) == len(labels)
             and kind_default in labels and session != user and title not in ("sessionName", "kind", "note")
             and enum not in ("AssistantChatSession", "User", session, user))  # a table's row type is a type
    return doc, valid


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mappings())
def test_fuzz_the_script_does_what_migrate_does(pg, reference_template, case):
    doc, valid = case
    try:
        m = parse_mapping(doc)
    except MappingError as exc:
        assert not valid, f"refused a valid mapping: {exc}"
        assert "\n" not in str(exc)
        event("refused by the mapping")
        return
    assert valid, f"accepted an invalid mapping: {doc!r}"
    by_script = pg.url(pg.create_db(template=reference_template))
    by_runner = pg.url(pg.create_db(template=reference_template))
    try:
        before = public_tables(by_script)
        try:
            p = runbook.plan(by_script, m, strict=True)
        except ConflictError as exc:
            # a drawn name is taken in the reference database, or two derived names cut to
            # PostgreSQL's 63 bytes are the same (users_email_key, users_username_key)
            taken = {r[0] for r in rows(by_script, "SELECT relname FROM pg_class UNION SELECT typname FROM pg_type "
                                                   "UNION SELECT attname FROM pg_attribute")}
            assert all(b.object.split(".", 1)[-1] in taken or b.object.endswith(tuple(f".{t}" for t in taken))
                       or len(b.object.split(".", 1)[-1].encode()) == 63 for b in exc.blockers), str(exc)
            event("refused by the plan")
            return
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "migrate.sql"
            script.write_text(p.render("fuzz"))
            r = psql(by_script, script)
            assert r.returncode == 0, f"psql failed: {r.stderr}\n{script.read_text()[:3000]}"
            runbook.migrate(by_runner, m, backup=False, progress=False, log_dir=str(Path(tmp) / "logs"))
        assert public_tables(by_script) == (before - {"AssistantChatSession", "User"}) | {doc["tables"][0]["to"],
                                                                                           doc["tables"][1]["to"]}
        assert state(by_script) == state(by_runner)
        labels = [x[0] for x in rows(by_script, "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = "
                                                  "e.enumtypid WHERE t.typname = %s ORDER BY e.enumsortorder",
                                       (doc["enums"][0]["name"],))]
        assert labels == doc["enums"][0]["values"]
        event("migrated by script and runner")
    finally:
        for url in (by_script, by_runner):
            pg.drop_db(url.rsplit("/", 1)[1])
