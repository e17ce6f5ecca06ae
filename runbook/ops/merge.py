"""The legacy merge's work (``runbook merge-legacy``, see :mod:`runbook.merge`): legacy
conversations and their messages copied into the service's sessions and messages in
batches, every inserted id recorded in ``runbook.merged`` so that the reverse deletes
exactly those rows, batch by batch.

The statements are parametrised (psycopg2's ``%(name)s``): the runner of
:mod:`runbook.merge.run` passes the run, the batch number, the keyset cursor and the
batch's size, and takes the placeholder title and the id prefix from the operation
(:meth:`MergeLegacy.batch_params`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..naming import literal, qq
from .base import FINISH, Op, operation

#: Legacy message ``id`` 123 becomes ``legacy-msg-123``.
MESSAGE_ID_PREFIX = "legacy-msg-"
#: The title of a legacy conversation whose title is NULL (the same placeholder the
#: rename gives a NULL ``sessionName``, see runbook/data/mapping.toml).
PLACEHOLDER_TITLE = "Untitled chat"
#: about this many legacy messages per transaction of the merge (whole conversations)
DEFAULT_BATCH = 10_000


@dataclass(frozen=True)
class _LegacyMerge(Op):
    """The fields both directions share: the schema, the four tables, the merge run and
    its rules (placeholder title, message id prefix)."""

    schema: str
    src_sessions: str
    src_messages: str
    dst_sessions: str
    dst_messages: str
    run: int
    placeholder: str = PLACEHOLDER_TITLE
    prefix: str = MESSAGE_ID_PREFIX
    phase = FINISH  # online, after the rename has committed
    identifiers = ("schema", "src_sessions", "src_messages", "dst_sessions", "dst_messages")
    texts = ("placeholder", "prefix")

    def _s(self, table: str) -> str:
        return qq(self.schema, table)

    def _validate(self):
        ok = isinstance(self.run, int) and not isinstance(self.run, bool) and self.run > 0
        return [None if ok else "run is not a merge run id"]


@operation
@dataclass(frozen=True)
class MergeLegacy(_LegacyMerge):
    """Insert the legacy conversations as sessions (same id) and their messages (id
    ``prefix || id``), whole conversations per batch; an id already in the target is not
    overwritten but listed in ``runbook.merge_skipped``, with the messages of a
    conversation that was not merged. Each batch records its ids and advances the run's
    cursor in the same statement, so a killed run resumes where it stopped."""

    kind = "merge legacy"

    def batch_statement(self, first: bool) -> str:
        """One batch: the next ``%(k)s`` legacy conversations after ``%(after)s`` (by id) and
        all their messages, inserted, recorded, skipped rows listed, cursor advanced."""
        s = self._s
        where = "" if first else "WHERE c.id > %(after)s"
        return f"""
WITH conv AS (
    SELECT c.id, c."userId", c.title, c."createdAt", c."updatedAt"
    FROM {s(self.src_sessions)} c {where}
    ORDER BY c.id
    LIMIT %(k)s
), msg AS (
    -- one index scan per conversation, never a scan of the whole legacy table per batch
    -- (OFFSET 0 keeps the planner from flattening the LATERAL subquery into a hash join:
    -- https://www.postgresql.org/docs/current/queries-table-expressions.html#QUERIES-LATERAL)
    SELECT m.id, m."conversationId", m.role, m.content, m."createdAt"
    FROM conv CROSS JOIN LATERAL (
        SELECT * FROM {s(self.src_messages)} x WHERE x."conversationId" = conv.id OFFSET 0) m
), newest AS (
    SELECT "conversationId" AS id, max("createdAt") AS at FROM msg GROUP BY 1
), s_ins AS (
    INSERT INTO {s(self.dst_sessions)} (id, "userId", title, "lastMessageAt", "createdAt", "updatedAt")
    SELECT conv.id, conv."userId", coalesce(conv.title, %(placeholder)s), newest.at, conv."createdAt", conv."updatedAt"
    FROM conv LEFT JOIN newest ON newest.id = conv.id
    ORDER BY conv.id
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), m_ins AS (
    INSERT INTO {s(self.dst_messages)} (id, "sessionId", role, content, "createdAt")
    SELECT %(prefix)s || msg.id, msg."conversationId", msg.role, msg.content, msg."createdAt"
    FROM msg JOIN s_ins ON s_ins.id = msg."conversationId"
    ORDER BY msg."conversationId", msg."createdAt", msg.id
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), rec AS (
    INSERT INTO runbook.merged (run, batch, target, ids)
    SELECT %(run)s, %(batch)s, {literal(self.dst_sessions)}, coalesce((SELECT array_agg(id) FROM s_ins), '{{}}')
    UNION ALL
    SELECT %(run)s, %(batch)s, {literal(self.dst_messages)}, coalesce((SELECT array_agg(id) FROM m_ins), '{{}}')
), skip_s AS (
    INSERT INTO runbook.merge_skipped (run, source, source_id, target, target_id, reason)
    SELECT %(run)s, {literal(self.src_sessions)}, conv.id, {literal(self.dst_sessions)}, conv.id,
           {literal('id already in ' + self.dst_sessions)}
    FROM conv LEFT JOIN s_ins ON s_ins.id = conv.id
    WHERE s_ins.id IS NULL
), skip_m AS (
    INSERT INTO runbook.merge_skipped (run, source, source_id, target, target_id, reason)
    SELECT %(run)s, {literal(self.src_messages)}, msg.id::text, {literal(self.dst_messages)}, %(prefix)s || msg.id,
           CASE WHEN s_ins.id IS NULL THEN 'its conversation ' || msg."conversationId" || ' was not merged'
                ELSE {literal('id already in ' + self.dst_messages)} END
    FROM msg LEFT JOIN s_ins ON s_ins.id = msg."conversationId"
             LEFT JOIN m_ins ON m_ins.id = %(prefix)s || msg.id
    WHERE m_ins.id IS NULL
), adv AS (
    UPDATE runbook.merge_runs SET cursor = coalesce((SELECT max(id) FROM conv), cursor), batches = batches + 1
    WHERE id = %(run)s
)
SELECT (SELECT count(*) FROM conv), (SELECT count(*) FROM s_ins), (SELECT count(*) FROM msg),
       (SELECT count(*) FROM m_ins), (SELECT array_agg(id) FROM s_ins)
"""

    def batch_params(self, batch: int, after: str | None, k: int) -> dict:
        """The parameters of :meth:`batch_statement` for batch number ``batch``."""
        return {"after": after, "k": k, "placeholder": self.placeholder, "prefix": self.prefix, "run": self.run,
                "batch": batch}

    def fixup_statement(self) -> str:
        """Triggers on the target (a trigger that touches the session of each new message) set
        ``lastMessageAt`` per inserted row; put back the newest message's time (``%(ids)s``:
        the sessions the batch inserted)."""
        return f"""
