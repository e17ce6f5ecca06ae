"""The database read once into frozen data.

Every catalog query lives in a ``.sql`` file beside this module. :func:`inspect` runs
them all in one read-only transaction and returns a :class:`Snapshot`: the plan, the
analysis and the verification all work from snapshots, never from live queries
scattered through the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources


def query(name: str) -> str:
    return resources.files("runbook.catalog").joinpath(f"{name}.sql").read_text()


@dataclass(frozen=True)
class Column:
    name: str
    attnum: int
    type: str
    type_name: str
    type_schema: str
    type_kind: str
    not_null: bool
    default: str | None
    identity: str = ""
    generated: str = ""
    acl: str = ""  # its own grants (attacl), "" when none


@dataclass(frozen=True)
class Constraint:
    oid: int
    name: str
    type: str  # p primary, u unique, f foreign, c check, x exclusion, n not-null (PG18)
    table_oid: int
    ref_table_oid: int
    definition: str
    validated: bool
    columns: tuple[str, ...]
    index_oid: int
    #: the constraint of the partitioned table this one was cloned from (conparentid), or 0
    parent_oid: int = 0


@dataclass(frozen=True)
class Index:
    oid: int
    name: str
    table_oid: int
    definition: str
    is_unique: bool
    is_primary: bool
    is_valid: bool
    columns: tuple[str, ...]
    backs_constraint: bool


@dataclass(frozen=True)
class Sequence:
    oid: int
    schema: str
    name: str
    table_oid: int | None
    column: str | None
    dep_type: str | None


@dataclass(frozen=True)
class Statistics:
    """An extended statistics object (``CREATE STATISTICS``)."""

    oid: int
    schema: str
    name: str
    table_oid: int
    definition: str


@dataclass(frozen=True)
class View:
    oid: int
    schema: str
    name: str
    kind: str
    definition: str
    table_oids: tuple[int, ...]


@dataclass(frozen=True)
class Trigger:
    oid: int
    name: str
    table_oid: int
    function_oid: int
    definition: str
    enabled: str


@dataclass(frozen=True)
class Policy:
    oid: int
    name: str
    table_oid: int
    using_expr: str | None
    check_expr: str | None


@dataclass(frozen=True)
class Function:
    oid: int
    schema: str
    name: str
    identity_args: str
    regprocedure: str
    language: str
    kind: str
    source: str
    definition: str | None
    own_search_path: str | None = None  # its SET search_path (proconfig), if any
    session_search_path: str | None = None  # the search_path of the session that read the catalog

    @property
    def signature(self) -> str:
        return f"{self.schema}.{self.name}({self.identity_args})"

    def search_path(self, user: str | None = None) -> tuple[str, ...]:
        """The schemas an unqualified table name in the body is looked up in: its own
        ``SET search_path``, else the session's (see :mod:`runbook.sqlbody`)."""
        from ..sqlbody import effective_path, parse_search_path

        own = self.own_search_path
        return effective_path(parse_search_path(own if own is not None else self.session_search_path), user)


