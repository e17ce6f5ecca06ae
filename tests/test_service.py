"""The database as the AI Assistant uses it: through models that mirror spec 3.1 exactly.

``ai_assistant_models`` (tests) knows what the service's Prisma client knows and nothing more (no
legacy column). Every test here runs the service's operations after ``migrate`` and
expects them to work, and runs them against the legacy database and expects each to
fail clearly (the relation it needs does not exist). The last tests run a small HTTP
service on 127.0.0.1 whose ``/health`` queries ``chat_sessions`` through the models, and
poll it with ``runbook.health.test_ai_assistant_connection`` (spec 2.4): red before the
migration, green after.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from runbook.api import migrate
from runbook.connection import engine as make_engine
from runbook.errors import BadInput
from runbook.health import test_ai_assistant_connection as check_health
from runbook.merge import PLACEHOLDER_TITLE, merge_legacy
from ai_assistant_models import ChatFolder, ChatMessage, ChatSession, User

METADATA = {"model": "gpt-4o", "tokens": {"prompt": 12, "completion": 40}, "tools": ["search", None], "score": 0.5}


def do_migrate(url, tmp_path):
    migrate(url, backup=False, progress=False, log_dir=str(tmp_path), backup_dir=str(tmp_path))


@pytest.fixture
def legacy(ref_db):
    eng = make_engine(ref_db)
    yield eng
    eng.dispose()


@pytest.fixture
def service(ref_db, tmp_path):
    do_migrate(ref_db, tmp_path)
    eng = make_engine(ref_db)
    yield eng
    eng.dispose()


def a_user(s: Session) -> User:
    return s.scalars(select(User).where(User.username.is_not(None)).order_by(User.email).limit(1)).one()


# --------------------------------------------------------------------------- the service's operations


def find_user(s: Session, *, email: str | None = None, username: str | None = None) -> User | None:
    q = select(User)
    q = q.where(User.email == email) if email is not None else q.where(User.username == username)
    return s.scalars(q).one_or_none()


def create_chat(s: Session, user_id: str) -> tuple[ChatFolder, ChatSession, list[ChatMessage]]:
    folder = ChatFolder(userId=user_id, name="Travel", description="trips", color="#3366ff")
    s.add(folder)
    s.flush()
    chat = ChatSession(userId=user_id, folderId=folder.id, title="Plan a trip")
    s.add(chat)
    s.flush()
    msgs = [ChatMessage(sessionId=chat.id, role="system", content="Be brief."),
            ChatMessage(sessionId=chat.id, role="user", content="Where to go in May?", metadata_=METADATA),
            ChatMessage(sessionId=chat.id, role="assistant", content="Lisbon.", metadata_={"finish": "stop"})]
    for m in msgs:  # one insert each, as the service writes them as they come
        s.add(m)
        s.flush()
    return folder, chat, msgs


def sessions_with_last_message(s: Session, user_id: str) -> list[tuple[ChatSession, ChatMessage | None]]:
    """A user's sessions, most recently active first, each with its last message (the
    highest id: cuids grow with time, as Prisma's ``take: -1`` on the default order)."""
    last = (select(ChatMessage.sessionId, func.max(ChatMessage.id).label("id"))
            .group_by(ChatMessage.sessionId).subquery())
    rows = s.execute(
        select(ChatSession, ChatMessage)
        .outerjoin(last, last.c.sessionId == ChatSession.id)
        .outerjoin(ChatMessage, ChatMessage.id == last.c.id)
        .where(ChatSession.userId == user_id)
        .order_by(ChatSession.lastMessageAt.desc().nulls_last(), ChatSession.id)
    ).all()
    return [(a, b) for a, b in rows]


def delete_rule(url: str) -> str:
    """ON DELETE of chat_messages -> chat_sessions, as the catalog says (c, r, a, n, d)."""
    c = psycopg2.connect(url)
    with c.cursor() as cur:
        cur.execute("SELECT confdeltype FROM pg_constraint WHERE conrelid = 'chat_messages'::regclass "
                    "AND confrelid = 'chat_sessions'::regclass AND contype = 'f'")
        (rule,) = cur.fetchone()
    c.close()
    return rule


