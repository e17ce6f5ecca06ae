"""Tests of runbook.prisma: the Prisma schema language parser (no database)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from runbook.errors import BadInput
from runbook.mapping import default_target_schema
from runbook.prisma import (
    Arg,
    Attribute,
    Call,
    PrismaSyntaxError,
    Ref,
    Relation,
    Schema,
    load,
    parse,
    prisma_constraint_name,
    prisma_default_names,
    render_value,
)

DATA = Path(__file__).parent / "data" / "prisma"
SAAS = DATA / "scheduling_saas.prisma"
COMMERCE = DATA / "commerce_multischema.prisma"


def model_src(body: str, extra: str = "") -> str:
    return f"{extra}\nmodel M {{\n{body}\n}}\n"


def one_field(decl: str, extra: str = ""):
    return parse(model_src(f"  id Int @id\n  {decl}", extra)).model("M").fields[1]


# --------------------------------------------------------------------------- spec 3.1


class TestTargetSchema:
    @pytest.fixture
    def schema(self) -> Schema:
        return default_target_schema()

    def test_models_and_tables(self, schema):
        assert [(m.name, m.db_name) for m in schema.models] == [
            ("User", "users"),
            ("ChatFolder", "chat_folders"),
            ("ChatSession", "chat_sessions"),
            ("ChatMessage", "chat_messages"),
        ]
        assert schema.table_names == ("users", "chat_folders", "chat_sessions", "chat_messages")
        assert schema.model_by_table("chat_sessions").name == "ChatSession"
        assert schema.views == () and schema.types == ()

    def test_user_fields(self, schema):
        user = schema.model("User")
        assert [f.name for f in user.scalar_fields()] == [
            "id", "email", "username", "firstName", "lastName", "role", "isActive", "emailVerified",
        ]
        assert [f.name for f in user.relation_fields()] == ["chatSessions", "chatFolders"]
        fid = user.field("id")
        assert (fid.type, fid.optional, fid.is_id, fid.default) == ("String", False, True, Call("cuid"))
        assert user.field("email").is_unique and not user.field("email").optional
        assert user.field("username").is_unique and user.field("username").optional
        role = user.field("role")
        assert (role.type, role.kind, role.default) == ("UserRole", "enum", Ref("USER"))
        assert user.field("isActive").default is True
        assert user.field("emailVerified").default is False
        sessions = user.field("chatSessions")
        assert sessions.list and sessions.kind == "model" and sessions.relation == Relation()
        assert user.primary_key.field_names == ("id",)
        assert [u.field_names for u in user.unique_constraints] == [("email",), ("username",)]
        # no @map anywhere: columns are the field names (camelCase)
        assert all(f.db_name == f.name for f in user.fields)

    def test_relations(self, schema):
        folder = schema.model("ChatFolder")
        assert folder.field("user").relation == Relation(fields=("userId",), references=("id",))
        assert folder.field("sessionCount").default == 0
        session = schema.model("ChatSession")
        assert session.field("folder").optional
        assert session.field("folder").relation.fields == ("folderId",)
        assert session.field("lastMessageAt").type == "DateTime"
        assert session.field("lastMessageAt").optional
        msg = schema.model("ChatMessage")
        assert [f.name for f in msg.fields] == ["id", "sessionId", "role", "content", "metadata", "session"]
        assert not msg.has_field("createdAt")  # spec 3.1 has none; none invented
        assert msg.field("metadata").type == "Json" and msg.field("metadata").optional
        assert msg.field("session").relation.references == ("id",)
        assert msg.field("role").type == "String"  # a plain string here, not the enum

    def test_enum_and_config(self, schema):
        role = schema.enum("UserRole")
        assert role.value_names == ("USER", "ADMIN") and role.db_name == "UserRole"
        ds = schema.datasource
        assert (ds.name, ds.provider, ds.get("url")) == ("db", "postgresql", Call("env", (Arg(None, "DATABASE_URL"),)))
        assert [(g.name, g.provider) for g in schema.generators] == [("client", "prisma-client-js")]

    def test_default_names(self, schema):
        assert prisma_default_names(schema.model("User"), schema) == {
            "pkey": "users_pkey",
            "unique": {("email",): "users_email_key", ("username",): "users_username_key"},
            "index": {},
            "fkey": {},
        }
        names = prisma_default_names(schema.model("ChatSession"), schema)
        assert names["fkey"] == {
            ("userId",): "chat_sessions_userId_fkey",
            ("folderId",): "chat_sessions_folderId_fkey",
        }

    def test_cached_and_frozen(self, schema):
        assert default_target_schema() is schema
        with pytest.raises(dataclasses.FrozenInstanceError):
            schema.models[0].name = "X"  # type: ignore[misc]

    def test_lookup_errors(self, schema):
        with pytest.raises(KeyError):
            schema.model("Nope")
        with pytest.raises(KeyError):
            schema.enum("Nope")
        with pytest.raises(KeyError):
            schema.model("User").field("nope")


# --------------------------------------------------------------------------- constructs


@pytest.mark.parametrize(
    "src, expected",
    [
        ("cuid()", Call("cuid")),
        ("cuid(2)", Call("cuid", (Arg(None, 2),))),
        ("uuid()", Call("uuid")),
        ("uuid(7)", Call("uuid", (Arg(None, 7),))),
        ("now()", Call("now")),
        ("autoincrement()", Call("autoincrement")),
        ('dbgenerated("gen_random_uuid()")', Call("dbgenerated", (Arg(None, "gen_random_uuid()"),))),
        ("dbgenerated()", Call("dbgenerated")),
        ("nanoid()", Call("nanoid")),
        ("nanoid(16)", Call("nanoid", (Arg(None, 16),))),
        ("ulid()", Call("ulid")),
        ("sequence()", Call("sequence")),
        ("sequence(start: 10, cache: 5)", Call("sequence", (Arg("start", 10), Arg("cache", 5)))),
        ('"plain"', "plain"),
        ('""', ""),
        (r'"a\"b\\c\nd\te\u00e9\/"', 'a"b\\c\nd\te\u00e9/'),
        (r'"\ud83d\ude00"', "\U0001F600"),
        ("42", 42),
        ("-7", -7),
        ("3.25", 3.25),
        ("-0.5", -0.5),
        ("true", True),
        ("false", False),
        ("ADMIN", Ref("ADMIN")),
        ("[]", ()),
        ('["a", "b"]', ("a", "b")),
        ("[RED, GREEN]", (Ref("RED"), Ref("GREEN"))),
        ("[1, 2, 3]", (1, 2, 3)),
    ],
)
def test_default_values(src, expected):
    f = one_field(f"x String @default({src})")
    assert f.default == expected
    assert f.has_default
    assert type(f.default) is type(expected)


def test_default_with_map_and_no_default():
    f = one_field('x Int @default(5, map: "x_df")')
    assert f.default == 5 and f.attribute("default").arg("map") == "x_df"
    g = one_field("y Int")
    assert g.default is None and not g.has_default


@pytest.mark.parametrize("action", ["Cascade", "Restrict", "NoAction", "SetNull", "SetDefault"])
def test_referential_actions(action):
    s = parse(
        f"""
