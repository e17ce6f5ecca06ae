"""Compatibility views (expand / contract, as pgroll and GitLab's ``rename_table_safely``
do): a view under a renamed table's old name, selecting the new table with the legacy
column names, so that a service not yet redeployed keeps working.

A plan makes each view in two steps, so that its lock window holds one catalog rename a
view, not the view's creation (``CREATE VIEW``, its defaults and grants cost about 0.35 ms
a view under the lock, ``bench/lock.py --compat-views``):

- :class:`StageCompatView`, online in the prepare phase: the view under a staged name of
  runbook's own, over the table as it is named then. A view reads its table by oid and
  its columns by number, so it follows the table and column renames of the lock window;
  its defaults name the sequences by oid (``nextval('...'::regclass)``), so they follow
  the sequence renames too.
- :class:`RenameCompatView`, in the lock phase, right after the table renames (the old
  name is free then): the staged view renamed to the table's old name.

:class:`CreateCompatView` is the view made at once, as plans made before the staging did
(still read back from ``runbook.runs``), and as a contract's ``--undo`` re-creates it.

A simple view over one table is automatically updatable: INSERT, UPDATE, DELETE and
RETURNING through it reach the table. Its columns get the table's defaults as they were
before the plan, so that a legacy INSERT that leaves them out behaves as before; a filled
column, NOT NULL now, keeps its fill trigger (:class:`KeepFilling`) while the views live.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from ..naming import literal, q, qq
from .base import PREPARE, SET_CHECKS, Op, _reg, identifier_problem, operation
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
    #: ``security_invoker`` (PostgreSQL 15+): the table's privileges and row-level security
    #: are checked as the role that queries the view, not as the view's owner (the plan sets
    #: it for a table with row-level security). None (a plan stored before it): False
    invoker: bool | None = None
    #: the grants on single columns of the table ("<privileges>:<role>", ``r``/``a``/``w``),
    #: and the columns they are on, under their legacy names (the view's), one a grant
    column_grants: tuple[str, ...] | None = None
    grant_columns: tuple[str, ...] | None = None
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
                None if self.invoker in (None, True, False) else "invoker is not true or false",
                _column_grants_problem(self.column_grants, self.grant_columns),
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
        opts = " WITH (security_invoker = true)" if self.invoker else ""
        out = [f"CREATE VIEW {self._view()} ({cols}){opts} AS SELECT {', '.join(q(c) for c in self.columns)} "
               f"FROM {qq(self.schema, self.table_name)}"]
        # one statement for all the defaults, one a set of privileges: each statement under
        # the lock costs its round of parsing and locking (bench/lock.py --compat-views)
        defaults = [f"ALTER COLUMN {q(c)} SET DEFAULT {d}" for c, d in zip(self.legacy, self.defaults) if d]
        if defaults:
            out.append(f"ALTER TABLE {self._view()} {', '.join(defaults)}")
        roles: dict[tuple[str, str], list[str]] = {}
        for g, column in [(g, "") for g in self.grants] + list(zip(self.column_grants or (), self.grant_columns or ())):
            privs, _, role = g.partition(":")
            roles.setdefault((privs, column), []).append(q(role) if role else "PUBLIC")
        out += [f"GRANT {', '.join(PRIVILEGES[p] + (f' ({q(col)})' if col else '') for p in privs)} "
                f"ON {self._view()} TO {', '.join(who)}" for (privs, col), who in roles.items()]
        return out

    def reverse(self):
        return self._as(DropCompatView)

    def _as(self, cls):
        """This view as an operation of kind ``cls`` (its fields that ``cls`` has)."""
        return cls(**{f: getattr(self, f) for f in cls.__dataclass_fields__})

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
    costs a query plan each: ~0.5 ms a view under the lock, bench/lock.py --compat-views).
    Each part is a scalar subquery on the catalog's indexes: written as ``EXISTS``, the
    planner hashed the whole of ``pg_class``'s views and ``pg_depend``'s rule
    dependencies once per window (0.82 ms for six views, against 0.20 ms now)."""
    return (f"(SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass({view})) IS DISTINCT FROM 'v' "
            f"OR (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = "
            f"to_regclass({view}) AND a.attnum > 0) IS DISTINCT FROM ARRAY(SELECT jsonb_array_elements_text("
            f"({names})::jsonb)) "
            f"OR (SELECT count(*) FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass "
            f"AND d.objid = r.oid WHERE r.ev_class = to_regclass({view}) AND d.refobjid = to_regclass({table})) = 0")


SET_CHECKS["compat view"] = (("view", "tbl", "names"), _view_fails("v.view", "v.tbl", "v.names"))


@operation
@dataclass(frozen=True)
class DropCompatView(CreateCompatView):
    """The view dropped (``RESTRICT``: a view someone built on it stops the drop)."""

    kind = "drop compat view"

    def statements(self):
        return [f"DROP VIEW {self._view()}"]

    def reverse(self):
        return self._as(CreateCompatView)

    def check(self):
        return f"NOT {self.exists_sql()}"

    set_check = None

    def describe(self):
        return f"drop compat view {self.view_schema}.{self.view}"


@operation
@dataclass(frozen=True)
class StageCompatView(CreateCompatView):
    """The view made online, before the lock window, under the staged name ``view`` (of
    runbook's own: :func:`staged_name`), over the table as it is named then
    (``table_name``: its old name, or its new one when it was renamed by hand). Holds no
    lock that blocks the table's readers or writers."""

    phase = PREPARE
    kind = "stage compat view"

    def _validate(self):
        return super()._validate() + [None if self.view.startswith(STAGED_PREFIX)
                                      else f"a staged view's name starts with {STAGED_PREFIX}"]

    def reverse(self):
        return self._as(UnstageCompatView)

    def describe(self):
        return f"stage compat view {self.view_schema}.{self.view} over {self.table_name} (legacy names)"