@dataclass(frozen=True)
class EnumType:
    oid: int
    schema: str
    name: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    oid: int
    schema: str
    name: str
    kind: str
    relfilenode: int
    owner: str
    total_bytes: int
    row_estimate: int
    acl: str
    rls: bool
    columns: tuple[Column, ...] = ()
    is_partition: bool = False
    partition_key: str = ""  # of a partitioned table ('p'): "RANGE ("createdAt")"
    partition_bound: str = ""  # of a partition: "FOR VALUES FROM (...) TO (...)", "DEFAULT"
    parents: tuple[int, ...] = ()  # pg_inherits: the partitioned table, or the inheritance parents
    children: tuple[int, ...] = ()  # its partitions, or its inheritance children

    @property
    def has_storage(self) -> bool:
        """A partitioned table ('p') holds no rows itself (relfilenode 0): its leaves do."""
        return self.kind == "r"

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Activity:
    pid: int
    application: str
    role: str
    state: str
    xact_age_s: float
    locked_oids: tuple[int, ...]
    modes: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    """Everything the engine needs to know about one database, at one moment."""

    server_version: int
    server_version_text: str
    database: str
    current_user: str
    is_superuser: bool
    member_of: tuple[str, ...]
    tables: tuple[Table, ...]
    constraints: tuple[Constraint, ...]
    indexes: tuple[Index, ...]
    sequences: tuple[Sequence, ...]
    views: tuple[View, ...]
    triggers: tuple[Trigger, ...]
    policies: tuple[Policy, ...]
    functions: tuple[Function, ...]
    enums: tuple[EnumType, ...]
    activity: tuple[Activity, ...]
    database_bytes: int = 0
    statistics: tuple[Statistics, ...] = ()
    schemas: tuple[str, ...] = ()  # every schema's name (pg_namespace)

    # -- look-ups -------------------------------------------------------------------
    @cached_property
    def _by_name(self) -> dict[tuple[str, str], Table]:
        return {(t.schema, t.name): t for t in self.tables}

    @cached_property
    def _by_oid(self) -> dict[int, Table]:
        return {t.oid: t for t in self.tables}

    def table(self, schema: str, name: str) -> Table | None:
        return self._by_name.get((schema, name))

    def table_by_oid(self, oid: int) -> Table | None:
        return self._by_oid.get(oid)

    def descendants(self, oid: int) -> list[Table]:
        """The partitions (sub-partitions included) or inheritance children of a table,
        depth first, parents before their children."""
        out: list[Table] = []
        seen = {oid}
        stack = list(reversed(getattr(self.table_by_oid(oid), "children", ())))
        while stack:
            o = stack.pop()
            t = self.table_by_oid(o)
            if t is None or o in seen:  # multiple inheritance reaches a child twice
                continue
            seen.add(o)
            out.append(t)
            stack.extend(reversed(t.children))
        return out

    def ancestors(self, oid: int) -> list[Table]:
        out: list[Table] = []
        todo = list(getattr(self.table_by_oid(oid), "parents", ()))
        while todo:
            t = self.table_by_oid(todo.pop(0))
            if t is not None and t not in out:
                out.append(t)
                todo.extend(t.parents)
        return out

    def storage_tables(self, oid: int) -> list[Table]:
        """The tables whose storage holds the rows a query of this table reads: itself
        unless partitioned, and every descendant that is not partitioned."""
        t = self.table_by_oid(oid)
        return [x for x in ([t] if t else []) + self.descendants(oid) if x.has_storage]

    def relation_exists(self, schema: str, name: str) -> bool:
        """Any relation (table, index, sequence, view) with that name in that schema."""
        if self.table(schema, name):
            return True
        names = {(s.schema, s.name) for s in self.sequences} | {(v.schema, v.name) for v in self.views}
        names |= {(self.table_by_oid(i.table_oid).schema, i.name) for i in self.indexes if self.table_by_oid(i.table_oid)}
        return (schema, name) in names

    def constraints_of(self, table_oid: int) -> list[Constraint]:
        return [c for c in self.constraints if c.table_oid == table_oid]

    def foreign_keys_in(self, table_oid: int) -> list[Constraint]:
        """Foreign keys of other tables that reference this one."""
        return [c for c in self.constraints if c.type == "f" and c.ref_table_oid == table_oid]

    def indexes_of(self, table_oid: int) -> list[Index]:
        return [i for i in self.indexes if i.table_oid == table_oid]

    def sequences_of(self, table_oid: int) -> list[Sequence]:
        return [s for s in self.sequences if s.table_oid == table_oid]

    def views_on(self, table_oid: int) -> list[View]:
        return [v for v in self.views if table_oid in v.table_oids]

    def statistics_on(self, table_oid: int) -> list[Statistics]:
        return [s for s in self.statistics if s.table_oid == table_oid]

    def triggers_on(self, table_oid: int) -> list[Trigger]:
        return [t for t in self.triggers if t.table_oid == table_oid]

    def policies_on(self, table_oid: int) -> list[Policy]:
        return [p for p in self.policies if p.table_oid == table_oid]

    def enum(self, schema: str, name: str) -> EnumType | None:
        for e in self.enums:
            if e.schema == schema and e.name == name:
                return e
        return None

    @cached_property
    def sql_catalog(self):
        """Relations and columns, for resolving names in function bodies."""
        from ..sqlbody import Catalog

        return Catalog.from_snapshot(self)

    def trigger_tables_of(self, fn: Function) -> list[tuple[str, str]] | None:
        """The tables a trigger function's triggers are on (None: not a trigger function)."""
        tabs = [self.table_by_oid(t.table_oid) for t in self.triggers if t.function_oid == fn.oid]
        out = sorted({(t.schema, t.name) for t in tabs if t})
        if out or re.search(r"\bRETURNS\s+(event_)?trigger\b", fn.definition or "", re.I):
            return out
        return None

    @cached_property
    def _body_refs(self) -> dict[int, object]:
        """Per function: its parsed references (:class:`runbook.sqlbody.Analysis`), or the
        parser's error text."""
        from ..sqlbody import REWRITABLE_LANGUAGES, BodyError, analyze

        out: dict[int, object] = {}
        for f in self.functions:
            if not f.source or f.language not in REWRITABLE_LANGUAGES:
                continue
            try:
                out[f.oid] = analyze(f.language, f.source, f.definition, self.sql_catalog, f.search_path(self.current_user))
            except BodyError as exc:
                out[f.oid] = str(exc)
        return out

    def functions_naming(self, name: str, schema: str | None = None) -> list[Function]:
        """Functions whose body refers to the table ``schema.name`` (any schema when None).

        SQL and PL/pgSQL bodies are read by PostgreSQL's parser (:mod:`runbook.sqlbody`):
        comments and string literals are not references, except string literals of a
        body that runs EXECUTE; an unqualified name counts when it resolves to ``schema``
        along the function's search_path. Bodies the parser cannot read, and other
        languages, are searched as text. BEGIN ATOMIC bodies follow OIDs: never counted."""
        from ..sqlbody import resolves_to

        pat = re.compile(r'"' + re.escape(name.replace('"', '""')) + r'"' + (
            r"|\b" + re.escape(name) + r"\b" if name == name.lower() else ""))
        out = []
        for f in self.functions:
            if not f.source:
                continue
            a = self._body_refs.get(f.oid)
            if a is None or isinstance(a, str):
                if pat.search(f.source):
                    out.append(f)
                continue
            path = f.search_path(self.current_user)
            hit = any(n == name and (schema is None or s == schema or
                                     (s is None and resolves_to(name, schema, path, self.sql_catalog)))
                      for s, n in a.table_refs)
            if hit or (a.dynamic and _string_names(a, name)):
                out.append(f)
        return out

    def relation_names(self) -> dict[str, str]:
        """``schema.name`` -> kind, of every table, index, sequence and view."""
        out = {}
        for t in self.tables:
            out[f"{t.schema}.{t.name}"] = "table"
        for i in self.indexes:
            t = self.table_by_oid(i.table_oid)
            if t:
                out[f"{t.schema}.{i.name}"] = "index"
        for s in self.sequences:
            out[f"{s.schema}.{s.name}"] = "sequence"
        for v in self.views:
            out[f"{v.schema}.{v.name}"] = "view"
        return out


