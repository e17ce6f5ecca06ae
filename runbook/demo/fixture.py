"""The reference legacy database: a Prisma-managed PostgreSQL schema with
PascalCase table names, and a fast, deterministic data generator for it.

* ``create_schema(conn)`` runs ``runbook/data/reference_schema.sql``: the DDL
  exactly as ``prisma migrate`` would have emitted it, plus a view, a function
  and a trigger that name the legacy tables in their bodies.
* ``seed(conn, messages, seed)`` fills it set-based (``INSERT ... SELECT ...
  FROM generate_series``) so that the same ``(messages, seed)`` always yields
  byte-identical data: every id and value is derived from ``md5(seed:table:i)``
  and every timestamp from a fixed base plus an offset (never ``now()``).
  For speed it drops the keys, indexes and foreign keys while loading and
  recreates them from their exact catalog definitions afterwards (as
  pg_restore does), and loads "lastActiveAt" as the trigger would leave it.
* ``build(url, messages, seed)`` does both on a fresh database, ANALYZEs and
  commits.  About 2 s for 100k messages, 18 s for 1M (2 cores).

Row counts for ``messages = N`` (each at least 1)::

    AssistantChatMessage  N          AssistantChatSession  N/10
    User                  N/100      AssistantMessage      N/2
    AssistantConversation N/20       AssistantFolder       N/50
    AuditLog              N/20       each satellite table  N/100
    _prisma_migrations    3

The 50 "satellite" tables (``SATELLITES``) are the rest of the application
that references ``"User"``; their DDL in the .sql file is rendered by
``satellite_ddl()`` (a test checks the two agree).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import uuid
from dataclasses import dataclass

import psycopg2

SCHEMA_RESOURCE = "reference_schema.sql"

#: Fixed origin of every generated timestamp (TIMESTAMP(3), no time zone).
BASE_TS = "2023-01-01 00:00:00"

#: The six tables of spec section 1 (legacy names).
CORE_TABLES = (
    "User",
    "AssistantFolder",
    "AssistantChatSession",
    "AssistantChatMessage",
    "AssistantConversation",
    "AssistantMessage",
)

#: The Prisma migrations that "created" the schema; each is a section of the
#: .sql file starting with ``-- Migration: <name>``.
MIGRATIONS = (
    "20240115093000_init",
    "20240610120000_account_features",
    "20240902081500_chat_session_activity",
)


# --------------------------------------------------------------------------
# Satellite tables: (name, on delete, data columns).  A column is
# (name, prisma SQL type, nullable); TEXT columns may carry a list of values
# to pick from, otherwise they get "<column>-<hex>".
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Col:
    name: str
    type: str  # TEXT | INTEGER | BOOLEAN | JSONB | TIMESTAMP(3) | DECIMAL(65,30)
    nullable: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Satellite:
    name: str
    on_delete: str  # CASCADE | RESTRICT
    cols: tuple[Col, ...]


T, I, B, J, TS, D = "TEXT", "INTEGER", "BOOLEAN", "JSONB", "TIMESTAMP(3)", "DECIMAL(65,30)"
C, R = "CASCADE", "RESTRICT"

SATELLITES: tuple[Satellite, ...] = (
    Satellite("UserProfile", C, (Col("bio", T, True), Col("avatarUrl", T, True))),
    Satellite("UserSetting", C, (Col("key", T, choices=("locale", "timezone", "digest", "shortcuts")), Col("value", J))),
    Satellite("UserPreference", C, (Col("theme", T, choices=("light", "dark", "system")), Col("emailOptIn", B))),
    Satellite("ApiKey", R, (Col("keyHash", T), Col("lastUsedAt", TS, True))),
    Satellite("Subscription", R, (Col("plan", T, choices=("free", "pro", "team", "enterprise")), Col("seats", I))),
    Satellite("Invoice", R, (Col("amount", D), Col("paid", B))),
    Satellite("Payment", R, (Col("amount", D), Col("status", T, choices=("pending", "succeeded", "failed", "refunded")))),
    Satellite("PaymentMethod", R, (Col("brand", T, choices=("visa", "mastercard", "amex")), Col("expiresAt", TS))),
    Satellite("Notification", C, (Col("message", T), Col("read", B))),
    Satellite("NotificationSetting", C, (Col("channel", T, choices=("email", "push", "sms")), Col("enabled", B))),
    Satellite("LoginEvent", R, (Col("ipAddress", T), Col("success", B))),
    Satellite("Session", C, (Col("sessionToken", T), Col("expires", TS))),
    Satellite("Account", C, (Col("provider", T, choices=("google", "github", "microsoft")), Col("providerAccountId", T))),
    Satellite("PasswordResetToken", C, (Col("token", T), Col("expiresAt", TS))),
    Satellite("EmailVerificationToken", C, (Col("token", T), Col("expiresAt", TS))),
    Satellite("TwoFactorSecret", C, (Col("secret", T), Col("enabled", B))),
    Satellite("Device", C, (Col("name", T, choices=("MacBook Pro", "iPhone", "Pixel", "ThinkPad")), Col("lastSeenAt", TS, True))),
    Satellite("PushToken", C, (Col("token", T),)),
    Satellite("TeamMembership", R, (Col("teamName", T), Col("role", T, choices=("owner", "admin", "member")))),
    Satellite("Project", R, (Col("name", T), Col("archived", B))),
    Satellite("Document", R, (Col("title", T), Col("wordCount", I))),
    Satellite("File", R, (Col("fileName", T), Col("sizeBytes", I))),
    Satellite("Upload", R, (Col("path", T), Col("sizeBytes", I))),
    Satellite("Note", C, (Col("body", T),)),
    Satellite("Tag", C, (Col("label", T, choices=("work", "personal", "ideas", "urgent", "later")),)),
    Satellite("Bookmark", C, (Col("url", T), Col("pinned", B))),
    Satellite("Comment", R, (Col("body", T), Col("editedAt", TS, True))),
    Satellite("Reaction", C, (Col("emoji", T, choices=("thumbs_up", "heart", "laugh", "tada")),)),
    Satellite("Feedback", R, (Col("rating", I), Col("comment", T, True))),
    Satellite("SupportTicket", R, (Col("subject", T), Col("status", T, choices=("open", "pending", "closed")))),
    Satellite("UsageRecord", R, (Col("tokens", I), Col("cost", D))),
    Satellite("QuotaLimit", C, (Col("monthlyTokens", I), Col("resetsAt", TS))),
    Satellite("BillingAddress", R, (Col("country", T, choices=("US", "DE", "FR", "JP", "BR")), Col("postalCode", T))),
    Satellite("CouponRedemption", R, (Col("code", T), Col("discount", D))),
    Satellite("Referral", R, (Col("code", T), Col("converted", B))),
    Satellite("Integration", C, (Col("provider", T, choices=("slack", "notion", "gdrive")), Col("config", J))),
    Satellite("Webhook", C, (Col("url", T), Col("active", B))),
    Satellite("OAuthConnection", C, (Col("provider", T, choices=("google", "github", "dropbox")), Col("scopes", J))),
    Satellite("CalendarEvent", C, (Col("title", T), Col("startsAt", TS))),
    Satellite("Reminder", C, (Col("text", T), Col("dueAt", TS, True))),
    Satellite("Task", R, (Col("title", T), Col("done", B))),
    Satellite("Goal", R, (Col("title", T), Col("progress", I))),
    Satellite("Habit", C, (Col("name", T), Col("streak", I))),
    Satellite("JournalEntry", R, (Col("body", T), Col("mood", I, True))),
    Satellite("PromptTemplate", R, (Col("name", T), Col("template", T))),
    Satellite("SavedPrompt", C, (Col("prompt", T),)),
    Satellite("ModelPreference", C, (Col("model", T, choices=("gpt-4o", "claude-3-5-sonnet", "llama-3-70b")), Col("temperature", D))),
    Satellite("ExportJob", R, (Col("status", T, choices=("queued", "running", "done", "failed")), Col("result", J, True))),
    Satellite("ImportJob", R, (Col("status", T, choices=("queued", "running", "done", "failed")), Col("rowCount", I))),
    Satellite("ConsentRecord", R, (Col("purpose", T, choices=("marketing", "analytics", "training")), Col("granted", B))),
)

del T, I, B, J, TS, D, C, R  # shorthands for the table above

SATELLITE_TABLES = tuple(s.name for s in SATELLITES)


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def satellite_ddl() -> tuple[list[str], list[str], list[str]]:
    """The satellite tables' DDL in Prisma's layout: (CREATE TABLE statements,
    CREATE INDEX statements, ALTER TABLE ... ADD CONSTRAINT statements)."""
    tables, indexes, fks = [], [], []
    for s in SATELLITES:
        lines = ['    "id" TEXT NOT NULL,', '    "userId" TEXT NOT NULL,']
        for c in s.cols:
            lines.append(f"    {_q(c.name)} {c.type}{'' if c.nullable else ' NOT NULL'},")
        lines.append('    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,')
        lines.append("")
        lines.append(f'    CONSTRAINT {_q(s.name + "_pkey")} PRIMARY KEY ("id")')
        tables.append(f"CREATE TABLE {_q(s.name)} (\n" + "\n".join(lines) + "\n);")
        indexes.append(f'CREATE INDEX {_q(s.name + "_userId_idx")} ON {_q(s.name)}("userId");')
        fks.append(
            f'ALTER TABLE {_q(s.name)} ADD CONSTRAINT {_q(s.name + "_userId_fkey")} '
            f'FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE {s.on_delete} ON UPDATE CASCADE;'
        )
    return tables, indexes, fks


def render_satellite_section() -> str:
    """The satellite migration's body as it appears in the .sql file."""
    tables, indexes, fks = satellite_ddl()
    parts = [f"-- CreateTable\n{t}\n" for t in tables]
    parts += [f"-- CreateIndex\n{i}\n" for i in indexes]
    parts += [f"-- AddForeignKey\n{f}\n" for f in fks]
    return "\n".join(parts)


