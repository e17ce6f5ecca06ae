"""Compatibility views (expand / contract, as pgroll and GitLab's ``rename_table_safely``
do): a view under a renamed table's old name, selecting the new table with the legacy
column names, so that a service not yet redeployed keeps working. Catalog-only, in the
lock phase, right after the table renames and before the column renames (a view reads
its table's columns by number, so it follows the column renames made after it, and the
defaults it copies still name the sequences by the names they have then).

A simple view over one table is automatically updatable: INSERT, UPDATE, DELETE and
RETURNING through it reach the table. Its columns get the table's defaults as they were
before the plan, so that a legacy INSERT that leaves them out behaves as before; a filled
column, NOT NULL now, keeps its fill trigger (:class:`KeepFilling`) while the views live.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..naming import literal, q, qq
from .base import SET_CHECKS, Op, _reg, identifier_problem, operation
from .fills import FillNulls
from .names import RenameTable


@operation
@dataclass(frozen=True)
class CreateCompatView(Op):
    schema: str  # the table's schema
    view_schema: str
    view: str  # the legacy (old) table name
    table_name: str  # the table's name when the view is made (its new name)
    columns: tuple[str, ...]  # the table's columns, named as they are when the view is made
    legacy: tuple[str, ...]  # the view's columns: the legacy names, in the same order
    defaults: tuple[str, ...]  # per column: its default (SQL), "" for none
    #: the table's grants the view repeats: "<privileges>:<role>", privileges letters of
    #: ``r`` SELECT, ``a`` INSERT, ``w`` UPDATE, ``d`` DELETE (aclitem's), role "" for PUBLIC
    grants: tuple[str, ...] = ()
    kind = "create compat view"
    changes = ((None, "view"),)
    name_scope = "relation"
    identifiers = ("schema", "view_schema", "view", "table_name")
    identifier_lists = ("columns", "legacy")

    def _validate(self):
        n = len(self.columns) if isinstance(self.columns, tuple) else -1
        ok = isinstance(self.defaults, tuple) and len(self.defaults) == n and all(isinstance(d, str)
                                                                                  for d in self.defaults)
        return [None if ok else "defaults is not one text a column",
                None if isinstance(self.grants, tuple) and all(_grant_problem(g) is None for g in self.grants)
                else "grants are not privileges:role pairs",
                None if isinstance(self.legacy, tuple) and len(self.legacy) == n
                else "legacy and columns differ in length",
                "the view would have the table's own name"
                if (self.view_schema, self.view) == (self.schema, self.table_name) else None]

    def _view(self) -> str:
        return qq(self.view_schema, self.view)

    def statements(self):
        cols = ", ".join(q(c) for c in self.legacy)
        out = [f"CREATE VIEW {self._view()} ({cols}) AS SELECT {', '.join(q(c) for c in self.columns)} "
               f"FROM {qq(self.schema, self.table_name)}"]
        # one statement for all the defaults, one a set of privileges: each statement under
        # the lock costs its round of parsing and locking (bench/lock.py --compat-views)
        defaults = [f"ALTER COLUMN {q(c)} SET DEFAULT {d}" for c, d in zip(self.legacy, self.defaults) if d]
        if defaults:
            out.append(f"ALTER TABLE {self._view()} {', '.join(defaults)}")
        roles: dict[str, list[str]] = {}
        for g in self.grants:
            privs, _, role = g.partition(":")
            roles.setdefault(privs, []).append(q(role) if role else "PUBLIC")
        out += [f"GRANT {', '.join(PRIVILEGES[p] for p in privs)} ON {self._view()} TO {', '.join(who)}"
                for privs, who in roles.items()]
        return out

    def reverse(self):
        return DropCompatView(**{f: getattr(self, f) for f in self.__dataclass_fields__})

    def exists_sql(self) -> str:
        return f"EXISTS (SELECT 1 FROM pg_class WHERE oid = {_reg(self.view_schema, self.view)} AND relkind = 'v')"

    def check(self):
        """A view (not a table) under the old name, with the legacy columns in order, whose
        rule reads the table."""
        return f"NOT ({_view_fails(*(literal(x) for x in self.set_check_values()))})"

    set_check = "compat view"

    def set_check_values(self):
        return qq(self.view_schema, self.view), qq(self.schema, self.table_name), json.dumps(list(self.legacy))

    def describe(self):
        return f"create compat view {self.view_schema}.{self.view} over {self.table_name} (legacy names)"


def _view_fails(view: str, table: str, names: str) -> str:
    """SQL true when ``view`` (SQL text: a qualified, quoted name) is not a view whose
    columns are ``names`` (a JSON array) in order and whose rule reads ``table``: one
    CreateCompatView's check, or, over ``v``, the set form of all of them (a check each
    costs a query plan each: ~0.5 ms a view under the lock, bench/lock.py --compat-views)."""
    return (f"NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = to_regclass({view}) AND c.relkind = 'v') "
            f"OR (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = "
            f"to_regclass({view}) AND a.attnum > 0) IS DISTINCT FROM ARRAY(SELECT jsonb_array_elements_text("
            f"({names})::jsonb)) "
            f"OR NOT EXISTS (SELECT 1 FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass "
            f"AND d.objid = r.oid WHERE r.ev_class = to_regclass({view}) AND d.refobjid = to_regclass({table}))")


SET_CHECKS["compat view"] = (("view", "tbl", "names"), _view_fails("v.view", "v.tbl", "v.names"))


@operation
@dataclass(frozen=True)
class DropCompatView(CreateCompatView):
    """The view dropped (``RESTRICT``: a view someone built on it stops the drop)."""

    kind = "drop compat view"

    def statements(self):
        return [f"DROP VIEW {self._view()}"]

    def reverse(self):
        return CreateCompatView(**{f: getattr(self, f) for f in self.__dataclass_fields__})

    def check(self):
        return f"NOT {self.exists_sql()}"

    set_check = None

    def describe(self):
        return f"drop compat view {self.view_schema}.{self.view}"


@operation
@dataclass(frozen=True)
class KeepFilling(Op):
    """While the compat views serve legacy clients, a filled column, NOT NULL now, keeps
    its fill trigger (under the table's and column's new names, after the ``SET NOT
    NULL`` that dropped it): a legacy INSERT or UPDATE that writes NULL, or leaves the
    column out, gets the placeholder, and the row is recorded in ``runbook.filled``, so
    that the rollback puts back the NULL the legacy client wrote. (A BEFORE trigger runs
    before the NOT NULL is checked; the view stays automatically updatable.)"""

    fill: FillNulls
    kind = "keep filling"
    changes = ()  # its trigger and function: names no other step's check reads

    @property
    def schema(self):
        return self.fill.schema

    @property
    def table_name(self):
        return self.fill.table_name

    def _validate(self):
        return ["fill is not a fill of NULLs"] if type(self.fill) is not FillNulls else self.fill.validate()

    def statements(self):
        return self.fill.install_statements()  # its function is SECURITY DEFINER (FillNulls)

    def reverse(self):
        return StopFilling(self.fill)

    def check(self):
        return (f"EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = {_reg(self.schema, self.table_name)} "
                f"AND tgname = {literal(self.fill.trigger)})")

    def describe(self):
        return f"keep filling NULL {self.table_name}.{self.fill.column} for the legacy clients (recorded)"


@operation
@dataclass(frozen=True)
class StopFilling(KeepFilling):
    kind = "stop filling"

    def statements(self):
        t = qq(self.schema, self.table_name)
        return [f"DROP TRIGGER {q(self.fill.trigger)} ON {t}", f"DROP FUNCTION {self.fill.func}()"]

    def reverse(self):
        return KeepFilling(self.fill)

    def check(self):
        return f"NOT {super().check()}"

    def describe(self):
        return f"stop filling NULL {self.table_name}.{self.fill.column}"


PRIVILEGES = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}


def _grant_problem(g) -> str | None:
    if not isinstance(g, str) or ":" not in g:
        return "not a grant"
    privs, _, role = g.partition(":")
    if not privs or set(privs) - set(PRIVILEGES):
        return "unknown privilege"
    return identifier_problem(role, "role") if role else None


def end_checks(ops) -> list[str]:
    """Each operation's check as it reads once all of ``ops`` ran. A table renamed away
    from a name that a compat view of the same plan then took is checked as renamed with
    that view (not a table) under its old name; the view's own check says what it reads.
    Without views, exactly the operations' own checks."""
    views = {(o.view_schema, o.view) for o in ops if type(o) is CreateCompatView}
    return [_renamed_under_view(o) if isinstance(o, RenameTable) and (o.schema, o.old) in views else o.check()
            for o in ops]


def _renamed_under_view(o: RenameTable) -> str:
    return (f"({_reg(o.schema, o.new)} IS NOT NULL AND EXISTS (SELECT 1 FROM pg_class "
            f"WHERE oid = {_reg(o.schema, o.old)} AND relkind = 'v'))")


def without_views(ops) -> tuple:
    """``ops`` less their compat views and the fills kept for them (once a contract has
    dropped them)."""
    return tuple(o for o in ops if type(o) not in (CreateCompatView, KeepFilling))
