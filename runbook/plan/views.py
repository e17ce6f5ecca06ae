"""The compat views of a plan (``migrate --compat-views``, the mapping's ``compat_views``):
for each mapped table that has or gets its new name, a view under its old name, in the
mapping's ``compat_schema`` (default: its schema). Each is made online under a staged name
(:class:`runbook.ops.StageCompatView`, prepare phase) and renamed to the old name in the
lock window (:class:`runbook.ops.RenameCompatView`).

A view reads its table with its owner's rights, and carries the table's grants (on the
table and on single columns, under the legacy names): a role may do through the view what
it could do on the table. Row-level security is the exception: its policies would then
apply to the view's owner (the migrating role, often the table's owner, whom they do not
bind), so the view of a table with row-level security is ``security_invoker``
(PostgreSQL 15+): policies and privileges apply to the role that queries it. (Such a view
checks that role's privileges on every column it selects, so a role granted only some
columns of that table is refused through it: closed, not open.) Before PostgreSQL 15 the
view of a table with row-level security would show every row: a blocker (RB115)."""

from __future__ import annotations

import re
from dataclasses import replace

from ..catalog.inspect import Snapshot, Table
from ..mapping import Mapping, TableMapping
from ..ops import KeepFilling, RenameColumn, RenameCompatView, SetNotNull, StageCompatView, staged_name
from .model import Blocker, TableState


#: PostgreSQL 15 added ``security_invoker`` views
INVOKER_VERSION = 150000


def compat_view_ops(snap: Snapshot, mapping: Mapping, states: list[TableState]) -> tuple[list, list, list[Blocker]]:
    """The views' prepare steps (staged), their lock steps (renamed to the old names), and
    a blocker for each old or staged name another relation holds, for a compat schema
    that does not exist, and for a table with row-level security before PostgreSQL 15."""
    S = mapping.schema
    vs = mapping.compat_schema or S
    if snap.schemas and vs not in snap.schemas:
        return [], [], [Blocker("conflict", vs, f"the compat views' schema {vs!r} does not exist: create it "
                                "(and grant the legacy services USAGE on it) before the run", code="RB114")]
    names = snap.relation_names()
    stage, rename, blockers = [], [], []
    for tm, st in zip(mapping.tables, states):
        if st.state not in ("todo", "done"):
            continue
        cur = snap.table_by_oid(st.oid)
        freed = vs == S and st.state == "todo"  # the table itself leaves the name
        staged = staged_name(vs, tm.old)
        taken = [n for n in ((None if freed else tm.old), staged) if n and f"{vs}.{n}" in names]
        if taken:
            blockers += [Blocker("conflict", f"{vs}.{n}", f"the compat view's {'staged ' if n == staged else ''}"
                                 f"name {n!r} is taken by a {names[f'{vs}.{n}']}", code="RB104") for n in taken]
            continue
        if cur.rls and snap.server_version < INVOKER_VERSION:
            blockers.append(Blocker("conflict", f"{S}.{cur.name}", "the table has row-level security, which a "
                                    f"compat view cannot keep before PostgreSQL 15 (this server is "
                                    f"{snap.server_version // 10000}): its view would show every row", code="RB115"))
            continue
        cols, legacy, defaults = _columns(tm, cur)
        col_grants, grant_cols = column_grants(cur, dict(zip(cols, legacy)))
        view = dict(columns=cols, legacy=legacy, defaults=defaults, grants=grants(cur.acl), invoker=cur.rls,
                    column_grants=col_grants, grant_columns=grant_cols)
        stage.append(StageCompatView(S, vs, staged, cur.name, **view))
        rename.append(RenameCompatView(S, vs, tm.old, tm.new, **view, staged=staged))
    return stage, rename, blockers


def column_grants(cur: Table, legacy: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The table's grants on single columns (SELECT, INSERT, UPDATE), as the view's grants
    on the same columns under their legacy names: a role granted only some columns of the
    table gets the same columns of the view."""
    out, cols = [], []
    for c in cur.columns:
        for g in grants(c.acl):
            privs = "".join(p for p in g.partition(":")[0] if p in "raw")
            if privs:
                out.append(f"{privs}:{g.partition(':')[2]}")
                cols.append(legacy.get(c.name, c.name))
    return tuple(out), tuple(cols)


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


def keep_filling(not_null: list, views: list, columns: list) -> list:
    """``not_null`` with, for each column the plan fills and makes NOT NULL on a table that
    gets a view, its fill kept (the legacy client may still write NULL): the ``SET NOT
    NULL`` keeps the fill's trigger (it follows its table and column by number), and a
    :class:`KeepFilling` after it replaces the trigger's function under the new names when
    the plan renames the column or the key the function names (one statement in the lock
    window, not the five of dropping and making them again). ``columns``: the plan's
    column renames."""
    viewed = {(v.schema, v.table_name) for v in views}  # the lock steps': the tables' new names
    renamed = {(o.schema, o.table_name, o.old): o.new for o in columns if isinstance(o, RenameColumn)}
    out = []
    for o in not_null:
        if not (isinstance(o, SetNotNull) and o.fill is not None and (o.schema, o.table_name) in viewed):
            out.append(o)
            continue
        pk = renamed.get((o.schema, o.table_name, o.fill.pk), o.fill.pk)
        kept = replace(o.fill, table_name=o.table_name, column=o.column, pk=pk)
        same = (o.fill.column, o.fill.pk) == (kept.column, kept.pk)
        out += [replace(o, keep_fill=True), KeepFilling(kept, mode="keep" if same else "replace function")]
    return out
