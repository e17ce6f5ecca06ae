"""What the legacy merge reads and writes: the mapping's ``[merge]`` tables, their shape
checked in the catalog before anything runs."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadInput, WrongState


@dataclass(frozen=True)
class Tables:
    """What to merge, from the mapping's ``[merge]``: legacy conversations and their
    messages (``src_*``) into the service's sessions and messages (``dst_*``)."""

    src_sessions: str
    src_messages: str
    dst_sessions: str
    dst_messages: str

    @property
    def all(self) -> tuple[str, ...]:
        return (self.src_sessions, self.src_messages, self.dst_sessions, self.dst_messages)

    @property
    def columns(self) -> dict[str, tuple[str, ...]]:
        """The columns the merge reads and writes, per table."""
        return {self.src_sessions: ("id", "userId", "title", "createdAt", "updatedAt"),
                self.src_messages: ("id", "conversationId", "role", "content", "createdAt"),
                self.dst_sessions: ("id", "userId", "title", "lastMessageAt", "createdAt", "updatedAt"),
                self.dst_messages: ("id", "sessionId", "role", "content", "createdAt")}


def tables_of(mapping=None) -> Tables:
    """The mapping's ``[merge]`` tables; bad input when it has none."""
    from ..mapping import Mapping, load_mapping

    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    if m.merge is None:
        raise BadInput(f"the mapping {m.source} has no [merge] section: nothing to merge")
    g = m.merge
    return Tables(g.conversations_from, g.messages_from, g.conversations_into, g.messages_into)


def require_renamed(conn, t: Tables, schema: str):
    """Refuse unless the rename has committed: a completed runbook migrate recorded, and
    the four tables in the shape the merge expects. Returns the catalog snapshot."""
    from .. import state
    from ..catalog.inspect import inspect

    snap = inspect(conn)
    for name, cols in t.columns.items():
        table = snap.table(schema, name)
        if table is None:
            raise WrongState(f"merge-legacy runs after the rename has committed: table {schema}.{name} does not exist "
                             "(run `runbook migrate` first)", table=name)
        gone = [c for c in cols if table.column(c) is None]
        if gone:
            raise WrongState(f"{schema}.{name} has no column {gone[0]!r}: not the shape merge-legacy expects", table=name)
    if state.last_run(conn) is None:
        raise WrongState("merge-legacy runs after the rename has committed: no completed `runbook migrate` is "
                         "recorded in this database")
    conn.commit()
    return snap


def has_user_triggers(snap, schema: str, table: str) -> bool:
    t = snap.table(schema, table)
    return any(tr.enabled != "D" for tr in snap.triggers_on(t.oid))