# --------------------------------------------------------------------------- after the migration


def test_find_a_user_by_email_and_by_username(service):
    with Session(service) as s:
        u = a_user(s)
        assert find_user(s, email=u.email).id == u.id
        assert find_user(s, username=u.username).id == u.id
        assert find_user(s, email="nobody@example.invalid") is None
        assert u.role in ("USER", "ADMIN")  # the column the migration added, with its default


def test_create_folder_session_and_messages_with_json_metadata(service):
    with Session(service) as s:
        user_id = a_user(s).id
        folder, chat, msgs = create_chat(s, user_id)
        s.commit()
        ids = (folder.id, chat.id, [m.id for m in msgs])
    with Session(service) as s:
        f = s.get(ChatFolder, ids[0])
        assert (f.name, f.description, f.color, f.isDefault, f.sessionCount) == ("Travel", "trips", "#3366ff", False, 0)
        c = s.scalars(select(ChatSession).options(selectinload(ChatSession.messages)).where(ChatSession.id == ids[1])).one()
        assert (c.title, c.folderId, c.isActive) == ("Plan a trip", ids[0], True)
        assert sorted(m.id for m in c.messages) == sorted(ids[2])
        got = {m.role: m.metadata_ for m in c.messages}
        assert got == {"system": None, "user": METADATA, "assistant": {"finish": "stop"}}
        # the database's own trigger (rewritten by the migration) keeps lastMessageAt current
        assert c.lastMessageAt is not None


def test_list_sessions_with_their_last_messages(service):
    with Session(service) as s:
        user_id = a_user(s).id
        before = sessions_with_last_message(s, user_id)
        _, chat, msgs = create_chat(s, user_id)
        s.commit()
        listed = sessions_with_last_message(s, user_id)
    assert len(listed) == len(before) + 1
    first, last = listed[0]
    assert first.id == chat.id and last.id == msgs[-1].id and last.content == "Lisbon."
    assert all(sess.userId == user_id for sess, _ in listed)
    # every listed last message belongs to its session
    assert all(m is None or m.sessionId == sess.id for sess, m in listed)


def test_update_a_title(service):
    with Session(service) as s:
        _, chat, _ = create_chat(s, a_user(s).id)
        s.commit()
        chat.title = "Plan a trip to Lisbon"
        s.commit()
        chat_id = chat.id
    with Session(service) as s:
        assert s.get(ChatSession, chat_id).title == "Plan a trip to Lisbon"


def test_delete_a_session_as_the_foreign_keys_say(service, ref_db):
    rule = delete_rule(ref_db)
    with Session(service) as s:
        _, chat, msgs = create_chat(s, a_user(s).id)
        s.commit()
        chat_id, msg_ids = chat.id, [m.id for m in msgs]
        s.delete(chat)
        if rule == "c":  # ON DELETE CASCADE: the messages go with the session
            s.commit()
        else:  # RESTRICT / NO ACTION: the delete fails while messages point at it
            with pytest.raises(IntegrityError):
                s.commit()
            s.rollback()
    with Session(service) as s:
        left = s.scalars(select(ChatMessage).where(ChatMessage.id.in_(msg_ids))).all()
        assert (s.get(ChatSession, chat_id) is None) == (rule == "c")
        assert len(left) == (0 if rule == "c" else 3)
    assert rule == "c"  # the reference database cascades (runbook check-schema reports it against the schema)


def test_merged_legacy_conversations_read_as_sessions(service, ref_db):
    r = merge_legacy(ref_db, progress=False)
    assert r.ok
    with Session(service) as s:
        legacy = s.scalars(select(ChatSession).options(selectinload(ChatSession.messages))
                           .where(ChatSession.title == PLACEHOLDER_TITLE)).all()
        assert legacy
        owner = legacy[0].userId
        listed = sessions_with_last_message(s, owner)
        assert any(sess.id == legacy[0].id for sess, _ in listed)
        msgs = s.scalars(select(ChatMessage).where(ChatMessage.id.like("legacy-msg-%")).limit(5)).all()
        assert len(msgs) == 5 and all(m.session is not None for m in msgs)
        # the service can keep writing into a merged conversation
        s.add(ChatMessage(sessionId=legacy[0].id, role="user", content="back again", metadata_={"k": 1}))
        s.commit()