model A {{
  id Int @id
  bs B[]
}}
model B {{
  id  Int @id
  aId Int?
  a   A?  @relation(fields: [aId], references: [id], onDelete: {action}, onUpdate: {action})
}}
"""
    )
    rel = s.model("B").field("a").relation
    assert rel.on_delete == action and rel.on_update == action


def test_relation_arguments():
    s = parse(
        """
model A {
  id      Int  @id
  x       Int
  y       Int
  owned   B[]  @relation("Owner")
  edited  B[]  @relation(name: "Editor")
  @@unique([x, y])
}
model B {
  id      Int @id
  ownerId Int
  ex      Int
  ey      Int
  owner   A   @relation("Owner", fields: [ownerId], references: [id], map: "b_owner_fk")
  editor  A   @relation(name: "Editor", fields: [ex, ey], references: [x, y], onDelete: Cascade)
}
"""
    )
    b = s.model("B")
    assert b.field("owner").relation == Relation(
        name="Owner", fields=("ownerId",), references=("id",), map="b_owner_fk"
    )
    assert b.field("editor").relation == Relation(
        name="Editor", fields=("ex", "ey"), references=("x", "y"), on_delete="Cascade"
    )
    a = s.model("A")
    assert a.field("owned").relation == Relation(name="Owner")
    assert a.field("edited").relation.name == "Editor"
    assert prisma_default_names(b, s)["fkey"] == {
        ("ownerId",): "B_ownerId_fkey",
        ("ex", "ey"): "B_ex_ey_fkey",
    }
    assert prisma_default_names(b, s, use_map=True)["fkey"][("ownerId",)] == "b_owner_fk"


def test_field_types():
    s = parse(
        """
