"""SQLAlchemy models of the AI Assistant's schema (spec 3.1), exactly, and nothing more.

The test suite's stand-in for the demo service (the engine checks any service through
its Prisma schema: runbook.compat.service).

They know only what the service's Prisma client knows: no legacy column. Whatever
works through them works for the service; whatever fails through them (a NOT NULL
column they do not know, a missing table) fails for the service too.
"""

from __future__ import annotations

import itertools
import os
import secrets
import socket
import time
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_counter = itertools.count()
_FINGERPRINT = None


def _base36(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _ALPHABET[r] + out
    return out.rjust(width, "0")[-width:]


def cuid() -> str:
    """A cuid (v1 layout, as Prisma's ``cuid()``): ``c``, 8 base-36 digits of the time in
    milliseconds, a 4-digit counter, a 4-character host fingerprint, 8 random characters.
    25 characters of ``[0-9a-z]``; ids made later sort after earlier ones, as in Prisma."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        _FINGERPRINT = _base36(os.getpid(), 2) + _base36(sum(map(ord, socket.gethostname())) + 36, 2)
    rnd = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return "c" + _base36(int(time.time() * 1000), 8) + _base36(next(_counter), 4) + _FINGERPRINT + rnd


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String, primary_key=True, default=cuid)
    email: Mapped[str] = mapped_column(String, unique=True)
    username: Mapped[str | None] = mapped_column(String, unique=True)
    firstName: Mapped[str | None] = mapped_column(String)
    lastName: Mapped[str | None] = mapped_column(String)
    role: Mapped[str] = mapped_column(Enum("USER", "ADMIN", name="UserRole", create_type=False), default="USER")
    isActive: Mapped[bool] = mapped_column(Boolean, default=True)
    emailVerified: Mapped[bool] = mapped_column(Boolean, default=False)
    chatSessions: Mapped[list["ChatSession"]] = relationship(back_populates="user")
    chatFolders: Mapped[list["ChatFolder"]] = relationship(back_populates="user")


class ChatFolder(Base):
    __tablename__ = "chat_folders"
    id: Mapped[str] = mapped_column(String, primary_key=True, default=cuid)
    userId: Mapped[str] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String)
    description: Mapped[str | None] = mapped_column(String)
    color: Mapped[str | None] = mapped_column(String)
    isDefault: Mapped[bool] = mapped_column(Boolean, default=False)
    sessionCount: Mapped[int] = mapped_column(Integer, default=0)
    user: Mapped[User] = relationship(back_populates="chatFolders")
    sessions: Mapped[list["ChatSession"]] = relationship(back_populates="folder")


class ChatSession(Base):
    __tablename__ = "chat_sessions"
    id: Mapped[str] = mapped_column(String, primary_key=True, default=cuid)
    userId: Mapped[str] = mapped_column(ForeignKey("users.id"))
    folderId: Mapped[str | None] = mapped_column(ForeignKey("chat_folders.id"))
    title: Mapped[str] = mapped_column(String)
    isActive: Mapped[bool] = mapped_column(Boolean, default=True)
    lastMessageAt: Mapped[datetime | None] = mapped_column(DateTime)
    user: Mapped[User] = relationship(back_populates="chatSessions")
    folder: Mapped[ChatFolder | None] = relationship(back_populates="sessions")
    messages: Mapped[list["ChatMessage"]] = relationship(back_populates="session", passive_deletes=True)


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    id: Mapped[str] = mapped_column(String, primary_key=True, default=cuid)
    sessionId: Mapped[str] = mapped_column(ForeignKey("chat_sessions.id"))
    role: Mapped[str] = mapped_column(String)
    content: Mapped[str] = mapped_column(String)
    metadata_: Mapped[dict | None] = mapped_column("metadata", JSONB)
    session: Mapped[ChatSession] = relationship(back_populates="messages")
