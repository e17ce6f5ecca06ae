"""Rendered SQL, asserted as strings with no database (alembic's test_op habit)."""

from __future__ import annotations

import re

import pytest

from runbook.mapping import load_mapping, parse_mapping
from runbook.errors import InvalidIdentifier, MappingError
from runbook.naming import pg_object_name, q, qq, validate_identifier
from runbook.prisma import prisma_constraint_name
from runbook.ops import (AddColumn, AddForeignKey, CreateEnum, FillNulls, RenameColumn, RenameConstraint,
                         RenameIndex, RenameSequence, RenameTable, ReplaceFunction, SetDefault, SetNotNull,
                         op_from_dict, op_to_dict)
from runbook.plan import Plan, TableState
from runbook.rewrite import UnsafeRewrite, rewrite_source


def test_identifiers_are_quoted_only_when_needed_and_always_safely():
    assert q("users") == "users"
    assert q("User") == '"User"'
    assert q("user") == '"user"'  # reserved word
    assert q('a"b') == '"a""b"'
    assert qq("public", "AssistantChatSession") == 'public."AssistantChatSession"'


def test_rename_ops_render_and_reverse():
    op = RenameTable("public", "User", "users")
    assert op.statements() == ['ALTER TABLE public."User" RENAME TO users']
    assert op.reverse().statements() == ['ALTER TABLE public.users RENAME TO "User"']
    assert RenameIndex("public", "users", "User_email_key", "users_email_key").statements() == [
        'ALTER INDEX public."User_email_key" RENAME TO users_email_key']
    assert RenameSequence("public", "chat_messages_temp", "AssistantMessage_id_seq", "chat_messages_temp_id_seq").statements() == [
        'ALTER SEQUENCE public."AssistantMessage_id_seq" RENAME TO chat_messages_temp_id_seq']
    assert RenameConstraint("public", "users", "User_pkey", "users_pkey").statements() == [
        'ALTER TABLE public.users RENAME CONSTRAINT "User_pkey" TO users_pkey']
    assert RenameColumn("public", "chat_sessions", "sessionName", "title").reverse().statements() == [
        'ALTER TABLE public.chat_sessions RENAME COLUMN title TO "sessionName"']


def test_column_ops_render():
    add = AddColumn("public", "users", "role", 'public."UserRole"', True, "'USER'")
    assert add.statements() == ['ALTER TABLE public.users ADD COLUMN role public."UserRole" NOT NULL DEFAULT \'USER\'']
    assert add.reverse().statements() == ["ALTER TABLE public.users DROP COLUMN role"]
    assert add.reverse().drops_data
    assert CreateEnum("public", "UserRole", ("USER", "ADMIN")).statements() == [
        "CREATE TYPE public.\"UserRole\" AS ENUM ('USER', 'ADMIN')"]
    sd = SetDefault("public", "chat_sessions", "updatedAt", "CURRENT_TIMESTAMP", None)
    assert sd.statements() == ['ALTER TABLE public.chat_sessions ALTER COLUMN "updatedAt" SET DEFAULT CURRENT_TIMESTAMP']
    assert sd.reverse().statements() == ['ALTER TABLE public.chat_sessions ALTER COLUMN "updatedAt" DROP DEFAULT']
    fk = AddForeignKey("public", "chat_sessions", "chat_sessions_folderId_fkey", ("folderId",), "chat_folders", ("id",),
                       "SET NULL", "CASCADE")
    assert fk.statements()[0].endswith("ON DELETE SET NULL ON UPDATE CASCADE NOT VALID")


def test_fill_nulls_records_rows_and_its_reverse_restores_exactly_those():
    f = FillNulls("public", "AssistantChatSession", "sessionName", "id", "Untitled chat", "abc")
    batch = f.batch_statement(500)
    assert "LIMIT 500 FOR UPDATE SKIP LOCKED" in batch and "INSERT INTO runbook.filled" in batch
    back = f.reverse().statements()
    assert any('SET "sessionName" = NULL' in s and "'Untitled chat'" in s for s in back)
    nn = SetNotNull("public", "chat_sessions", "title", "chk", f)
    assert nn.statements()[0] == "ALTER TABLE public.chat_sessions ALTER COLUMN title SET NOT NULL"
    assert nn.reverse().statements() == ["ALTER TABLE public.chat_sessions ALTER COLUMN title DROP NOT NULL"]


def test_plan_reverse_is_reversed_list_of_reversed_ops_and_keeps_added_columns_by_default():
    ops = (CreateEnum("public", "E", ("A",)), RenameTable("public", "User", "users"),
           AddColumn("public", "users", "role", 'public."E"', True, "'A'"))
    p = Plan("public", ops, (TableState("User", "users", "todo", 1),))
    assert [o.describe() for o in p.reverse().ops] == ["rename table users -> User"]
    assert [o.describe() for o in p.reverse(drop_added=True).ops] == [
        "drop column users.role", "rename table users -> User", "drop enum E"]
    assert p.fingerprint == Plan("public", ops, ()).fingerprint  # SQL alone decides
    assert p.fingerprint != Plan("public", ops[:2], ()).fingerprint