# --------------------------------------------------------------------------- before the migration


OPERATIONS = {
    "find a user by email": (lambda s: find_user(s, email="x@example.com"), "users"),
    "find a user by username": (lambda s: find_user(s, username="x"), "users"),
    "create a folder": (lambda s: (s.add(ChatFolder(userId="u", name="n")), s.flush()), "chat_folders"),
    "create a session": (lambda s: (s.add(ChatSession(userId="u", title="t")), s.flush()), "chat_sessions"),
    "create a message": (lambda s: (s.add(ChatMessage(sessionId="x", role="user", content="c")), s.flush()),
                         "chat_messages"),
    "list sessions": (lambda s: sessions_with_last_message(s, "u"), "chat_sessions"),
}


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_each_operation_fails_clearly_before_the_migration(legacy, name):
    op, table = OPERATIONS[name]
    with Session(legacy) as s:
        with pytest.raises(ProgrammingError) as exc:
            op(s)
    first = str(exc.value.orig).strip().splitlines()[0]
    assert first == f'relation "{table}" does not exist', first
    assert exc.value.orig.pgcode == "42P01"  # undefined_table


# --------------------------------------------------------------------------- health (spec 2.4)


class _Health(BaseHTTPRequestHandler):
    engine = None

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path != "/health":
            self.send_error(404)
            return
        try:
            with Session(self.engine) as s:
                n = len(s.scalars(select(ChatSession).limit(1)).all())
            code, body = 200, {"ok": True, "chat_sessions": "readable", "sample": n}
        except SQLAlchemyError as exc:
            code = 503
            body = {"ok": False, "error": str(getattr(exc, "orig", exc)).strip().splitlines()[0]}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def health_service(ref_db):
    """The stand-in AI Assistant: an HTTP endpoint on 127.0.0.1 whose /health reads
    chat_sessions through the target models."""
    eng = make_engine(ref_db)
    handler = type("Handler", (_Health,), {"engine": eng})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/health"
    srv.shutdown()
    srv.server_close()
    eng.dispose()


def test_health_is_red_before_the_migration_and_green_after(health_service, ref_db, tmp_path):
    red = check_health(health_service, timeout=0.6, interval=0.2)
    assert not red.ok and red.status == 503 and red.attempts >= 2
    assert 'relation \\"chat_sessions\\" does not exist' in red.detail
    do_migrate(ref_db, tmp_path)
    green = check_health(health_service, timeout=5, interval=0.2)
    assert green.ok and green.status == 200 and green.attempts == 1


def test_health_cli(health_service, ref_db, tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "runbook.cli", "check-service", *args], capture_output=True,
                              text=True, timeout=60)

    r = cli("--url", health_service, "--timeout", "0.3", "--interval", "0.1")
    assert r.returncode == 1 and r.stdout.startswith("NOT healthy") and "503" in r.stdout
    do_migrate(ref_db, tmp_path)
    r = cli("--url", health_service, "--timeout", "3", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["ok"] is True
    r = cli("--url", "ftp://example.com/health")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_health_without_a_service_and_without_secrets():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    r = check_health(f"http://user:s3cret@127.0.0.1:{port}/health?token=abc", timeout=0.5, interval=0.1)
    assert not r.ok and r.status is None and r.attempts >= 2
    assert "s3cret" not in r.url and "abc" not in r.url and r.url == f"http://127.0.0.1:{port}/health?***"
    with pytest.raises(BadInput):
        check_health("not a url", timeout=1)
    with pytest.raises(BadInput):
        check_health("http://127.0.0.1/health", timeout=-1)