UPDATE {self._s(self.dst_sessions)} s SET "lastMessageAt" = n.at
FROM (SELECT m."conversationId" AS id, max(m."createdAt") AS at FROM {self._s(self.src_messages)} m
      WHERE m."conversationId" = ANY(%(ids)s) GROUP BY 1) n
WHERE s.id = n.id AND s."lastMessageAt" IS DISTINCT FROM n.at
"""

    def statements(self):
        # One batch as the runner runs it (after the first): the batch, then the fixup
        # when the target has triggers.
        return [self.batch_statement(first=False), self.fixup_statement()]

    def covered(self, source: str) -> str:
        """True when every row of the legacy table ``source`` is merged or listed as skipped."""
        target = self.dst_sessions if source == self.src_sessions else self.dst_messages
        return (f"(SELECT count(*) FROM {self._s(source)}) = "
                f"(SELECT coalesce(sum(cardinality(r.ids)), 0) FROM runbook.merged r WHERE r.run = {int(self.run)} "
                f"AND r.target = {literal(target)}) + "
                f"(SELECT count(*) FROM runbook.merge_skipped k WHERE k.run = {int(self.run)} "
                f"AND k.source = {literal(source)})")

    def check(self):
        return f"({self.covered(self.src_sessions)}) AND ({self.covered(self.src_messages)})"

    def reverse(self):
        return UnmergeLegacy(self.schema, self.src_sessions, self.src_messages, self.dst_sessions, self.dst_messages,
                             self.run, self.placeholder, self.prefix)

    def describe(self):
        return (f"merge legacy {self.src_sessions} and {self.src_messages} into {self.dst_sessions} and "
                f"{self.dst_messages} (batched, recorded)")


@operation
@dataclass(frozen=True)
class UnmergeLegacy(_LegacyMerge):
    """Delete exactly the rows a merge run recorded, one recorded batch at a time (newest
    first), each batch forgetting its record in the same transaction (so it resumes). A
    merged session that now holds messages the merge did not write is kept."""

    kind = "unmerge legacy"

    def next_batch_statement(self) -> str:
        """The newest batch still recorded (no row when none is left)."""
        return "SELECT batch FROM runbook.merged WHERE run = %(run)s ORDER BY batch DESC LIMIT 1"

    def batch_ids_statement(self) -> str:
        """The ids batch ``%(batch)s`` recorded, one row per target."""
        return "SELECT target, ids FROM runbook.merged WHERE run = %(run)s AND batch = %(batch)s"

    def delete_messages_statement(self) -> str:
        return f"DELETE FROM {self._s(self.dst_messages)} WHERE id = ANY(%(messages)s)"

    def lock_sessions_statement(self) -> str:
        """Lock the sessions first: a message the service inserts now waits for us (its
        foreign key check), and one committed before is seen by the DELETE."""
        return f"SELECT id FROM {self._s(self.dst_sessions)} WHERE id = ANY(%(sessions)s) FOR UPDATE"

    def delete_sessions_statement(self) -> str:
        """The recorded sessions that hold no message, deleted (returns their ids)."""
        s = self._s
        return (f"DELETE FROM {s(self.dst_sessions)} t WHERE t.id = ANY(%(sessions)s) AND NOT EXISTS "
                f"(SELECT 1 FROM {s(self.dst_messages)} m WHERE m.\"sessionId\" = t.id) RETURNING t.id")

    def remaining_sessions_statement(self) -> str:
        """The recorded sessions still there after the delete (kept)."""
        return f"SELECT id FROM {self._s(self.dst_sessions)} WHERE id = ANY(%(sessions)s)"

    def forget_batch_statement(self) -> str:
        return "DELETE FROM runbook.merged WHERE run = %(run)s AND batch = %(batch)s"

    def batch_params(self, batch: int | None = None, messages=(), sessions=()) -> dict:
        return {"run": self.run, "batch": batch, "messages": list(messages), "sessions": list(sessions)}

    def statements(self):
        # One batch, in order: find it, read its ids, delete the messages, lock the sessions,
        # delete those without messages, list the kept ones, forget the batch.
        return [self.next_batch_statement(), self.batch_ids_statement(), self.delete_messages_statement(),
                self.lock_sessions_statement(), self.delete_sessions_statement(),
                self.remaining_sessions_statement(), self.forget_batch_statement()]

    def check(self):
        return f"NOT EXISTS (SELECT 1 FROM runbook.merged WHERE run = {int(self.run)})"

    def reverse(self):
        return None

    def describe(self):
        return f"delete the rows merge run {self.run} inserted into {self.dst_sessions} and {self.dst_messages}"
