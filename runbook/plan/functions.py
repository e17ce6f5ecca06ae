"""Functions whose bodies name a renamed table: rewritten, or a blocker.

Bodies are read by PostgreSQL's parser (:mod:`runbook.sqlbody`): a reference is renamed
only where it resolves to a renamed table of the plan's schema (or a renamed column of
one). Bodies in other languages that name a renamed table are blockers.
"""

from __future__ import annotations

from ..catalog.inspect import Snapshot
from ..ops import Op, RenameColumn, ReplaceFunction
from ..rewrite import UnsafeRewrite, names_any, rewrite_definition
from .model import Blocker


def function_ops(snap: Snapshot, schema: str, renamed: dict[str, str], column_ops: list[Op]
                 ) -> tuple[list[Op], list[Blocker]]:
    """The ``ReplaceFunction`` operations and the blockers for the functions of ``snap``,
    given the table renames (old -> new) and the column renames of the plan."""
    from ..sqlbody import REWRITABLE_LANGUAGES, BodyError, TableRename, analyze, apply_edits

    fn_renames = [TableRename(schema, old, new, {o.old: o.new for o in column_ops
                                                 if isinstance(o, RenameColumn) and o.table_name == new})
                  for old, new in renamed.items()]
    watched = set(renamed) | {c for r in fn_renames for c in r.columns}
    ops: list[Op] = []
    blockers: list[Blocker] = []
    for fn in snap.functions:
        if not fn.source:
            continue  # BEGIN ATOMIC bodies are parsed and follow OIDs
        if fn.language not in REWRITABLE_LANGUAGES:
            hits = names_any(fn.source, set(renamed))
            if hits:
                blockers.append(Blocker("unsafe function", fn.signature,
                                        f"{fn.language} function names {sorted(hits)[0]!r}; "
                                        "runbook rewrites only SQL and PL/pgSQL bodies", code="RB102"))
            continue
        try:
            body = analyze(fn.language, fn.source, fn.definition, snap.sql_catalog, fn.search_path(snap.current_user),
                           fn_renames, snap.trigger_tables_of(fn))
        except BodyError as exc:
            if names_any(fn.source, watched):
                blockers.append(Blocker("unsafe function", fn.signature,
                                        f"its body could not be parsed ({exc}); rewrite it by hand before migrating",
                                        code="RB101"))
            continue
        if body.unsafe:
            blockers.append(Blocker("unsafe function", fn.signature,
                                    f"{'; '.join(body.unsafe)}; rewrite it by hand before migrating", code="RB101"))
            continue
        if not body.edits:
            continue
        try:
            new_src = apply_edits(fn.source, body.edits)
            new_def = rewrite_definition(fn.definition or "", fn.source, new_src)
        except (UnsafeRewrite, BodyError) as exc:
            blockers.append(Blocker("unsafe function", fn.signature, f"{exc}; rewrite it by hand before migrating",
                                    code="RB101"))
            continue
        if new_src != fn.source:
            ops.append(ReplaceFunction(fn.signature, fn.regprocedure, fn.definition, new_def, new_src))
    return ops, blockers