def test_ops_round_trip_through_json():
    f = FillNulls("public", "T", "c", "id", "x", "t1")
    for op in (RenameTable("public", "User", "users"), SetNotNull("public", "t", "c", "chk", f),
               ReplaceFunction("f()", "f()", "old", "new", "src")):
        assert op_from_dict(op_to_dict(op)) == op


def test_prisma_and_postgres_names():
    assert prisma_constraint_name("users", [], "pkey") == "users_pkey"
    assert prisma_constraint_name("chat_sessions", ["userId"], "fkey") == "chat_sessions_userId_fkey"
    long = prisma_constraint_name("t" * 70, ["a"], "idx")
    assert len(long) == 63 and long.endswith("_idx")
    assert pg_object_name("chat_messages_temp", "id", "seq") == "chat_messages_temp_id_seq"
    assert len(pg_object_name("x" * 60, "column", "seq").encode()) <= 63


def test_function_bodies_are_rewritten_token_by_token():
    src = ('BEGIN\n  -- "User" in a comment stays\n  UPDATE "AssistantChatSession" SET "lastActiveAt" = now();\n'
           '  SELECT "Users" FROM "User";\nEND')
    out = rewrite_source(src, {"AssistantChatSession": "chat_sessions", "User": "users"}, {"lastActiveAt": "lastMessageAt"})
    assert 'UPDATE chat_sessions SET "lastMessageAt"' in out
    assert 'SELECT "Users" FROM users' in out
    assert '-- "User" in a comment stays' in out
    with pytest.raises(UnsafeRewrite):
        rewrite_source("BEGIN EXECUTE 'SELECT * FROM \"User\"'; END", {"User": "users"})
    with pytest.raises(UnsafeRewrite):
        rewrite_source("BEGIN EXECUTE format('SELECT * FROM %I', 'User'); END", {"User": "users"})


def test_default_mapping_is_the_spec():
    m = load_mapping()
    assert [(t.old, t.new) for t in m.tables] == [
        ("User", "users"), ("AssistantFolder", "chat_folders"), ("AssistantChatSession", "chat_sessions"),
        ("AssistantChatMessage", "chat_messages"), ("AssistantConversation", "chat_sessions_temp"),
        ("AssistantMessage", "chat_messages_temp")]
    s = next(t for t in m.tables if t.old == "AssistantChatSession")
    assert [(r.old, r.new) for r in s.rename_columns] == [("sessionName", "title"), ("lastActiveAt", "lastMessageAt")]
    assert m.enum("UserRole").values == ("USER", "ADMIN")


@pytest.mark.parametrize("name", ["", " x", "a;b", 'a"b', "a\\b", "x" * 64, "é" * 32, "pg_class", "a\nb", 5])
def test_invalid_identifiers_are_refused(name):
    with pytest.raises(InvalidIdentifier):
        validate_identifier(name)


def test_unicode_names_within_63_bytes_are_fine():
    assert validate_identifier("é" * 31) == "é" * 31
    assert q("Café") == '"Café"'


def test_mapping_validation_errors_name_the_problem():
    with pytest.raises(MappingError, match="renamed twice"):
        parse_mapping({"tables": [{"from": "A", "to": "a"}, {"from": "A", "to": "b"}]})
    with pytest.raises(MappingError, match="needs a default"):
        parse_mapping({"tables": [{"from": "A", "to": "a", "add_columns": [{"name": "x", "type": "text", "not_null": True}]}]})
    with pytest.raises(MappingError, match="not a value of enum"):
        parse_mapping({"enums": [{"name": "E", "values": ["A"]}],
                       "tables": [{"from": "A", "to": "a", "add_columns": [{"name": "x", "type": "E", "default": "B"}]}]})
    with pytest.raises(MappingError, match="'tables' is empty"):
        parse_mapping({"tables": []})


# -- each operation validates itself (a stored plan is rebuilt only from valid ones) ------