enum Color {
  RED
}
model Other {
  id Int @id
}
type Address {
  street String
}
model M {
  id      Int      @id
  s       String
  b       Boolean
  i       Int
  bi      BigInt
  f       Float
  d       Decimal
  dt      DateTime
  j       Json
  by      Bytes
  opt     String?
  lst     Int[]
  e       Color
  es      Color[]
  rel     Other?
  addr    Address?
  ts      Unsupported("tsvector")?
  circle  Unsupported("circle")
  geoms   Unsupported("geometry(Point, 4326)")[]
  mystery Mystery
}
"""
    )
    m = s.model("M")
    kinds = {f.name: f.kind for f in m.fields}
    for name in ("s", "b", "i", "bi", "f", "d", "dt", "j", "by", "opt", "lst"):
        assert kinds[name] == "scalar"
    assert kinds["e"] == kinds["es"] == "enum"
    assert kinds["rel"] == "model" and kinds["addr"] == "composite"
    assert kinds["ts"] == kinds["circle"] == kinds["geoms"] == "unsupported"
    assert kinds["mystery"] == "unknown"  # undefined type: not a parse error
    assert (m.field("opt").optional, m.field("opt").list) == (True, False)
    assert (m.field("lst").optional, m.field("lst").list) == (False, True)
    ts = m.field("ts")
    assert (ts.type, ts.unsupported, ts.optional) == ("Unsupported", "tsvector", True)
    g = m.field("geoms")
    assert (g.unsupported, g.list) == ("geometry(Point, 4326)", True)
    assert [f.name for f in m.relation_fields()] == ["rel"]
    assert "addr" in [f.name for f in m.scalar_fields()]
    assert s.composite_type("Address").kind == "type"


def test_native_types_and_maps():
    m = parse(
        model_src(
            """  id    String   @id @default(uuid()) @db.Uuid
  name  String   @map("full_name") @db.VarChar(255)
  price Decimal  @db.Decimal(10, 2)
  at    DateTime @map(name: "created_at") @db.Timestamptz(6)
  flags Int      @mydb.SmallInt
  @@map("things")""",
        )
    ).model("M")
    assert m.db_name == "things"
    assert m.field("id").native_type == ("Uuid", ())
    assert m.field("name").native_type == ("VarChar", ("255",))
    assert m.field("name").db_name == "full_name"
    assert m.field("price").native_type == ("Decimal", ("10", "2"))
    assert m.field("at").db_name == "created_at"
    assert m.field("at").native_type == ("Timestamptz", ("6",))
    assert m.field("flags").native_type == ("SmallInt", ())  # any datasource name
    assert m.column("name") == "full_name"


def test_updated_at_id_unique_flags():
    m = parse(
        model_src("  id String @id(map: \"m_pk\")\n  k String @unique(map: \"m_k\", sort: Desc, length: 8)\n  u DateTime @updatedAt")
    ).model("M")
    assert m.field("id").is_id and m.field("u").is_updated_at and m.field("k").is_unique
    assert m.primary_key.map == "m_pk"
    (uq,) = m.unique_constraints
    assert (uq.field_names, uq.map, uq.fields[0].sort, uq.fields[0].length) == (("k",), "m_k", "Desc", 8)


def test_block_attributes():
    s = parse(
        """
model Post {
  authorId Int
  slug     String
  title    String
  body     String
  lang     String

  @@id([authorId, slug], name: "postKey", map: "post_pk")
  @@unique([title, lang], name: "titleLang", map: "post_title_lang_uq")
  @@unique(fields: [body(length: 100)])
  @@index([title(sort: Desc), lang])
  @@index(fields: [body(length: 10, sort: Asc)], name: "body_idx", map: "post_body_idx", type: Hash)
  @@index([lang], clustered: true)
  @@map("posts")
  @@schema("blog")
}
"""
    )
    p = s.model("Post")
    assert (p.db_name, p.schema) == ("posts", "blog")
    pk = p.primary_key
    assert (pk.field_names, pk.name, pk.map) == (("authorId", "slug"), "postKey", "post_pk")
    assert p.id_fields == ("authorId", "slug")
    u1, u2 = p.unique_constraints
    assert (u1.field_names, u1.name, u1.map) == (("title", "lang"), "titleLang", "post_title_lang_uq")
    assert u2.fields[0].length == 100
    i1, i2, i3 = p.indexes
    assert [(f.name, f.sort) for f in i1.fields] == [("title", "Desc"), ("lang", None)]
    assert (i2.fields[0].length, i2.fields[0].sort, i2.name, i2.map, i2.type) == (10, "Asc", "body_idx", "post_body_idx", "Hash")
    assert i3.clustered is True
    names = prisma_default_names(p, s)
    assert names == {
        "pkey": "posts_pkey",
        "unique": {("title", "lang"): "posts_title_lang_key", ("body",): "posts_body_key"},
        "index": {("title", "lang"): "posts_title_lang_idx", ("body",): "posts_body_idx", ("lang",): "posts_lang_idx"},
        "fkey": {},
    }
    mapped = prisma_default_names(p, s, use_map=True)
    assert mapped["pkey"] == "post_pk"
    assert mapped["unique"][("title", "lang")] == "post_title_lang_uq"
    assert mapped["index"][("body",)] == "post_body_idx"


def test_unknown_attributes_kept():
    s = parse(
        """