# --------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------

def schema_sql() -> str:
    """The text of ``runbook/data/reference_schema.sql``."""
    return importlib.resources.files("runbook.data").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")


def migration_sections() -> dict[str, str]:
    """Migration name -> its SQL text (the part of the schema file that
    follows its ``-- Migration: <name>`` marker)."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in schema_sql().splitlines(keepends=True):
        if line.startswith("-- Migration: "):
            current = line[len("-- Migration: "):].strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {k: "".join(v).strip() + "\n" for k, v in sections.items()}


def create_schema(conn) -> None:
    """Run the reference DDL on a psycopg2 connection (no commit)."""
    with conn.cursor() as cur:
        cur.execute(schema_sql())


# --------------------------------------------------------------------------
# Seeding.  The SQL is built here from constants and the seed (an int); no
# caller-supplied text is interpolated.
#
# Every generated row i of table T gets two md5 hex strings computed once,
#   h  = md5('<seed>:T:' || i)      h2 = md5('<seed>:T:b:' || i)
# which give eight independent 28-bit integers R0..R7, and the id
#   'c' || left(md5('<seed>:T:id:' || i), 24)      (25 chars, cuid-like)
# so a child row can recompute its parent's id (and its parent's timestamps)
# from the parent's index alone.
# --------------------------------------------------------------------------

def _md5(seed: int, table: str, idx: str, salt: str = "") -> str:
    """SQL: md5 hex of '<seed>:<table>:[<salt>:]<idx>'."""
    tag = f"{seed}:{table}:" + (f"{salt}:" if salt else "")
    return f"md5('{tag}' || ({idx}))"


def _cuid(seed: int, table: str, idx: str) -> str:
    """SQL: the cuid-like id of row ``idx`` of ``table``."""
    return f"('c' || left({_md5(seed, table, idx, 'id')}, 24))"


def _slice(h: str, k: int) -> str:
    """SQL: the k-th (0..3) 28-bit non-negative integer slice of md5 hex ``h``."""
    return f"('x' || substr({h}, {1 + 7 * k}, 7))::bit(28)::int"


# R0..R7: eight independent 28-bit integers of the current row, computed
# once per row by _rows() from its two md5s.
R = [f"s.r{k}" for k in range(8)]


def _ts(days_from: int, days_span: int, rday: str, rms: str) -> str:
    """SQL: BASE_TS + days_from + (rday mod days_span) days + (rms mod 1 day) ms."""
    return (
        f"(TIMESTAMP '{BASE_TS}' + ({days_from} + ({rday}) % {days_span}) * INTERVAL '1 day'"
        f" + (({rms}) % 86400000) * INTERVAL '1 millisecond')"
    )


def _pick(choices, r: str) -> str:
    arr = ", ".join("'" + c.replace("'", "''") + "'" for c in choices)
    return f"(ARRAY[{arr}])[1 + ({r}) % {len(choices)}]"


def _rows(seed: int, table: str, n: int, **extra: str) -> str:
    """SQL: ``FROM`` clause yielding rows s(g, h, h2, r0..r7, <extra>...) for
    g in [0, n).

    ``extra`` columns are expressions over s.g / s.h / s.r0.. (e.g. a
    parent's index and md5).  The OFFSET 0 fences keep the planner from
    inlining the md5s into every use, which would recompute them.
    """
    hashes = (
        f"SELECT g, {_md5(seed, table, 'g')} AS h, {_md5(seed, table, 'g', 'b')} AS h2 "
        f"FROM generate_series(0, {n - 1}) AS g OFFSET 0"
    )
    ints = ", ".join([f"{_slice('s.h', k)} AS r{k}" for k in range(4)]
                     + [f"{_slice('s.h2', k)} AS r{k + 4}" for k in range(4)])
    src = f"SELECT s.g, s.h, s.h2, {ints} FROM ({hashes}) s OFFSET 0"
    if extra:
        cols = "".join(f", {expr} AS {name}" for name, expr in extra.items())
        src = f"SELECT s.*{cols} FROM ({src}) s OFFSET 0"
    return f"FROM ({src}) s"


FIRST_NAMES = ("Ada", "Grace", "Alan", "Linus", "Margaret", "Dennis", "Barbara", "Ken",
               "Frances", "Edsger", "Radia", "Guido", "Sophie", "Tim", "Hedy", "John")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Ritchie", "Liskov",
              "Thompson", "Allen", "Dijkstra", "Perlman", "Rossum", "Wilson", "Berners-Lee")
DOMAINS = ("example.com", "example.org", "mail.test", "corp.example")
TOPICS = ("PostgreSQL", "Prisma", "TypeScript", "Docker", "Kubernetes", "React", "Python",
          "billing", "onboarding", "the API", "webhooks", "SSO", "CSV exports", "search",
          "notifications", "dark mode")
VERBS = ("set up", "debug", "migrate", "speed up", "test", "deploy", "configure", "monitor",
         "secure", "document", "roll back", "automate")
ASIDES = ("", " It keeps failing.", " Please keep it short.", " Step by step, please.",
          " What are the trade-offs?")
FOLDER_NAMES = ("Work", "Personal", "Research", "Drafts", "Archive", "Ideas", "Travel",
                "Recipes", "Code", "Reading")
SESSION_NAMES = ("Quick question", "Planning session", "Bug hunt", "Brainstorm",
                 "Weekly review", "Interview prep", "Trip ideas", "Refactoring notes")
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "llama-3-70b")
AUDIT_ACTIONS = ("user.login", "user.logout", "user.update", "session.create",
                 "session.delete", "folder.create", "apikey.create", "export.request")
AUDIT_ENTITIES = ("User", "AssistantChatSession", "AssistantFolder", "ApiKey", "ExportJob")


def expected_counts(messages: int) -> dict[str, int]:
    """Rows per table that ``seed(conn, messages)`` creates."""
    n = int(messages)
    one = lambda x: max(1, x)  # noqa: E731
    counts = {
        "_prisma_migrations": len(MIGRATIONS),
        "User": one(n // 100),
        "AssistantFolder": one(n // 50),
        "AssistantChatSession": one(n // 10),
        "AssistantChatMessage": one(n),
        "AssistantConversation": one(n // 20),
        "AssistantMessage": one(n // 2),
        "AuditLog": one(n // 20),
    }
    for name in SATELLITE_TABLES:
        counts[name] = one(n // 100)
    return counts


def _role(r: str) -> str:
    return f"(CASE WHEN ({r}) % 25 = 0 THEN 'system' WHEN ({r}) % 2 = 0 THEN 'user' ELSE 'assistant' END)"


def _content(role: str, r_topic: str, r_verb: str, r_len: str) -> str:
    topic, verb = _pick(TOPICS, r_topic), _pick(VERBS, r_verb)
    return (
        f"(CASE {role}"
        f" WHEN 'user' THEN format('How do I %s %s?%s', {verb}, {topic}, {_pick(ASIDES, r_len)})"
        f" WHEN 'assistant' THEN format('To %s %s: %s', {verb}, {topic}, repeat("
        f"'start from a small reproducible example, change one thing at a time and verify each step. ',"
        f" 1 + ({r_len}) % 6))"
        f" ELSE 'You are a helpful assistant. Answer concisely.' END)"
    )


def _seed_statements(messages: int, seed: int) -> list[tuple[str, str]]:
    """(table, SQL) pairs that fill the schema, in dependency order.  The
    table is "" for statements whose row count is not reported."""
    seed = int(seed)
    cnt = expected_counts(messages)
    U, F, S = cnt["User"], cnt["AssistantFolder"], cnt["AssistantChatSession"]
    M, CV, AM = cnt["AssistantChatMessage"], cnt["AssistantConversation"], cnt["AssistantMessage"]
    AL, SAT = cnt["AuditLog"], cnt[SATELLITE_TABLES[0]]
    out: list[tuple[str, str]] = []

    def user_id(idx: str) -> str:
        return _cuid(seed, "User", idx)

    # --- User --------------------------------------------------------------
    first, last = _pick(FIRST_NAMES, R[0]), _pick(LAST_NAMES, R[1])
    created = _ts(0, 120, R[2], R[3])
    out.append(("User", f"""
INSERT INTO "User" ("id", "email", "username", "firstName", "lastName", "passwordHash",
                    "isActive", "emailVerified", "createdAt", "updatedAt")
SELECT {user_id('s.g')},
       lower({first} || '.' || replace({last}, '-', '') || '.' || s.g || '@' || {_pick(DOMAINS, R[4])}),
       CASE WHEN {R[5]} % 20 = 0 THEN NULL ELSE lower({first}) || '_' || s.g END,
       CASE WHEN {R[5]} % 20 = 1 THEN NULL ELSE {first} END,
       CASE WHEN {R[5]} % 20 IN (1, 2) THEN NULL ELSE {last} END,
       '$2b$10$' || left(s.h || s.h2, 53),
       {R[6]} % 10 <> 0,
       {R[7]} % 10 < 7,
       {created},
       {created} + ({R[6]} % 30) * INTERVAL '1 day'
{_rows(seed, 'User', U)}"""))

    # --- AssistantFolder ---------------------------------------------------
    created = _ts(130, 370, R[2], R[3])
    out.append(("AssistantFolder", f"""
INSERT INTO "AssistantFolder" ("id", "userId", "name", "createdAt", "updatedAt")
SELECT {_cuid(seed, 'AssistantFolder', 's.g')},
       {user_id(f'{R[0]} % {U}')},
       {_pick(FOLDER_NAMES, R[1])},
       {created},
       {created} + ({R[4]} % 45) * INTERVAL '1 day'
{_rows(seed, 'AssistantFolder', F)}"""))

    # --- AssistantChatMessage ----------------------------------------------
    # Sessions whose index is 19 mod 20 get no messages (NULL "lastActiveAt");
    # the t-th of the others has index 20*(t/19) + t%19.  A message is
    # created within 14 days of its session.
    def session_created(h: str) -> str:  # h: the session row's md5 h
        return _ts(130, 370, _slice(h, 2), _slice(h, 3))

    live = S - S // 20
    t = f"({R[0]} % {live})"
    sess = f"(20 * ({t} / 19) + {t} % 19)"
    role = _role(R[5])
    out.append(("AssistantChatMessage", f"""
INSERT INTO "AssistantChatMessage" ("id", "sessionId", "role", "content", "metadata", "createdAt")
SELECT {_cuid(seed, 'AssistantChatMessage', 's.g')},
       {_cuid(seed, 'AssistantChatSession', 's.sess')},
       {role},
       {_content(role, R[2], R[3], R[4])},
       CASE WHEN {R[6]} % 20 < 7 THEN NULL
            WHEN {role} = 'assistant' THEN jsonb_build_object(
                 'model', {_pick(MODELS, R[7])}, 'tokens', 20 + {R[7]} % 2000,
                 'latencyMs', 150 + {R[6]} % 5000, 'finishReason', 'stop')
            ELSE jsonb_build_object('client', {_pick(('web', 'ios', 'android'), R[7])}) END,
       {session_created('s.sh')} + ({R[1]} % 1209600) * INTERVAL '1 second'
         + ({R[1]} / 1209600) * INTERVAL '1 millisecond'
{_rows(seed, 'AssistantChatMessage', M, sess=sess, sh=_md5(seed, 'AssistantChatSession', sess))}"""))

    # --- AssistantChatSession --------------------------------------------
    # Loaded after its messages (constraints are off during the load) so that
    # "lastActiveAt" is what the trigger would have left: the latest message.
    out.append(("AssistantChatSession", f"""
INSERT INTO "AssistantChatSession" ("id", "userId", "sessionName", "lastActiveAt", "createdAt", "updatedAt")
SELECT s.id,
       {user_id(f'{R[0]} % {U}')},
       CASE WHEN {R[1]} % 10 = 0 THEN NULL
            ELSE {_pick(SESSION_NAMES, R[4])} || ' #' || (1 + {R[5]} % 97) END,
       m.last,
       {session_created('s.h')},
       {session_created('s.h')} + ({R[6]} % 20) * INTERVAL '1 day'
{_rows(seed, 'AssistantChatSession', S, id=_cuid(seed, 'AssistantChatSession', 's.g'))}
LEFT JOIN (SELECT "sessionId", max("createdAt") AS last
           FROM "AssistantChatMessage" GROUP BY "sessionId") AS m ON m."sessionId" = s.id
ORDER BY s.g"""))

    # --- AssistantConversation / AssistantMessage (legacy chat) -------------
    def conv_created(h: str) -> str:
        return _ts(120, 180, _slice(h, 2), _slice(h, 3))

    out.append(("AssistantConversation", f"""
INSERT INTO "AssistantConversation" ("id", "userId", "title", "createdAt", "updatedAt")
SELECT {_cuid(seed, 'AssistantConversation', 's.g')},
       {user_id(f'{R[0]} % {U}')},
       CASE WHEN {R[1]} % 7 = 0 THEN NULL
            ELSE format('%s: %s', {_pick(TOPICS, R[4])}, {_pick(VERBS, R[5])}) END,
       {conv_created('s.h')},
       {conv_created('s.h')} + ({R[6]} % 60) * INTERVAL '1 day'
{_rows(seed, 'AssistantConversation', CV)}"""))

    conv = f"({R[0]} % {CV})"
    role = _role(R[5])
    out.append(("AssistantMessage", f"""
INSERT INTO "AssistantMessage" ("id", "conversationId", "role", "content", "createdAt")
SELECT s.g + 1,
       {_cuid(seed, 'AssistantConversation', 's.conv')},
       {role},
       {_content(role, R[2], R[3], R[4])},
       {conv_created('s.ch')} + ({R[1]} % 7) * INTERVAL '1 day'
         + ({R[6]} % 86400000) * INTERVAL '1 millisecond'
{_rows(seed, 'AssistantMessage', AM, conv=conv, ch=_md5(seed, 'AssistantConversation', conv))}"""))
    out.append(("", """SELECT setval('"AssistantMessage_id_seq"', (SELECT max("id") FROM "AssistantMessage"))"""))

    # --- the 50 satellite tables ---------------------------------------------
    for sat in SATELLITES:
        cols = ['"id"', '"userId"'] + [_q(c.name) for c in sat.cols] + ['"createdAt"']
        vals = [_cuid(seed, sat.name, "s.g"), user_id(f"{R[0]} % {U}")]
        for k, c in enumerate(sat.cols):
            r = R[1 + 2 * k]
            if c.type == "TEXT":
                v = _pick(c.choices, r) if c.choices else f"'{c.name}-' || substr(s.h2, {1 + 12 * k}, 12)"
            elif c.type == "INTEGER":
                v = f"{r} % 10000"
            elif c.type == "BOOLEAN":
                v = f"{r} % 3 <> 0"
            elif c.type == "JSONB":
                v = f"jsonb_build_object('v', {r} % 100, 'tag', substr(s.h2, 25, 6), 'enabled', {r} % 2 = 0)"
            elif c.type == "TIMESTAMP(3)":
                v = _ts(0, 540, r, R[2 + 2 * k])
            elif c.type == "DECIMAL(65,30)":
                v = f"round(({r} % 1000000)::numeric / 100, 2)"
            else:  # pragma: no cover - SATELLITES only uses the types above
                raise ValueError(c.type)
            if c.nullable:
                v = f"CASE WHEN {R[5]} % 10 = {k} THEN NULL ELSE {v} END"
            vals.append(v)
        vals.append(_ts(0, 540, R[6], R[7]))
        sep = ",\n       "
        out.append((sat.name, f"""
INSERT INTO {_q(sat.name)} ({', '.join(cols)})
SELECT {sep.join(vals)}
{_rows(seed, sat.name, SAT)}"""))

    # --- AuditLog ------------------------------------------------------------
    out.append(("AuditLog", f"""
INSERT INTO "AuditLog" ("id", "userId", "action", "entity", "entityId", "details", "createdAt")
SELECT s.g + 1,
       CASE WHEN {R[1]} % 5 = 0 THEN NULL ELSE {user_id(f'{R[0]} % {U}')} END,
       {_pick(AUDIT_ACTIONS, R[2])},
       CASE WHEN {R[3]} % 10 = 0 THEN NULL ELSE {_pick(AUDIT_ENTITIES, R[3])} END,
       CASE WHEN {R[3]} % 10 = 0 THEN NULL ELSE 'c' || left(s.h2, 24) END,
       CASE WHEN {R[4]} % 4 = 0 THEN NULL
            ELSE jsonb_build_object('ip', format('10.%s.%s.%s', {R[4]} % 256, {R[5]} % 256, {R[6]} % 256),
                                    'userAgent', {_pick(('Mozilla/5.0', 'curl/8.4.0', 'PrismaClient/5.7'), R[7])}) END,
       {_ts(0, 540, R[5], R[6])}
{_rows(seed, 'AuditLog', AL)}"""))
    out.append(("", """SELECT setval('"AuditLog_id_seq"', (SELECT max("id") FROM "AuditLog"))"""))
    return out


def _migration_rows(seed: int) -> list[tuple]:
    """Rows of "_prisma_migrations" as `prisma migrate deploy` would have
    left them: a uuid, the sha256 of each migration's SQL, fixed times."""
    sections = migration_sections()
    rows = []
    for k, name in enumerate(MIGRATIONS):
        digest = hashlib.md5(f"{seed}:_prisma_migrations:{name}".encode()).hexdigest()
        checksum = hashlib.sha256(sections[name].encode()).hexdigest()
        stamp = f"{name[0:4]}-{name[4:6]}-{name[6:8]} {name[8:10]}:{name[10:12]}:{name[12:14]}"
        rows.append((
            str(uuid.UUID(digest, version=4)),
            checksum,
            f"{stamp}.{412 + 37 * k:03d}+00",  # finished_at
            name,
            None,  # logs
            None,  # rolled_back_at
            f"{stamp}.{101 + 11 * k:03d}+00",  # started_at
            1,  # applied_steps_count
        ))
    return rows


# Keys, indexes and foreign keys of the tables being loaded, in creation
# order.  They are dropped for the load and recreated from these exact
# definitions afterwards (as pg_restore does): bulk index builds and one
# validating join per foreign key instead of per-row index inserts and
# per-row foreign-key checks.  Names and definitions end up identical.
_KEYS_SQL = """
SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
WHERE t.relnamespace = 'public'::regnamespace AND t.relname <> '_prisma_migrations'
  AND c.contype IN ('p', 'u', 'f')
ORDER BY c.oid
"""
_INDEXES_SQL = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relnamespace = 'public'::regnamespace AND t.relname <> '_prisma_migrations'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
ORDER BY i.indexrelid
"""


def _drop_keys(cur) -> list[str]:
    """Drop keys, indexes and foreign keys of the tables to be loaded;
    return the statements that recreate them, in their original order."""
    cur.execute(_KEYS_SQL)
    keys = cur.fetchall()
    cur.execute(_INDEXES_SQL)
    indexes = cur.fetchall()
    drop, create_keys, create_fks = [], [], []
    for table, name, kind, definition in keys:
        stmt = f"ALTER TABLE {table} DROP CONSTRAINT {_q(name)}"
        add = f"ALTER TABLE {table} ADD CONSTRAINT {_q(name)} {definition}"
        if kind == "f":
            drop.insert(0, stmt)  # foreign keys go first
            create_fks.append(add)
        else:
            drop.append(stmt)
            create_keys.append(add)
    drop += [f"DROP INDEX {name}" for name, _ in indexes]
    for stmt in drop:
        cur.execute(stmt)
    return create_keys + [definition for _, definition in indexes] + create_fks


def _fill(conn, messages: int, seed_: int) -> dict[str, int]:
    messages, seed_ = int(messages), int(seed_)
    if messages < 1:
        raise ValueError("messages must be >= 1")
    counts: dict[str, int] = {}
    with conn.cursor() as cur:
        cur.execute('SELECT EXISTS (SELECT 1 FROM "User") OR EXISTS (SELECT 1 FROM "AssistantChatMessage")')
        if cur.fetchone()[0]:
            raise RuntimeError("seed() needs the freshly created, empty reference schema")
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cur.execute("SET LOCAL work_mem = '64MB'")
        cur.executemany(
            'INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs,'
            " rolled_back_at, started_at, applied_steps_count) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            _migration_rows(seed_),
        )
        counts["_prisma_migrations"] = len(MIGRATIONS)
        recreate = _drop_keys(cur)
        # The trigger is off too; "lastActiveAt" is loaded as it would leave it.
        cur.execute('ALTER TABLE "AssistantChatMessage" DISABLE TRIGGER "AssistantChatMessage_touch_session"')
        for table, sql in _seed_statements(messages, seed_):
            cur.execute(sql)
            if table:
                counts[table] = cur.rowcount
        cur.execute('ALTER TABLE "AssistantChatMessage" ENABLE TRIGGER "AssistantChatMessage_touch_session"')
        for stmt in recreate:
            cur.execute(stmt)
    return {name: counts[name] for name in expected_counts(messages)}


def seed(conn, messages: int = 1000, seed: int = 42) -> dict[str, int]:
    """Fill a freshly created (empty) reference schema; returns rows per table.

    Deterministic in (messages, seed).  Runs in the caller's transaction and
    does not commit.
    """
    return _fill(conn, messages, seed)


def build(url: str, messages: int = 1000, seed: int = 42) -> dict[str, int]:
    """Create and fill the reference database at ``url`` (a libpq URL or
    conninfo string of an empty database), ANALYZE and commit.  Returns rows
    per table."""
    conn = psycopg2.connect(url)
    try:
        create_schema(conn)
        counts = _fill(conn, messages, seed)
        with conn.cursor() as cur:
            cur.execute("ANALYZE")
        conn.commit()
        return counts
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