@operation
@dataclass(frozen=True)
class UnstageCompatView(StageCompatView):
    """The staged view dropped, if it is there (a prepare step's reverse is idempotent: a
    run that failed before it was made, or after its lock window renamed it, is undone
    too)."""

    kind = "unstage compat view"

    def statements(self):
        return [f"DROP VIEW IF EXISTS {self._view()}"]

    def reverse(self):
        return self._as(StageCompatView)

    def check(self):
        return f"NOT {self.exists_sql()}"

    set_check = None

    def describe(self):
        return f"drop staged compat view {self.view_schema}.{self.view} if it is there"


@operation
@dataclass(frozen=True)
class RenameCompatView(CreateCompatView):
    """In the lock window, after the table renames: the view :class:`StageCompatView` made
    (``staged``) takes the table's old name. Its fields are the view's under that name, as
    :class:`CreateCompatView` has them (its check is that view's)."""

    staged: str | None = None
    kind = "rename compat view"
    identifiers = CreateCompatView.identifiers + ("staged",)

    def statements(self):
        return [f"ALTER VIEW {qq(self.view_schema, self.staged)} RENAME TO {q(self.view)}"]

    def reverse(self):
        return self._as(DropCompatView)

    def describe(self):
        return f"rename staged view {self.staged} to {self.view_schema}.{self.view} (compat view over {self.table_name})"


STAGED_PREFIX = "runbook_staged_"


def staged_name(view_schema: str, view: str) -> str:
    """The staged name of the compat view ``view_schema.view``: runbook's prefix and a
    digest of the view's name (short, fixed length, one a view)."""
    return STAGED_PREFIX + hashlib.sha256(f"{view_schema}.{view}".encode()).hexdigest()[:16]


#: the operations that make a compat view under its final name
MAKES_VIEW = (CreateCompatView, RenameCompatView)


@operation
@dataclass(frozen=True)
class KeepFilling(Op):
    """While the compat views serve legacy clients, a filled column, NOT NULL now, keeps
    its fill trigger (under the table's and column's new names, after the ``SET NOT
    NULL`` that dropped it): a legacy INSERT or UPDATE that writes NULL, or leaves the
    column out, gets the placeholder, and the row is recorded in ``runbook.filled``, so
    that the rollback puts back the NULL the legacy client wrote. (A BEFORE trigger runs
    before the NOT NULL is checked; the view stays automatically updatable.)"""

    fill: FillNulls  # under the table's and columns' new names
    #: how the window keeps it: ``"install"`` (None: a plan stored before the modes) the
    #: ``SET NOT NULL`` dropped the trigger and its function, made again here;
    #: ``"replace function"`` the trigger was kept (it follows its table and column by
    #: number) and its function is replaced, naming the columns' new names; ``"keep"``
    #: trigger and function kept as they are (no column of theirs renamed): nothing to run
    mode: str | None = None
    kind = "keep filling"
    changes = ()  # its trigger and function: names no other step's check reads

    @property
    def schema(self):
        return self.fill.schema

    @property
    def table_name(self):
        return self.fill.table_name

    def _validate(self):
        if self.mode not in KEEP_MODES:
            return [f"mode is not one of {', '.join(m for m in KEEP_MODES if m)}"]
        return ["fill is not a fill of NULLs"] if type(self.fill) is not FillNulls else self.fill.validate()

    def statements(self):
        if self.mode == "keep":
            return []
        if self.mode == "replace function":
            return [self.fill.function_statement()]
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


KEEP_MODES = (None, "install", "replace function", "keep")

PRIVILEGES = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}


def _grant_problem(g) -> str | None:
    if not isinstance(g, str) or ":" not in g:
        return "not a grant"
    privs, _, role = g.partition(":")
    if not privs or set(privs) - set(PRIVILEGES):
        return "unknown privilege"
    return identifier_problem(role, "role") if role else None


def _column_grants_problem(grants, columns) -> str | None:
    if grants is None and columns is None:
        return None
    if not (isinstance(grants, tuple) and isinstance(columns, tuple) and len(grants) == len(columns)):
        return "column_grants and grant_columns are not lists of the same length"
    for g, c in zip(grants, columns):
        if _grant_problem(g) or "d" in g.partition(":")[0]:
            return "column grants are not privileges:role pairs of SELECT, INSERT, UPDATE"
        if identifier_problem(c, "grant column"):
            return identifier_problem(c, "grant column")
    return None


def end_checks(ops) -> list[str]:
    """Each operation's check as it reads once all of ``ops`` ran. A table renamed away
    from a name that a compat view of the same plan then took is checked as renamed with
    that view (not a table) under its old name; the view's own check says what it reads.
    Without views, exactly the operations' own checks."""
    views = {(o.view_schema, o.view) for o in ops if type(o) in MAKES_VIEW}
    return [_renamed_under_view(o) if isinstance(o, RenameTable) and (o.schema, o.old) in views else o.check()
            for o in ops]


def _renamed_under_view(o: RenameTable) -> str:
    return (f"({_reg(o.schema, o.new)} IS NOT NULL AND EXISTS (SELECT 1 FROM pg_class "
            f"WHERE oid = {_reg(o.schema, o.old)} AND relkind = 'v'))")


def without_views(ops) -> tuple:
    """``ops`` less their compat views and the fills kept for them (once a contract has
    dropped them)."""
    return tuple(o for o in ops if type(o) not in (CreateCompatView, StageCompatView, RenameCompatView, KeepFilling))