model M {
  id    Int    @id @futureThing(level: 2, opts: [a, "b"]) @ignore
  txt   String @db.Uuid @shadow
  @@fulltext([txt])
  @@ignore
  @@allow("read", true)
  @@vendor.custom(x: 1)
}
enum E {
  A @deprecated("use B")
  B
  @@vendorEnum
}
"""
    )
    m = s.model("M")
    fid = m.field("id")
    assert [a.name for a in fid.attributes] == ["id", "futureThing", "ignore"]
    fut = fid.attribute("futureThing")
    assert fut.arg("level") == 2 and fut.arg("opts") == (Ref("a"), "b")
    assert fid.attribute("ignore").args is None and fid.is_ignored
    assert [a.name for a in m.field("txt").attributes] == ["db.Uuid", "shadow"]
    assert [a.name for a in m.attributes] == ["fulltext", "ignore", "allow", "vendor.custom"]
    assert m.is_ignored
    assert m.attribute("allow").args == (Arg(None, "read"), Arg(None, True))
    assert [i.kind for i in m.indexes] == ["fulltext"]
    e = s.enum("E")
    assert e.values[0].attributes[0] == Attribute("deprecated", (Arg(None, "use B"),))
    assert e.attributes == (Attribute("vendorEnum"),)


def test_enum_maps_and_docs():
    e = parse(
        """
/// Plans on offer.
enum Plan {
  /// Free forever.
  FREE @map("free")
  PRO  @map(name: "pro") /// Paid.
  ENTERPRISE
  @@map("plan_kind")
  @@schema("billing")
}
"""
    ).enum("Plan")
    assert (e.db_name, e.schema, e.doc) == ("plan_kind", "billing", "Plans on offer.")
    assert e.db_values == ("free", "pro", "ENTERPRISE")
    assert [v.doc for v in e.values] == ["Free forever.", "Paid.", None]


def test_single_line_enum_and_datasource_tolerated():
    s = parse('enum UserRole { USER ADMIN }\ndatasource db { provider = "postgresql" url = env("DATABASE_URL") }\n')
    assert s.enum("UserRole").value_names == ("USER", "ADMIN")
    assert s.datasource.get("url") == Call("env", (Arg(None, "DATABASE_URL"),))


def test_comments_docs_and_whitespace():
    s = parse(
        "// leading comment\r\n"
        "\r\n"
        "/// The user.\r\n"
        "/// Second line.\r\n"
        "model   User   {   // comment after brace\r\n"
        "\t/// Primary key.\r\n"
        "\tid\tInt\t@id   // trailing comment\r\n"
        "\r\n"
        "   // a comment between fields\r\n"
        "  email String /// trailing doc\r\n"
        "  name String // not a doc\r\n"
        "  @@map(\"users\") // comment\r\n"
        "}   \r\n"
        "// trailing comment at EOF without newline"
    )
    u = s.model("User")
    assert u.doc == "The user.\nSecond line."
    assert [f.doc for f in u.fields] == ["Primary key.", "trailing doc", None]
    assert u.db_name == "users"


def test_config_blocks():
    s = parse(
        """
datasource db {
  provider     = "postgresql"
  url          = env("DATABASE_URL")
  shadowDatabaseUrl = env("SHADOW_URL") // for migrate dev
  schemas      = ["public", "auth"]
  extensions   = [pg_trgm, vector(schema: "ext")]
  relationMode = "prisma"
}
generator client {
  provider        = "prisma-client-js"
  previewFeatures = ["views"]
  engineType      = "library"
}
generator py {
  provider             = "prisma-client-py"
  recursive_type_depth = 5
  enabled              = true
}
"""
    )
    ds = s.datasource
    assert ds.get("schemas") == ("public", "auth")
    assert ds.get("extensions") == (Ref("pg_trgm"), Call("vector", (Arg("schema", "ext"),)))
    assert ds.get("shadowDatabaseUrl") == Call("env", (Arg(None, "SHADOW_URL"),))
    assert ds.get("missing", "dflt") == "dflt"
    py = s.generators[1]
    assert py.get("recursive_type_depth") == 5 and py.get("enabled") is True


def test_views_and_types():
    s = parse(
        """