def _string_names(analysis, name: str) -> bool:
    return any(re.search(r'(?<![A-Za-z0-9_])"?' + re.escape(name) + r'"?(?![A-Za-z0-9_$])', s)
               for s in getattr(analysis, "strings", ()))


def _rows(cur, sql: str) -> list[dict]:
    cur.execute(sql)
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def inspect(conn) -> Snapshot:
    """Read the catalog in one REPEATABLE READ, read-only transaction.

    Runs inside whatever transaction ``conn`` has open when it is not in autocommit mode
    (the migrate runner uses that to re-read the catalog under its locks).
    """
    own_tx = conn.autocommit
    if own_tx:
        conn.autocommit = False
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    try:
        with conn.cursor() as cur:
            # Definitions (pg_get_constraintdef, pg_get_indexdef, format_type ...) qualify
            # a name only when the search_path does not find it: read them under one fixed
            # path, so a role whose search_path puts another schema first reads the same
            # definitions before and after a rename. Restored below (transaction-local).
            cur.execute("SELECT current_setting('search_path'), set_config('search_path', 'public', true)")
            saved_path = cur.fetchone()[0]
            cur.execute(
                "SELECT current_setting('server_version_num')::int, version(), current_database(), current_user,"
                " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),"
                " ARRAY(SELECT b.rolname::text FROM pg_roles b WHERE pg_has_role(current_user, b.oid, 'MEMBER')),"
                " pg_database_size(current_database()),"
                " ARRAY(SELECT nspname::text FROM pg_namespace ORDER BY 1)"
            )
            ver, vtext, db, user, superuser, member_of, dbsize, schemas = cur.fetchone()
            cols: dict[int, list[Column]] = {}
            for r in _rows(cur, query("columns")):
                cols.setdefault(r["table_oid"], []).append(
                    Column(r["name"], r["attnum"], r["type"], r["type_name"], r["type_schema"], r["type_kind"],
                           r["not_null"], r["default_expr"], r["identity"] or "", r["generated"] or "", r["acl"])
                )
            tables = tuple(
                Table(r["oid"], r["schema"], r["name"], r["kind"], r["relfilenode"], r["owner"], r["total_bytes"],
                      r["row_estimate"], r["acl"], r["rls"], tuple(cols.get(r["oid"], ())), r["is_partition"],
                      r["partition_key"], r["partition_bound"], tuple(r["parents"]), tuple(r["children"]))
                for r in _rows(cur, query("tables"))
            )
            constraints = tuple(
                Constraint(r["oid"], r["name"], r["type"], r["table_oid"], r["ref_table_oid"], r["definition"],
                           r["validated"], tuple(r["columns"]), r["index_oid"], r["parent_oid"])
                for r in _rows(cur, query("constraints"))
            )
            indexes = tuple(
                Index(r["oid"], r["name"], r["table_oid"], r["definition"], r["is_unique"], r["is_primary"],
                      r["is_valid"], tuple(r["columns"]), r["backs_constraint"])
                for r in _rows(cur, query("indexes"))
            )
            sequences = tuple(
                Sequence(r["oid"], r["schema"], r["name"], r["table_oid"], r["column_name"], r["dep_type"])
                for r in _rows(cur, query("sequences"))
            )
            views = tuple(
                View(r["oid"], r["schema"], r["name"], r["kind"], r["definition"], tuple(r["table_oids"]))
                for r in _rows(cur, query("views"))
            )
            triggers = tuple(
                Trigger(r["oid"], r["name"], r["table_oid"], r["function_oid"], r["definition"], r["enabled"])
                for r in _rows(cur, query("triggers"))
            )
            policies = tuple(
                Policy(r["oid"], r["name"], r["table_oid"], r["using_expr"], r["check_expr"])
                for r in _rows(cur, query("policies"))
            )
            functions = tuple(
                Function(r["oid"], r["schema"], r["name"], r["identity_args"], r["regprocedure"], r["language"], r["kind"], r["source"],
                         r["definition"], r["own_search_path"], saved_path)  # the session's own path, not the fixed one
                for r in _rows(cur, query("functions"))
            )
            enums = tuple(EnumType(r["oid"], r["schema"], r["name"], tuple(r["labels"])) for r in _rows(cur, query("enums")))
            statistics = tuple(
                Statistics(r["oid"], r["schema"], r["name"], r["table_oid"], r["definition"])
                for r in _rows(cur, query("statistics"))
            )
            activity = tuple(
                Activity(r["pid"], r["application"], r["role"], r["state"] or "", r["xact_age_s"] or 0.0,
                         tuple(r["locked_oids"]), tuple(r["modes"]))
                for r in _rows(cur, query("activity"))
            )
            if not own_tx:
                cur.execute("SELECT set_config('search_path', %s, true)", (saved_path,))
    finally:
        if own_tx:
            conn.rollback()
            conn.set_session(isolation_level="DEFAULT", readonly=False)
            conn.autocommit = True
    return Snapshot(ver, vtext, db, user, bool(superuser), tuple(member_of), tables, constraints, indexes,
                    sequences, views, triggers, policies, functions, enums, activity, dbsize, statistics,
                    tuple(schemas))