def _reference_ops():
    """Every operation of the reference plan, its reverse with the added columns dropped,
    and one of each kind the reference plan does not hold."""
    from runbook.ops import RenameCompatView, StageCompatView, staged_name
    from runbook.ops import (AddNotNullCheck, CreateCompatView, DropEnum, KeepFilling, MergeLegacy, RenameStatistics,
                             RenameTrigger, ValidateConstraint)

    f = FillNulls("public", "AssistantChatSession", "sessionName", "id", "Untitled chat", "0123abcdef")
    ops = [f, f.reverse(), AddNotNullCheck("public", "AssistantChatSession", "sessionName", "chat_sessions_title_check"),
           SetNotNull("public", "chat_sessions", "title", "chat_sessions_title_check", f),
           RenameTable("public", "User", "users"), RenameColumn("public", "chat_sessions", "sessionName", "title"),
           RenameIndex("public", "users", "User_email_key", "users_email_key"),
           RenameSequence("public", "t", "T_id_seq", "t_id_seq"), RenameConstraint("public", "users", "User_pkey", "users_pkey"),
           RenameTrigger("public", "users", "User_audit", "users_audit"),
           RenameStatistics("public", "users", "User_stats", "users_stats"),
           CreateEnum("public", "Role", ("USER", "ADMIN")), DropEnum("public", "Role", ("USER", "ADMIN")),
           AddColumn("public", "users", "role", 'public."Role"', True, "'USER'::public.\"Role\""),
           SetDefault("public", "users", "createdAt", "CURRENT_TIMESTAMP", None),
           AddForeignKey("public", "chat_sessions", "chat_sessions_folderId_fkey", ("folderId",), "folders", ("id",),
                         "SET NULL", "CASCADE"),
           ValidateConstraint("public", "chat_sessions", "chat_sessions_folderId_fkey"),
           ReplaceFunction("public.f()", "public.f()", "CREATE OR REPLACE FUNCTION public.f() ...",
                           "CREATE OR REPLACE FUNCTION public.f() ...", "SELECT 1"),
           MergeLegacy("public", "legacy_conversations", "legacy_messages", "chat_sessions", "chat_messages", 1),
           CreateCompatView("public", "public", "User", "users", ("id", "email"), ("id", "email"),
                            ("", "'x'::text"), ("rawd:app", "r:")),
           StageCompatView("public", "public", staged_name("public", "User"), "User", ("id", "email"), ("id", "email"),
                           ("", "'x'::text"), ("rawd:app",), True, ("r:reader", "ra:writer"), ("email", "email")),
           RenameCompatView("public", "public", "User", "users", ("id", "email"), ("id", "email"),
                            ("", "'x'::text"), ("rawd:app",), True, ("r:reader",), ("email",),
                            staged=staged_name("public", "User")),
           KeepFilling(FillNulls("public", "chat_sessions", "title", "id", "Untitled chat", "0123abcdef"))]
    return ops + [o.reverse() for o in ops if o.reverse() is not None]


def test_every_kind_of_operation_validates_and_round_trips():
    from runbook.ops import OPERATIONS

    ops = _reference_ops()
    assert {type(o).__name__ for o in ops} == set(OPERATIONS)  # one of each registered kind
    for op in ops:
        assert op.validate() == [], op
        assert op_from_dict(op_to_dict(op)) == op


@pytest.mark.parametrize("change, problem", [
    ({"new": "x" * 64}, "new 'xxxxxxxxxxxxxxxxxxxx'... is 64 bytes"),
    ({"old": ""}, "old is empty"),
    ({"schema": None}, "schema is NoneType, not a name"),
    ({"new": "a\x00b"}, "new holds a NUL character"),
    ({"new": "User"}, "renames 'User' to itself"),
])
def test_a_stored_rename_that_does_not_validate_is_refused(change, problem):
    d = op_to_dict(RenameTable("public", "User", "users")) | change
    with pytest.raises(ValueError, match=re.escape(problem)):
        op_from_dict(d)


def test_stored_operations_with_unsafe_fields_are_refused():
    fk = op_to_dict(AddForeignKey("public", "t", "t_a_fkey", ("a",), "r", ("id",)))
    with pytest.raises(ValueError, match="on_delete is not a referential action"):
        op_from_dict(fk | {"on_delete": "CASCADE; DROP TABLE r"})
    with pytest.raises(ValueError, match="columns and ref_columns differ in length"):
        op_from_dict(fk | {"ref_columns": ["id", "x"]})
    with pytest.raises(ValueError, match="columns is not a non-empty list of names"):
        op_from_dict(fk | {"columns": []})
    fill = op_to_dict(FillNulls("public", "T", "c", "id", "x", "t1"))
    with pytest.raises(ValueError, match="tag is not a short key"):
        op_from_dict(fill | {"tag": "t1; DROP"})
    nn = op_to_dict(SetNotNull("public", "t", "c", "chk", FillNulls("public", "T", "c", "id", "x", "t1")))
    nn["fill"]["pk"] = ""
    with pytest.raises(ValueError, match="pk is empty"):
        op_from_dict(nn)
    with pytest.raises(ValueError, match="values holds a label twice"):
        op_from_dict(op_to_dict(CreateEnum("public", "Role", ("A", "B"))) | {"values": ["A", "A"]})


def test_the_registry_is_explicit():
    """Only a class decorated with @operation is known to the serialisation."""
    from dataclasses import dataclass

    from runbook.ops import OPERATIONS, Op

    @dataclass(frozen=True)
    class NotRegistered(Op):
        schema: str

    assert "NotRegistered" not in OPERATIONS
    with pytest.raises(ValueError, match="unknown operation 'NotRegistered'"):
        op_from_dict({"op": "NotRegistered", "schema": "public"})
    with pytest.raises(ValueError, match="unknown operation"):
        op_from_dict({"op": "DropDatabase"})


def test_every_error_names_its_own_kind():
    """Each error class sets its kind in its own body (never inherited, never derived from
    its name or message), and no two share one."""
    import runbook.errors as E

    classes = [c for c in vars(E).values() if isinstance(c, type) and issubclass(c, E.RunbookError)]
    assert len(classes) > 10
    for c in classes:
        assert "kind" in vars(c), c.__name__
    assert len({c.kind for c in classes}) == len(classes)