/// A reporting view.
view UserInfo {
  id    Int    @unique
  email String
  name  String @map("full_name")
  @@map("user_info")
}
type Photo {
  height Int    @default(200)
  url    String
}
model M {
  id     Int       @id
  photos Photo[]
  info   UserInfo? @relation(fields: [id], references: [id])
}
"""
    )
    v = s.view("UserInfo")
    assert (v.kind, v.db_name, v.doc) == ("view", "user_info", "A reporting view.")
    assert s.model("UserInfo") is v  # model() falls back to views
    assert s.models == (s.model("M"),)
    assert prisma_default_names(v, s) == {"pkey": None, "unique": {}, "index": {}, "fkey": {}}
    assert s.composite_type("Photo").field("height").default == 200
    m = s.model("M")
    assert m.field("photos").kind == "composite"
    assert m.field("info").kind == "model"


def test_identifiers_with_dashes_and_keywords_as_field_names():
    m = parse(model_src("  id Int @id\n  model String\n  type Int\n  enum Boolean\n  view Json")).model("M")
    assert [f.name for f in m.fields] == ["id", "model", "type", "enum", "view"]
    g = parse('generator gen-1 {\n  provider = "x"\n}\n').generators[0]
    assert g.name == "gen-1"


def test_multiline_argument_lists_tolerated():
    m = parse(
        model_src(
            """  id Int @id
  a  Int
  b  Int
  @@index([
    a,
    b,
  ], map: "ab")"""
        )
    ).model("M")
    assert m.indexes[0].field_names == ("a", "b") and m.indexes[0].map == "ab"


def test_render_value_round_trip_over_fixtures():
    for path in (SAAS, COMMERCE):
        schema = load(path)
        for m in schema.models + schema.views:
            for f in m.fields:
                for a in f.attributes:
                    again = parse(model_src(f"  x Int {a.render()}")).model("M").fields[0].attributes[0]
                    assert again == a, a.render()
            for a in m.attributes:
                again = parse(model_src(f"  x Int\n  {a.render(block=True)}")).model("M").attributes[0]
                assert again == a, a.render(block=True)
    assert render_value(("a", 1, 2.5, True, Ref("X"), Call("f", (Arg("k", 1),)))) == '["a", 1, 2.5, true, X, f(k: 1)]'


def test_trailing_commas_and_empty_arguments():
    m = parse(
        model_src('  id Int @id @default(autoincrement(),)\n  a Int @map("a_col",)\n  @@index([a,], map: "i",)\n  @@custom(fields: )')
    ).model("M")
    assert m.field("id").default == Call("autoincrement")
    assert m.field("a").db_name == "a_col"
    assert m.indexes[0].field_names == ("a",)
    custom = m.attribute("custom")
    assert custom.args == (Arg("fields", None),) and custom.render(block=True) == "@@custom(fields:)"


def test_load_directory_merges_files(tmp_path):
    (tmp_path / "schema.prisma").write_text('datasource db {\n  provider = "postgresql"\n  url = env("U")\n}\n')
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "user.prisma").write_text("model User {\n  id Int @id\n  posts Post[]\n}\n")
    (tmp_path / "models" / "post.prisma").write_text(
        "model Post {\n  id Int @id\n  userId Int\n  user User @relation(fields: [userId], references: [id])\n}\n"
    )
    s = load(tmp_path)
    assert {m.name for m in s.models} == {"User", "Post"}
    assert s.model("User").field("posts").kind == "model"  # resolved across files
    (tmp_path / "models" / "dup.prisma").write_text("enum User {\n  A\n}\n")
    with pytest.raises(BadInput, match="User"):
        load(tmp_path)


# --------------------------------------------------------------------------- syntax errors


@pytest.mark.parametrize(
    "text, line, column, fragment",
    [
        ("model User {\n  id Int @id\n", 3, 1, "not closed"),
        ("model User {\n  id Int @id\n  name String\n  @@map(\"users\"\n}\n", 5, 1, "expected ',' or ')'"),
        ("model User {\n  id Int @id @default(\n}\n", 3, 1, "expected a value"),
        ("model User {\n  id Int @id\n  name\n}\n", 3, 7, "expected a type"),
        ("model User {\n  id Int @id\n  name: String\n}\n", 3, 7, "legacy"),
        ("model User {\n  id Int?? @id\n}\n", 2, 10, "unexpected '?'"),
        ("model User {\n  id Int @id\n  email String @unique extra\n}\n", 3, 24, "unexpected 'extra'"),
        ('model User {\n  id Int @id\n  bio String @default("oops)\n}\n', 3, 23, "unterminated string"),
        ("model User {\n  id Int @id\n  x Int # bad\n}\n", 3, 9, "unexpected character '#'"),
        ("modle User {\n  id Int\n}\n", 1, 1, "expected a block"),
        ("\n\n   model {\n}\n", 3, 10, "expected a model name"),
        ("model User\n  id Int\n}\n", 1, 11, "expected '{'"),
        ("model A {\n  id Int @id\n}\nmodel A {\n  id Int @id\n}\n", 4, 7, "already defined at line 1"),
        ("model A {\n  id Int @id\n  id String\n}\n", 3, 3, "already defined"),
        ("model A {\n  id Int @id\n  @ map\n}\n", 3, 3, "block attributes start with '@@'"),
        ("model A {\n  id Int @\n}\n", 2, 11, "expected an attribute name"),
        ("model A {\n  id Int @id\n  @@index([a, b)\n}\n", 3, 16, "expected ',' or ']'"),
        ("enum E {\n  A\n  \"B\"\n}\n", 3, 3, "expected an enum value"),
        ("datasource db {\n  provider \"postgresql\"\n}\n", 2, 12, "expected '='"),
        ("datasource db {\n  provider = \n}\n", 2, 14, "expected a value"),
        ("type Alias = String\n", 1, 12, "type aliases"),
        ("model A {\n  tags String[\n}\n", 2, 15, "expected ']'"),
        ("model A {\n  ts Unsupported(tsvector)\n}\n", 2, 18, "expected a string"),
        ("model A {\n  id Int @id\n}\n}\n", 4, 1, "expected a block"),
        ('model A {\n  id Int @default("\\u12")\n}\n', 2, 20, "invalid \\u escape"),
    ],
)
def test_syntax_errors(text, line, column, fragment):
    with pytest.raises(PrismaSyntaxError) as info:
        parse(text)
    err = info.value
    assert (err.line, err.column) == (line, column), str(err)
    assert fragment in str(err)
    assert f"line {line}, column {column}" in str(err)


def test_syntax_error_types_and_source():
    with pytest.raises(ValueError):
        parse("model {")
    with pytest.raises(BadInput):
        parse("model {")
    with pytest.raises(PrismaSyntaxError, match=r"^bad\.prisma: line 1, column 7: "):
        parse("model {", source="bad.prisma")


def test_load_reports_file_name(tmp_path):
    p = tmp_path / "broken.prisma"
    p.write_text("model A {\n  id Int @id @@map\n}\n")
    with pytest.raises(PrismaSyntaxError) as info:
        load(p)
    assert (info.value.line, info.value.column) == (2, 14)
    assert str(p) in str(info.value)


# --------------------------------------------------------------------------- names


class TestConstraintNames:
    def test_simple(self):
        assert prisma_constraint_name("users") == "users_pkey"
        assert prisma_constraint_name("users", [], "_pkey") == "users_pkey"
        assert prisma_constraint_name("users", ["email"], "key") == "users_email_key"
        assert prisma_constraint_name("users", ["email", "username"], "_key") == "users_email_username_key"
        assert prisma_constraint_name("chat_sessions", ["userId"], "fkey") == "chat_sessions_userId_fkey"
        assert prisma_constraint_name("t", ["a", "b"], "idx") == "t_a_b_idx"

    def test_truncation_cuts_the_whole_prefix(self):
        table = "customer_lifetime_value_snapshot_aggregates_by_reporting_period"  # 63 chars
        assert len(table) == 63
        assert prisma_constraint_name(table) == table[:58] + "_pkey"
        name = prisma_constraint_name("short", ["a" * 70], "fkey")
        assert name == "short_" + "a" * 52 + "_fkey" and len(name) == 63
        name = prisma_constraint_name(table, ["organization_identifier"], "key")
        assert name == table[:59] + "_key" and len(name) == 63

    def test_boundaries(self):
        # prefix of exactly 63 - len(suffix) bytes: kept whole, total 63
        t = "x" * 58
        assert prisma_constraint_name(t) == t + "_pkey"
        assert prisma_constraint_name("x" * 57) == "x" * 57 + "_pkey"
        assert prisma_constraint_name("x" * 59) == "x" * 58 + "_pkey"
        assert prisma_constraint_name("x", ["y"], "idx", max_length=10) == "x_y_idx"
        assert prisma_constraint_name("abcdef", ["y"], "idx", max_length=10) == "abcdef_idx"

    def test_multibyte_counts_bytes_and_keeps_characters_whole(self):
        name = prisma_constraint_name("ä" * 40)  # 80 bytes
        assert name == "ä" * 29 + "_pkey" and len(name.encode()) == 63
        name = prisma_constraint_name("a" + "ä" * 40)  # the cut falls inside a character
        assert name == "a" + "ä" * 28 + "_pkey" and len(name.encode()) == 62

    def test_fixture_long_table(self):
        s = load(COMMERCE)
        m = s.model("CustomerLifetimeValueSnapshotAggregate")
        names = prisma_default_names(m, s)
        for n in [names["pkey"], *names["unique"].values(), *names["index"].values()]:
            assert len(n.encode()) <= 63
        assert names["pkey"] == "customer_lifetime_value_snapshot_aggregates_by_reporting_p_pkey"
        assert names["unique"] == {
            ("organization_identifier", "reporting_period_start_inclusive"):
                "customer_lifetime_value_snapshot_aggregates_by_reporting_pe_key"
        }


# --------------------------------------------------------------------------- big schemas


@pytest.fixture(scope="module")
def saas() -> Schema:
    return load(SAAS)


@pytest.fixture(scope="module")
def commerce() -> Schema:
    return load(COMMERCE)


class TestSchedulingSaas:
    @pytest.fixture
    def schema(self, saas) -> Schema:
        return saas

    def test_counts(self, schema):
        assert SAAS.read_text().count("\n") >= 500
        assert len(schema.models) == 46
        assert len(schema.enums) == 17
        assert [v.name for v in schema.views] == ["BookingTimeStatus"]
        assert [g.name for g in schema.generators] == ["client", "zod"]
        assert schema.datasource.get("extensions") == (Ref("pg_trgm"), Call("citext", (Arg("schema", "public"),)))
        assert all(f.kind != "unknown" for m in schema.models + schema.views for f in m.fields)

    def test_composite_ids(self, schema):
        assert schema.model("Host").id_fields == ("userId", "eventTypeId")
        assert schema.model("SelectedCalendar").id_fields == ("userId", "integration", "externalId")
        assert schema.model("TeamFeatures").id_fields == ("teamId", "featureId")
        assert schema.model("UserPassword").primary_key is None
        assert prisma_default_names(schema.model("Host"), schema)["pkey"] == "Host_pkey"

    def test_user(self, schema):
        user = schema.model("User")
        assert user.db_name == "users"  # @@map(name: "users")
        assert user.field("createdDate").db_name == "created"  # @map(name: "created")
        assert user.field("identityProvider").default == Ref("CAL")
        assert user.field("timeZone").default == "Europe/London"
        assert user.field("impersonatedUsers").relation == Relation(name="impersonated_user")
        assert user.field("bookingRedirectsTo").relation.name == "toUser"
        org = user.field("organization").relation
        assert (org.name, org.fields, org.on_delete) == ("scope", ("organizationId",), "SetNull")
        assert user.field("email").doc == "@zod.email()"
        assert not user.has_field("linkedByUserId")  # commented out
        uniques = [u.field_names for u in user.unique_constraints]
        assert ("email", "username") in uniques and ("username", "organizationId") in uniques

    def test_self_relations(self, schema):
        et = schema.model("EventType")
        assert et.field("parent").relation == Relation(
            name="managed_eventtype", fields=("parentId",), references=("id",), on_delete="Cascade"
        )
        assert et.field("children").relation == Relation(name="managed_eventtype")
        team = schema.model("Team")
        assert team.field("parent").type == "Team" and team.field("children").list
        assert et.doc == 'An event type is a bookable kind of meeting ("30 min intro call").'
        assert et.field("bookingFields").default == "[]"
        assert et.field("periodType").default == Ref("UNLIMITED")

    def test_many_to_many_and_misc(self, schema):
        assert schema.model("EventType").field("users").relation == Relation(name="user_eventtype")
        assert schema.model("User").field("eventTypes").relation == Relation(name="user_eventtype")
        wf = schema.model("WorkflowsOnEventTypes")
        assert [f.type for f in wf.relation_fields()] == ["Workflow", "EventType"]
        assert schema.model("Booking").field("scheduledJobs").list
        assert schema.model("Availability").field("startTime").native_type == ("Time", ())
        assert schema.model("Availability").field("days").type == "Int"
        assert schema.enum("SchedulingType").db_values == ("roundRobin", "collective", "managed")
        webhook = schema.model("Webhook")
        (uq,) = webhook.unique_constraints[1:]
        assert (uq.field_names, uq.name) == (("userId", "subscriberUrl"), "courseIdentifier")
        slots = schema.model("SelectedSlots").unique_constraints[0]
        assert slots.name == "selectedSlotUnique" and len(slots.fields) == 4
        assert schema.model("Credential").field("app").relation.references == ("slug",)
        assert schema.model("ApiKey").field("hashedKey").attribute("unique").args == ()
        names = prisma_default_names(schema.model("Booking"), schema)
        assert names["index"][("startTime", "endTime", "status")] == "Booking_startTime_endTime_status_idx"
        assert names["fkey"][("destinationCalendarId",)] == "Booking_destinationCalendarId_fkey"
        assert names["unique"][("uid",)] == "Booking_uid_key"


class TestCommerceMultiSchema:
    @pytest.fixture
    def schema(self, commerce) -> Schema:
        return commerce

    def test_counts_and_schemas(self, schema):
        assert len(schema.models) == 14 and len(schema.enums) == 4 and len(schema.views) == 2
        assert schema.datasource.get("schemas") == ("auth", "shop", "analytics")
        assert {m.schema for m in schema.models} == {"auth", "shop", "analytics"}
        assert schema.model_by_table("products", schema="shop").name == "Product"
        assert schema.enum("OrderStatus").db_values[1] == "pending-payment"
        assert (schema.enum("AccountRole").db_name, schema.enum("AccountRole").schema) == ("account_role", "auth")
        assert schema.enum("AccountRole").values[3].doc == "Read-only access; cannot place orders."

    def test_account(self, schema):
        a = schema.model("Account")
        assert a.doc == "A person who can sign in.\nLives in the auth schema; shop tables point at it."
        assert a.field("id").default == Call("dbgenerated", (Arg(None, "gen_random_uuid()"),))
        assert a.field("id").native_type == ("Uuid", ())
        assert a.field("settings").default == '{"theme": "dark", "beta": false}'
        assert a.field("tags").default == ()
        assert a.field("email").db_name == "email" and a.field("displayName").db_name == "display_name"
        assert a.field("searchVector").unsupported == "tsvector"
        ref = a.field("referredBy").relation
        assert (ref.name, ref.on_delete, ref.on_update, ref.map) == ("Referrals", "SetNull", "Cascade", "account_referred_by_fk")
        gin, desc, ops = a.indexes
        assert (gin.type, gin.map) == ("Gin", "account_search_idx")
        assert desc.fields[0].sort == "Desc"
        assert ops.fields[0].ops == Call("raw", (Arg(None, "text_pattern_ops"),))
        names = prisma_default_names(a, schema, use_map=True)
        assert names["unique"][("email",)] == "account_email_unique"
        assert names["fkey"][("referred_by_id",)] == "account_referred_by_fk"

    def test_composite_ids_and_m2m(self, schema):
        om = schema.model("OrgMember")
        pk = om.primary_key
        assert (pk.field_names, pk.name, pk.map) == (("orgId", "accountId"), "membership", "org_members_pk")
        assert prisma_default_names(om, schema)["pkey"] == "org_members_pkey"
        assert prisma_default_names(om, schema, use_map=True)["pkey"] == "org_members_pk"
        cop = schema.model("CategoriesOnProducts")
        assert cop.id_fields == ("productId", "categoryId")
        assert prisma_default_names(cop, schema)["fkey"] == {
            ("product_id",): "categories_on_products_product_id_fkey",
            ("category_id",): "categories_on_products_category_id_fkey",
        }
        cat = schema.model("Category")
        assert cat.field("related").relation == cat.field("relatedOf").relation == Relation(name="RelatedCategories")
        assert schema.model("OrderLine").id_fields == ("orderId", "lineNo")

    def test_defaults_and_types(self, schema):
        p = schema.model("Product")
        assert p.field("publicId").default == Call("nanoid", (Arg(None, 12),))
        assert p.field("price").default == 0.0 and p.field("price").native_type == ("Decimal", ("12", "2"))
        assert p.field("rating").default == -1.5
        assert p.field("embedding").unsupported == "vector(1536)"
        assert p.field("variants").relation == Relation(name="ProductVariants")
        assert schema.model("ProductImage").field("id").default == Call("ulid")
        assert schema.model("AuthSession").field("id").default == Call("cuid", (Arg(None, 2),))
        assert schema.model("Organization").field("id").default == Call("uuid", (Arg(None, 7),))
        o = schema.model("Order")
        assert o.field("number").default == Call("sequence", (Arg("maxValue", 9999999), Arg("start", 1000)))
        assert o.field("note").default == 'Thanks!\nPlease "leave" at the door \\ porch \u00e9'
        assert o.field("legacyRef").is_ignored
        assert o.field("id").type == "BigInt"
        assert schema.model("LegacyDailyRollup").is_ignored
        audit = schema.model("AuditLog")
        assert audit.field("at").default == Call("dbgenerated", (Arg(None, "timezone('utc'::text, now())"),))
        assert audit.attribute("customBlockAttribute").arg("tags") == ("a", "b")
        assert [i.kind for i in audit.indexes] == ["index", "fulltext"]
        assert audit.indexes[0].fields[0].length == 32

    def test_views(self, schema):
        v = schema.view("OrgDailyRevenue")
        assert (v.db_name, v.schema, v.id_fields) == ("org_daily_revenue", "analytics", ("orgId", "day"))
        assert schema.view("ActiveProduct").db_name == "ActiveProduct"
