"""The compat views of a plan (``migrate --compat-views``, the mapping's ``compat_views``):
one :class:`runbook.ops.CreateCompatView` for each mapped table that has or gets its new
name, under its old name, in the mapping's ``compat_schema`` (default: its schema)."""

from __future__ import annotations

import re
from dataclasses import replace

from ..catalog.inspect import Snapshot, Table
from ..mapping import Mapping, TableMapping
from ..ops import CreateCompatView, KeepFilling, SetNotNull
from .model import Blocker, TableState


def compat_view_ops(snap: Snapshot, mapping: Mapping, states: list[TableState]) -> tuple[list, list[Blocker]]:
    """The views, and a blocker for each old name another relation holds."""
    S = mapping.schema
    vs = mapping.compat_schema or S
    names = snap.relation_names()
    ops, blockers = [], []
    for tm, st in zip(mapping.tables, states):
        if st.state not in ("todo", "done"):
            continue
        cur = snap.table_by_oid(st.oid)
        freed = vs == S and st.state == "todo"  # the table itself leaves the name
        if not freed and f"{vs}.{tm.old}" in names:
            blockers.append(Blocker("conflict", f"{vs}.{tm.old}",
                                    f"the compat view's name {tm.old!r} is taken by a {names[f'{vs}.{tm.old}']}",
                                    code="RB104"))
            continue
        cols, legacy, defaults = _columns(tm, cur)
        ops.append(CreateCompatView(S, vs, tm.old, tm.new, cols, legacy, defaults, grants(cur.acl)))
    return ops, blockers


def grants(acl: str) -> tuple[str, ...]:
    """The table's privileges a view can carry (SELECT, INSERT, UPDATE, DELETE), per role,
    read from its ``relacl`` text (``{alice=arwd/owner,=r/owner}``; ``""``: the default,
    the owner's only, which the view's owner has too)."""
    out = []
    for m in re.finditer(r'(?:^|,)(?:"((?:[^"]|"")*)"|([^=,"]*))=([a-zA-Z*]*)/', acl.strip("{}")):
        role = m.group(1).replace('""', '"') if m.group(1) is not None else m.group(2)
        privs = "".join(p for p in "rawd" if p in m.group(3))
        if privs:
            out.append(f"{privs}:{role}")
    return tuple(out)


def _columns(tm: TableMapping, cur: Table) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The table's columns as they are before the plan's column renames, their legacy
    names (a column renamed by hand already gets its old name back), and the defaults the
    legacy client had: the table's own (a filled column is :func:`keep_filling`'s)."""
    cols, legacy, defaults = [], [], []
    for c in cur.columns:
        rc = next((r for r in tm.rename_columns if c.name in (r.old, r.new)), None)
        cols.append(c.name)
        legacy.append(rc.old if rc and c.name == rc.new and cur.column(rc.old) is None else c.name)
        defaults.append(c.default or "")
    return tuple(cols), tuple(legacy), tuple(defaults)


def keep_filling(not_null: list, views: list) -> list[KeepFilling]:
    """For each column the plan fills and makes NOT NULL on a table that gets a view: its
    fill trigger again, under the new names (the legacy client may still write NULL)."""
    viewed = {(v.schema, v.table_name) for v in views}
    return [KeepFilling(replace(o.fill, table_name=o.table_name, column=o.column)) for o in not_null
            if isinstance(o, SetNotNull) and o.fill is not None and (o.schema, o.table_name) in viewed]
