"""The order in which the lock phase locks the plan's tables."""

from __future__ import annotations

from ..catalog.inspect import Snapshot
from ..naming import qq


def _lock_through_parents(snap: Snapshot, quoted: list[str]) -> list[str]:
    """``LOCK TABLE`` on a partitioned table or an inheritance parent locks its partitions
    and children too, parent first, as a query through the parent does
    (https://www.postgresql.org/docs/current/sql-lock.html): a mapped partition whose
    ancestor is locked is left to that ancestor, so it is never locked before it."""
    by_q = {qq(t.schema, t.name): t for t in snap.tables}
    locked = {by_q[x].oid for x in quoted if x in by_q}
    return [x for x in quoted if x not in by_q or not any(a.oid in locked for a in snap.ancestors(by_q[x].oid))]


def _children_first(snap: Snapshot, schema: str, quoted: list[str]) -> list[str]:
    """Order the tables to lock so that a table comes before the tables it references.

    A service transaction locks a child (insert a message) and then its parent (the
    foreign key check, a trigger touching the session). Taking the parents first would
    hold them while waiting for the child: a deadlock. Children first, we wait holding
    nothing the service still needs.
    """
    by_q = {qq(t.schema, t.name): t for t in snap.tables}
    tabs = [by_q.get(x) for x in quoted]
    oids = {t.oid for t in tabs if t}
    parents = {t.oid: {c.ref_table_oid for c in snap.constraints_of(t.oid) if c.type == "f"
                       and c.ref_table_oid in oids and c.ref_table_oid != t.oid} for t in tabs if t}
    children_of: dict[int, set[int]] = {o: set() for o in oids}
    for child, ps in parents.items():
        for p_ in ps:
            children_of[p_].add(child)
    out: list[str] = []
    placed: set[int] = set()
    pending = [(x, t) for x, t in zip(quoted, tabs)]
    while pending:
        progress = False
        for x, t in list(pending):
            # place a table once every table that references it is placed
            if t is None or children_of.get(t.oid, set()) <= placed:
                out.append(x)
                pending.remove((x, t))
                if t is not None:
                    placed.add(t.oid)
                progress = True
        if not progress:  # a cycle of foreign keys: keep the given order for the rest
            out.extend(x for x, _ in pending)
            break
    return out
