"""Function bodies read by PostgreSQL's own parser (pglast: libpg_query, PostgreSQL 18).

Views, triggers, policies and foreign keys point at tables by OID and follow a rename;
the body of a SQL or PL/pgSQL function is text, parsed at call time, and does not. This
module finds, in one function, every reference to a table and to a column, resolves it
to the table it belongs to, and rewrites only the references that resolve to a renamed
table (or to a renamed column of one), by editing the original text at the parser's
locations: formatting and comments are kept, and comments and string literals are never
references.

How a body is read:

- ``LANGUAGE sql``: ``prosrc`` is parsed as SQL statements.
- ``LANGUAGE plpgsql``: the whole ``pg_get_functiondef`` text is compiled by PL/pgSQL's
  grammar (``parse_plpgsql_json``); every embedded SQL statement and expression
  (``PLpgSQL_expr.query``, a verbatim slice of the body) is parsed again as SQL and
  located in the body from its statement's line. ``RAISE`` messages are not SQL.
- ``BEGIN ATOMIC`` bodies (empty ``prosrc``) are stored parsed and follow the rename by
  OID: nothing to do.

How a name resolves:

- A qualified table name (``legacy."User"``) is that table: only references that resolve
  to the mapping's schema are renamed.
- An unqualified table name is looked up along the function's own ``SET search_path``
  (``proconfig``) when it has one, or else the search_path of the session that read the
  catalog (the database's and role's default; ``$user`` is that session's user), after
  ``pg_catalog``: the first schema in that path holding a relation of that name wins;
  the name counts as the mapping schema's table when that schema comes first (also when
  the table is no longer there, so that a leftover old name is still found after the
  migration). A CTE of that name shadows the table. A rewritten reference is written
  schema-qualified (``public.users``), so it no longer depends on the caller's path.
- A column ``alias.col``/``table.col``/``schema.table.col`` belongs to the FROM item of
  that name, innermost query level first (as PostgreSQL resolves it). An unqualified
  column belongs to the one FROM item of the innermost level that has a column of that
  name (catalog columns; a subquery's or CTE's output columns); PostgreSQL itself
  refuses a name two items share. ``NEW.col``/``OLD.col`` of a trigger function belong to
  the table(s) its triggers are on. A renamed column whose table cannot be told (a record
  variable, a set-returning function's output, a trigger function on no trigger) makes
  the body unsafe: it is named, never guessed.

What blocks the run (:class:`Unsafe` reasons): a body the parser cannot read; ``EXECUTE``
(or ``RETURN QUERY EXECUTE``, ``FOR ... IN EXECUTE``, ``OPEN ... FOR EXECUTE``) in a
function whose string literals name a renamed table; a reference that needs rewriting
but could not be located in the text; ``JOIN ... USING``/``ON CONFLICT (...)`` naming a
renamed column; a ``%ROWTYPE``/``%TYPE`` declaration that cannot be located. (Located
ones are rewritten: the table schema-qualified, a renamed column renamed, and the
fields of a ``%ROWTYPE`` record follow its table's column renames.)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .naming import q, qq

REWRITABLE_LANGUAGES = {"sql", "plpgsql"}

# PL/pgSQL statements whose query is a string built at run time
_DYNAMIC_KEYS = {"dynquery"}
_DYNAMIC_STMTS = {"PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors"}


class BodyError(Exception):
    """The parser could not read the body."""


@dataclass
class TableRename:
    """One table of the plan: its name in the catalog now, its name after, and its
    column renames (old -> new, only those the plan performs)."""

    schema: str
    old: str
    new: str
    columns: dict[str, str] = field(default_factory=dict)
    rename_table: bool = True  # False: the table already carries its new name


@dataclass
class Catalog:
    """What name resolution needs: relations by schema, the columns of tables."""

    relations: set[tuple[str, str]]
    columns: dict[tuple[str, str], tuple[str, ...]]
    views: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def from_snapshot(cls, snap) -> "Catalog":
        rel = {(t.schema, t.name) for t in snap.tables} | {(s.schema, s.name) for s in snap.sequences}
        views = {(v.schema, v.name) for v in snap.views}
        rel |= views
        for i in snap.indexes:
            t = snap.table_by_oid(i.table_oid)
            if t:
                rel.add((t.schema, i.name))
        cols = {(t.schema, t.name): tuple(c.name for c in t.columns) for t in snap.tables}
        return cls(rel, cols, views)


@dataclass
class Analysis:
    """What one body refers to, and (given renames) how to rewrite it."""

    table_refs: list[tuple[str | None, str]] = field(default_factory=list)  # (schema or None, name)
    strings: list[str] = field(default_factory=list)  # the string literals of its SQL
    string_mentions: set[str] = field(default_factory=set)  # renamed tables' old names inside them
    dynamic: bool = False  # the body runs EXECUTE of a built string
    edits: list[tuple[int, int, str]] = field(default_factory=list)  # in prosrc offsets, end exclusive
    unsafe: list[str] = field(default_factory=list)


def parse_search_path(setting: str | None) -> tuple[str, ...]:
    """``"$user", public`` -> ('$user', 'public')."""
    if not setting:
        return ()
    out = []
    for part in re.findall(r'"(?:[^"]|"")*"|[^,\s]+', setting):
        if part.startswith('"'):
            out.append(part[1:-1].replace('""', '"'))
        else:
            out.append(part.lower())
    return tuple(p for p in out if p)


def effective_path(path: tuple[str, ...], user: str | None) -> tuple[str, ...]:
    out = [] if "pg_catalog" in path else ["pg_catalog"]
    for s in path:
        out.append(user if s == "$user" and user else s)
    return tuple(s for s in out if s != "$user")


def resolves_to(name: str, schema: str, path: tuple[str, ...], catalog: Catalog) -> bool:
    """Does the unqualified table ``name`` mean ``schema.name`` along ``path``?"""
    for s in path:
        if s == schema:
            return True
        if (s, name) in catalog.relations:
            return False
    return False


# -- tokens ------------------------------------------------------------------------------

class _Tokens:
    def __init__(self, text: str):
        from pglast import parser

        self.text = text
        try:
            self.toks = [(t.start, t.end + 1, t.name) for t in parser.scan(text)]
        except Exception as exc:  # pglast raises its own error types
            raise BodyError(_msg(exc)) from None
        self.at = {s: i for i, (s, _, _) in enumerate(self.toks)}

    def dotted(self, loc: int, parts: int) -> list[tuple[int, int]] | None:
        """The spans of ``parts`` dot-separated names starting at ``loc``."""
        i = self.at.get(loc)
        if i is None:
            return None
        out = []
        for k in range(parts):
            j = i + 2 * k
            if j >= len(self.toks) or (k and self.toks[j - 1][2] != "ASCII_46"):
                return None
            s, e, _ = self.toks[j]
            out.append((s, e))
        return out


def _msg(exc) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# -- scopes --------------------------------------------------------------------------------

@dataclass
class _Item:
    """One FROM item: its reference name, and its columns now -> after."""

    refname: str
    schema: str | None = None  # a table named without alias: ``schema.table.col`` matches
    relname: str | None = None
    cols: dict[str, str] | None = None  # None: not known
    may_rename: bool = False  # unknown columns that could be a renamed table's (a function)
    rename: TableRename | None = None
    aliased: bool = False


class _Ctx:
    def __init__(self, catalog: Catalog, path: tuple[str, ...], renames: list[TableRename] | None,
                 trigger_tables: list[tuple[str, str]]):
        self.catalog = catalog
        self.path = path
        self.renames = renames or []
        self.trigger_tables = trigger_tables
        self.by_name: dict[tuple[str, str], TableRename] = {}
        for r in self.renames:
            self.by_name[(r.schema, r.old)] = r
            self.by_name[(r.schema, r.new)] = r
        self.renamed_cols = {c for r in self.renames for c in r.columns}
        self.old_names = {r.old for r in self.renames if r.rename_table}
        # PL/pgSQL record variables filled by a query (FOR r IN SELECT ..., SELECT ... INTO r):
        # their fields now -> after; None when not known
        self.records: dict[str, dict[str, str] | None] = {}

    def record_from(self, name: str, cols: dict[str, str] | None) -> None:
        if name in self.records and self.records[name] != cols:
            cols = None
        self.records[name] = cols


class _Stmt:
    """One SQL statement's text, where it sits in the body, and what it found."""

    def __init__(self, ctx: _Ctx, text: str, offset: int | None, shift: int, out: Analysis):
        self.ctx = ctx
        self.text = text
        self.offset = offset  # body offset of text[0]; None: not located
        self.shift = shift  # parser location - shift = offset in text
        self.out = out
        self._tokens: _Tokens | None = None

    @property
    def tokens(self) -> _Tokens:
        if self._tokens is None:
            self._tokens = _Tokens(self.text)
        return self._tokens

    def edit(self, loc: int, parts: int, which: slice, new: str, what: str) -> None:
        spans = self.tokens.dotted(loc - self.shift, parts) if self.offset is not None else None
        if not spans:
            self.out.unsafe.append(f"{what} could not be located in the body")
            return
        sel = spans[which]
        s, e = sel[0][0], sel[-1][1]
        self.out.edits.append((self.offset + s, self.offset + e, new))

    def unsafe(self, reason: str) -> None:
        if reason not in self.out.unsafe:
            self.out.unsafe.append(reason)

    # -- table references ------------------------------------------------------------
    def range_var(self, rv: dict, ctes: set[str]) -> _Item:
        schema, name = rv.get("schemaname"), rv["relname"]
        alias = (rv.get("alias") or {}).get("aliasname")
        if schema is None and name in ctes:
            return _Item(alias or name, cols=None, may_rename=False, aliased=bool(alias))
        self.out.table_refs.append((schema, name))
        ctx = self.ctx
        if schema is not None:
            key = (schema, name)
        else:
            key = next(((s, name) for s in ctx.path if (s, name) in ctx.catalog.relations), None)
            for r in ctx.renames:
                if r.old == name and resolves_to(name, r.schema, ctx.path, ctx.catalog):
                    key = (r.schema, name)
        ren = ctx.by_name.get(key) if key else None
        if ren is not None:
            current = (ren.schema, ren.new if key[1] == ren.new else ren.old)
            now_cols = ctx.catalog.columns.get(current) or ctx.catalog.columns.get((ren.schema, ren.new)) \
                or ctx.catalog.columns.get((ren.schema, ren.old)) or ()
            cols = {c: ren.columns.get(c, c) for c in now_cols}
            if key[1] == ren.old and ren.rename_table:
                parts = 1 + (schema is not None) + (rv.get("catalogname") is not None)
                self.edit(rv["location"], parts, slice(0, parts), qq(ren.schema, ren.new),
                          f"table {qq(*key)}")
            return _Item(alias or name, key[0], key[1], cols, False, ren, bool(alias))
        if key and key in ctx.catalog.columns:
            c = ctx.catalog.columns[key]
            return _Item(alias or name, key[0], name, {x: x for x in c}, False, None, bool(alias))
        return _Item(alias or name, key[0] if key else schema, name, None, False, None, bool(alias))

    def type_name(self, tn: dict) -> None:
        names = [n["String"]["sval"] for n in tn.get("names", []) if "String" in n]
        if not names or "location" not in tn:
            return
        name = names[-1]
        schema = names[-2] if len(names) > 1 else None
        for r in self.ctx.renames:
            if r.old != name or not r.rename_table:
                continue
            if (schema == r.schema) or (schema is None and resolves_to(name, r.schema, self.ctx.path, self.ctx.catalog)):
                self.out.table_refs.append((schema, name))
                self.edit(tn["location"], len(names), slice(0, len(names)), qq(r.schema, r.new),
                          f"type {qq(r.schema, name)}")

    # -- columns ---------------------------------------------------------------------
    def column_ref(self, cr: dict, scopes: list[list[_Item]]) -> tuple[str, str] | None:
        """Resolve one column reference; returns (name now, name after) when it is a
        column of a known item (for a subquery's output names)."""
        fields = cr.get("fields", [])
        star = bool(fields) and "A_Star" in fields[-1]
        names = [f["String"]["sval"] for f in fields if "String" in f]
        if len(names) != len(fields) - (1 if star else 0):
            return None
        loc = cr.get("location")
        nparts = len(fields)
        if star:
            if names:
                item = self._find_item(names, scopes)
                if item is not None:
                    self._qualifier(item, names, loc, nparts)
            return None
        if len(names) == 1:
            col = names[0]
            for level in reversed(scopes):
                hits = [i for i in level if i.cols is not None and col in i.cols]
                if len(hits) == 1:
                    return self._column(hits[0], col, loc, nparts, [])
                if len(hits) > 1:
                    if any(h.cols[col] != col for h in hits):
                        self.unsafe(f"column {col!r} is ambiguous between {', '.join(h.refname for h in hits)}")
                    return None
                if any(i.cols is None and i.may_rename for i in level) and col in self.ctx.renamed_cols:
                    self.unsafe(f"cannot tell which table column {col!r} belongs to (a function or subquery in FROM)")
                    return None
            return None
        col, quals = names[-1], names[:-1]
        item = self._find_item(quals, scopes)
        if item is not None:
            return self._column(item, col, loc, nparts, quals)
        if len(quals) == 1 and quals[0] in ("new", "old") and self.ctx.trigger_tables is not None:
            return self._trigger_column(col, loc, nparts)
        if len(quals) == 1 and self.ctx.records.get(quals[0]) is not None:
            return self._column(_Item(quals[0], cols=self.ctx.records[quals[0]], aliased=True), col, loc, nparts, [])
        if col in self.ctx.renamed_cols:
            self.unsafe(f"cannot tell which table {'.'.join(quals)}.{col!r} refers to (a record or composite variable?)")
        return None

    def _find_item(self, quals: list[str], scopes: list[list[_Item]]) -> _Item | None:
        for level in reversed(scopes):
            for i in level:
                if len(quals) == 1 and i.refname == quals[0]:
                    return i
                if len(quals) >= 2 and not i.aliased and i.relname == quals[-1] and i.schema == quals[-2]:
                    return i
        return None

    def _qualifier(self, item: _Item, quals: list[str], loc: int, nparts: int) -> None:
        """``"User".col`` with ``FROM "User"``: the FROM item is now ``users``."""
        ren = item.rename
        if ren is None or item.aliased or not ren.rename_table or item.relname != ren.old:
            return
        if len(quals) == 1:
            self.edit(loc, nparts, slice(0, 1), q(ren.new), f"qualifier {quals[0]!r}")
        else:
            k = len(quals)
            self.edit(loc, nparts, slice(k - 2, k), qq(ren.schema, ren.new), f"qualifier {'.'.join(quals)!r}")

    def _column(self, item: _Item, col: str, loc: int, nparts: int, quals: list[str]) -> tuple[str, str] | None:
        if quals:
            self._qualifier(item, quals, loc, nparts)
        if item.cols is None:
            if item.may_rename and col in self.ctx.renamed_cols:
                self.unsafe(f"cannot tell whether {item.refname}.{col!r} is a renamed column")
            return None
        new = item.cols.get(col)
        if new is None:
            return None
        if new != col:
            self.edit(loc, nparts, slice(nparts - 1, nparts), q(new), f"column {col!r}")
        return col, new

    def _trigger_column(self, col: str, loc: int, nparts: int) -> tuple[str, str] | None:
        tables = self.ctx.trigger_tables
        news = set()
        for key in tables:
            ren = self.ctx.by_name.get(key)
            news.add(ren.columns.get(col, col) if ren else col)
        if not tables:
            if col in self.ctx.renamed_cols:
                self.unsafe(f"NEW/OLD.{col!r}: the trigger function is on no trigger, its table is unknown")
            return None
        if len(news) > 1:
            self.unsafe(f"NEW/OLD.{col!r}: its triggers are on tables that rename it differently")
            return None
        new = news.pop()
        if new != col:
            self.edit(loc, nparts, slice(nparts - 1, nparts), q(new), f"NEW/OLD.{col!r}")
        return col, new

    def target_column(self, item: _Item, name: str, loc: int) -> None:
        """``UPDATE t SET col``/``INSERT INTO t (col)``: a column of the target."""
        if item.cols is None:
            return
        new = item.cols.get(name, name)
        if new != name:
            self.edit(loc, 1, slice(0, 1), q(new), f"column {name!r}")

    # -- statements --------------------------------------------------------------------
    def walk(self, node, scopes: list[list[_Item]], ctes: set[str]):
        """Generic walk: expressions and nested statements."""
        if isinstance(node, list):
            for x in node:
                self.walk(x, scopes, ctes)
            return
        if not isinstance(node, dict):
            return
        if "relname" in node and "relpersistence" in node:  # a RangeVar field
            self.range_var(node, ctes)
            return
        for k, v in node.items():
            if k in ("SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt"):
                self.statement(k, v, scopes, ctes)
            elif k == "MergeStmt":
                self.merge(v, scopes, ctes)
            elif k == "ColumnRef":
                self.column_ref(v, scopes)
            elif k == "RangeVar":
                self.range_var(v, ctes)
            elif k in ("TypeName", "typeName") and isinstance(v, dict) and "names" in v:
                self.type_name(v)
            elif k == "A_Const":
                s = (v.get("sval") or {}).get("sval")
                if s is not None:
                    self.out.strings.append(s)
                    self.out.string_mentions |= _mentions(s, self.ctx)
            elif isinstance(v, (dict, list)):
                self.walk(v, scopes, ctes)

    def statement(self, kind: str, n: dict, scopes, ctes) -> dict[str, str] | None:
        ctes = set(ctes)
        cte_items: dict[str, dict | None] = {}
        for cte in (n.get("withClause") or {}).get("ctes", []):
            c = cte["CommonTableExpr"]
            if (n.get("withClause") or {}).get("recursive"):
                ctes.add(c["ctename"])
            outcols = self.query(c["ctequery"], scopes, ctes)
            ctes.add(c["ctename"])
            if c.get("aliascolnames"):
                outcols = {x["String"]["sval"]: x["String"]["sval"] for x in c["aliascolnames"]}
            cte_items[c["ctename"]] = outcols
        if kind == "SelectStmt":
            return self.select(n, scopes, ctes, cte_items)
        target = self._from_item({"RangeVar": n["relation"]}, scopes, ctes, cte_items, [])[0]
        if kind == "InsertStmt":
            for rt in n.get("cols", []):
                r = rt["ResTarget"]
                self.target_column(target, r["name"], r["location"])
            if n.get("selectStmt"):
                self.query(n["selectStmt"], scopes, ctes)
            oc = n.get("onConflictClause")
            level = [target]
            if oc:
                excluded = _Item("excluded", cols=target.cols, may_rename=False, rename=target.rename)
                for el in (oc.get("infer") or {}).get("indexElems", []):
                    nm = el["IndexElem"].get("name")
                    if nm and target.cols and target.cols.get(nm, nm) != nm:
                        self.unsafe(f"ON CONFLICT ({nm}) names a renamed column")
                    self.walk(el["IndexElem"].get("expr"), scopes + [[target]], ctes)
                self.walk((oc.get("infer") or {}).get("whereClause"), scopes + [[target]], ctes)
                for rt in oc.get("targetList", []):
                    r = rt["ResTarget"]
                    self.target_column(target, r["name"], r["location"])
                    self.walk(r.get("val"), scopes + [[target, excluded]], ctes)
                self.walk(oc.get("whereClause"), scopes + [[target, excluded]], ctes)
            self._returning(n, scopes + [level], ctes)
            return None
        level = [target]
        extra = n.get("fromClause") if kind == "UpdateStmt" else n.get("usingClause")
        for fi in extra or []:
            level += self._from_item(fi, scopes + [level], ctes, cte_items, level)
        if kind == "UpdateStmt":
            for rt in n.get("targetList", []):
                r = rt["ResTarget"]
                self.target_column(target, r["name"], r["location"])
                self.walk(r.get("val"), scopes + [level], ctes)
        self.walk(n.get("whereClause"), scopes + [level], ctes)
        self._returning(n, scopes + [level], ctes)
        return None

    def _returning(self, n, scopes, ctes):
        self.walk(n.get("returningClause") or n.get("returningList"), scopes, ctes)

    def merge(self, n: dict, scopes, ctes) -> None:
        before = len(self.out.edits)
        self.walk({k: v for k, v in n.items() if k not in ("relation",)}, scopes, ctes)
        item = self.range_var(n["relation"], ctes)
        if item.rename is not None or len(self.out.edits) != before:
            self.unsafe("MERGE on a renamed table is not rewritten")

    def query(self, node: dict, scopes, ctes) -> dict[str, str] | None:
        """A nested statement (subquery, CTE): its output columns now -> after."""
        (kind, n), = node.items()
        if kind in ("SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt"):
            return self.statement(kind, n, scopes, ctes)
        self.walk(node, scopes, ctes)
        return None

    def select(self, n: dict, scopes, ctes, cte_items) -> dict[str, str] | None:
        if n.get("op", "SETOP_NONE") != "SETOP_NONE":
            out = self.query({"SelectStmt": n["larg"]}, scopes, ctes)
            self.query({"SelectStmt": n["rarg"]}, scopes, ctes)
            self.walk([n.get("sortClause"), n.get("limitCount"), n.get("limitOffset")], scopes, ctes)
            return out
        if n.get("valuesLists"):
            self.walk(n["valuesLists"], scopes, ctes)
            return None
        level: list[_Item] = []
        for fi in n.get("fromClause", []):
            level += self._from_item(fi, scopes + [level], ctes, cte_items, level)
        inner = scopes + [level]
        out: dict[str, str] | None = {}
        for rt in n.get("targetList", []):
            r = rt["ResTarget"]
            val = r.get("val") or {}
            if "ColumnRef" in val:
                got = self.column_ref(val["ColumnRef"], inner)
                fields = val["ColumnRef"]["fields"]
                if "A_Star" in fields[-1]:
                    quals = [f["String"]["sval"] for f in fields[:-1]]
                    items = [self._find_item(quals, inner)] if quals else level
                    if out is not None and all(i is not None and i.cols is not None for i in items):
                        for i in items:
                            out.update(i.cols)
                    else:
                        out = None
                elif out is not None:
                    if r.get("name"):
                        out[r["name"]] = r["name"]
                    elif got:
                        out[got[0]] = got[1]
                    else:
                        nm = fields[-1].get("String", {}).get("sval")
                        if nm:
                            out[nm] = nm
            else:
                self.walk(val, inner, ctes)
                if out is not None and r.get("name"):
                    out[r["name"]] = r["name"]
        for k in ("whereClause", "groupClause", "havingClause", "windowClause", "sortClause", "distinctClause",
                  "limitCount", "limitOffset", "lockingClause"):
            self.walk(n.get(k), inner, ctes)
        return out

    def _from_item(self, fi: dict, scopes, ctes, cte_items, level) -> list[_Item]:
        (kind, n), = fi.items()
        if kind == "RangeVar":
            item = self.range_var(n, ctes)
            if n.get("schemaname") is None and n["relname"] in cte_items:
                item.cols = cte_items[n["relname"]]
                item.may_rename = item.cols is None
            return [item]
        if kind == "JoinExpr":
            items = self._from_item(n["larg"], scopes, ctes, cte_items, level)
            items += self._from_item(n["rarg"], scopes, ctes, cte_items, level + items)
            for u in n.get("usingClause", []):
                nm = u["String"]["sval"]
                if any(i.cols and i.cols.get(nm, nm) != nm for i in items):
                    self.unsafe(f"JOIN ... USING ({nm}) names a renamed column")
            self.walk(n.get("quals"), scopes[:-1] + [scopes[-1] + items], ctes)
            alias = (n.get("alias") or {}).get("aliasname")
            if alias:
                return [_Item(alias, cols=None, may_rename=True, aliased=True)]
            return items
        alias = n.get("alias") or {}
        colnames = [c["String"]["sval"] for c in alias.get("colnames", [])]
        if kind == "RangeSubselect":
            sc = scopes if n.get("lateral") else scopes[:-1]
            cols = self.query(n["subquery"], sc, ctes)
            if colnames:
                cols = {c: c for c in colnames}
            return [_Item(alias.get("aliasname", ""), cols=cols, may_rename=cols is None, aliased=True)]
        self.walk(n, scopes, ctes)  # functions, table functions: their arguments
        if kind == "RangeFunction":
            cols = {c: c for c in colnames} if colnames else None
            name = alias.get("aliasname")
            if not name:
                try:
                    name = n["functions"][0]["List"]["items"][0]["FuncCall"]["funcname"][-1]["String"]["sval"]
                except (KeyError, IndexError, TypeError):
                    name = ""
            return [_Item(name, cols=cols, may_rename=cols is None, aliased=True)]
        return [_Item(alias.get("aliasname", ""), cols=None, may_rename=True, aliased=True)]


def _mentions(text: str, ctx: _Ctx) -> set[str]:
    out = set()
    for old in ctx.old_names:
        if re.search(r'(?<![A-Za-z0-9_])"?' + re.escape(old) + r'"?(?![A-Za-z0-9_$])', text):
            out.add(old)
    return out


# -- bodies ---------------------------------------------------------------------------------

def _parse_sql(text: str) -> list[dict]:
    from pglast import parser

    try:
        return json.loads(parser.parse_sql_json(text)).get("stmts", [])
    except Exception as exc:
        raise BodyError(_msg(exc)) from None


def _sql_statement(ctx: _Ctx, text: str, offset: int | None, out: Analysis) -> dict[str, str] | None:
    """Analyse the statements of ``text``; the last one's output columns (now -> after)."""
    cols = None
    for s in _parse_sql(text):
        st = _Stmt(ctx, text, offset, 0, out)
        cols = st.query(s["stmt"], [], set())
    return cols


def _sql_expression(ctx: _Ctx, text: str, offset: int | None, out: Analysis) -> None:
    prefix = "SELECT "
    for s in _parse_sql(prefix + text):
        st = _Stmt(ctx, text, offset, len(prefix), out)
        st.walk(s["stmt"], [], set())


def _line_starts(body: str) -> list[int]:
    starts = [0]
    for m in re.finditer("\n", body):
        starts.append(m.end())
    return starts


class _Locator:
    """Finds each embedded statement's text in the body: a verbatim slice, except that
    PL/pgSQL blanks ``INTO target`` with spaces (same length) and writes ``PERFORM`` as
    ``SELECT`` (one character shorter)."""

    def __init__(self, body: str):
        self.body = body
        self.lines = _line_starts(body)
        self.claimed: list[tuple[int, int]] = []
        try:
            toks = _Tokens(body).toks
        except BodyError:
            toks = []
        self.dead = [(s, e) for s, e, name in toks if name in ("SQL_COMMENT", "C_COMMENT", "SCONST", "USCONST",
                                                               "BCONST", "XCONST")]

    def find(self, text: str, lineno: int | None, perform: bool = False) -> int | None:
        """Body offset of ``text`` (as the parser gives it) on or after line ``lineno``."""
        pat = []
        if perform:
            pat.append(r"(?i:perform)")
            text = text[len("SELECT"):]
        for p in re.split(r"(\s+)", text):
            if p:
                pat.append(r"[\s\S]{%d}" % len(p) if p.isspace() else re.escape(p))
        rx = re.compile("".join(pat))
        start = self.lines[lineno - 1] if lineno and 0 < lineno <= len(self.lines) else 0
        pos = start
        while True:
            m = rx.search(self.body, pos)
            if m is None:
                return None
            s, e = m.span()
            pos = s + 1
            if any(a <= s < b for a, b in self.dead) or any(not (e <= a or s >= b) for a, b in self.claimed):
                continue
            self.claimed.append((s, e))
            return s + (1 if perform else 0)


def _plpgsql(ctx: _Ctx, definition: str, source: str, out: Analysis) -> None:
    from pglast import parser

    try:
        tree = json.loads(parser.parse_plpgsql_json(definition))
    except Exception as exc:
        raise BodyError(_msg(exc)) from None
    loc = _Locator(source)

    def expr(e: dict, lineno, dynamic: bool, perform: bool):
        query, mode = e.get("query", ""), e.get("parseMode", 0)
        if dynamic:
            out.dynamic = True
        offset = loc.find(query, lineno, perform and query.startswith("SELECT"))
        if mode in (3, 4, 5):  # assignment: "target := expression"
            toks = _Tokens(query).toks
            k = next((i for i, t in enumerate(toks) if t[2] in ("COLON_EQUALS", "ASCII_61")), None)
            if k is None:
                raise BodyError(f"cannot read the assignment {query!r}")
            head = toks[k][1]
            _assign_target(ctx, query[:toks[k][0]], offset, out)
            _sql_expression(ctx, query[head:], offset + head if offset is not None else None, out)
        elif mode == 0:
            return _sql_statement(ctx, query, offset, out)
        else:
            _sql_expression(ctx, query, offset, out)
        return None

    def walk(node, lineno, dynamic: bool, perform: bool = False):
        if isinstance(node, list):
            for x in node:
                walk(x, lineno, dynamic, perform)
            return
        if not isinstance(node, dict):
            return
        lineno = node.get("lineno", lineno)
        for k, v in node.items():
            if k == "PLpgSQL_expr":
                expr(v, lineno, dynamic, perform)
            elif k in _DYNAMIC_STMTS:
                for kk, vv in v.items():
                    walk(vv, v.get("lineno", lineno), kk == "query")
            elif k in _DYNAMIC_KEYS:
                walk(v, lineno, True)
            elif k == "PLpgSQL_stmt_perform":
                walk(v, v.get("lineno", lineno), False, True)
            elif k in ("PLpgSQL_stmt_fors", "PLpgSQL_stmt_execsql"):
                ln = v.get("lineno", lineno)
                q_ = (v.get("query") or v.get("sqlstmt") or {}).get("PLpgSQL_expr")
                cols = expr(q_, ln, dynamic, False) if q_ is not None else None
                rec = (v.get("var") or v.get("target") or {}).get("PLpgSQL_rec")
                if rec and (k == "PLpgSQL_stmt_fors" or v.get("into")):
                    ctx.record_from(rec["refname"], cols)
                walk({kk: vv for kk, vv in v.items() if kk not in ("query", "sqlstmt")}, ln, dynamic)
            elif k == "PLpgSQL_type":
                _declared_type(ctx, loc, v.get("typname", ""), lineno, out)
            elif k == "PLpgSQL_var" and "%rowtype" in (v.get("datatype", {}).get("PLpgSQL_type", {})
                                                        .get("typname", "").lower()):
                # r "User"%ROWTYPE: its fields are the table's columns
                cols = _rowtype_columns(ctx, v["datatype"]["PLpgSQL_type"]["typname"])
                if cols is not None:
                    ctx.record_from(v["refname"], cols)
                walk(v, v.get("lineno", lineno), dynamic, perform)
            elif isinstance(v, (dict, list)):
                walk(v, lineno, dynamic, perform)

    for fn in tree:
        f = fn.get("PLpgSQL_function", fn)
        walk(f.get("datums", []), None, False)
        walk(f.get("action"), None, False)


_IDENT = r'(?:"(?:[^"]|"")*"|[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)'
_TYPE_REF = re.compile(r"(%s(?:\s*\.\s*%s){0,2})\s*%%\s*(rowtype|type)\b" % (_IDENT, _IDENT), re.I)


def _ident_parts(text: str) -> list[str]:
    out = []
    for raw in re.findall(_IDENT, text):
        out.append(raw[1:-1].replace('""', '"') if raw.startswith('"') else raw.lower())
    return out


def _rowtype_table(ctx: _Ctx, typ: str) -> TableRename | None:
    parts = typ.rsplit("%", 1)[0].split(".")
    if not parts or len(parts) > 2:
        return None
    name, schema = parts[-1], (parts[0] if len(parts) == 2 else None)
    for r in ctx.renames:
        if name in (r.old, r.new) and (schema == r.schema or (
                schema is None and resolves_to(name, r.schema, ctx.path, ctx.catalog))):
            return r
    return None


def _rowtype_columns(ctx: _Ctx, typ: str) -> dict[str, str] | None:
    """The fields (now -> after) of a ``"Table"%ROWTYPE`` variable of a renamed table."""
    r = _rowtype_table(ctx, typ)
    if r is None:
        return None
    now = ctx.catalog.columns.get((r.schema, r.old)) or ctx.catalog.columns.get((r.schema, r.new)) or ()
    return {c: r.columns.get(c, c) for c in now}


def _declared_type(ctx: _Ctx, loc: "_Locator", typ: str, lineno, out: Analysis) -> None:
    """A declaration ``r "User"%ROWTYPE`` or ``x "User"."email"%TYPE`` (PL/pgSQL copies
    the type when the function is compiled: the text must follow the rename). The
    parser gives the reference without quotes and the line it is on; the text there is
    found by tokens, outside comments and strings, and edited: the table written
    schema-qualified, a renamed column renamed."""
    if "%" not in typ:
        return
    kind = typ.rsplit("%", 1)[1].lower()
    parts = typ.rsplit("%", 1)[0].split(".")
    tparts = parts if kind == "rowtype" else parts[:-1]
    if not tparts or len(tparts) > 2:
        return  # x%TYPE of a variable, or catalog.schema.table
    name, schema = tparts[-1], (tparts[0] if len(tparts) == 2 else None)
    ren = None
    for r in ctx.renames:
        if name not in (r.old, r.new):
            continue
        if schema == r.schema or (schema is None and resolves_to(name, r.schema, ctx.path, ctx.catalog)):
            ren = r
    if ren is None:
        return
    out.table_refs.append((schema, name))
    col = parts[-1] if kind == "type" else None
    new_col = ren.columns.get(col, col) if col else None
    if name == ren.new and (col is None or new_col == col):
        return  # already the new names
    start = loc.lines[lineno - 1] if lineno and 0 < lineno <= len(loc.lines) else 0
    end = loc.lines[lineno] if lineno and lineno < len(loc.lines) else len(loc.body)
    for m in _TYPE_REF.finditer(loc.body, start, end):
        if any(a <= m.start() < b for a, b in loc.dead):
            continue
        got = _ident_parts(m.group(1))
        if got != parts:
            continue
        rep = qq(ren.schema, ren.new) + (f".{q(new_col)}" if col else "")
        out.edits.append((m.start(1), m.end(1), rep))
        return
    out.unsafe.append(f"declares a variable of type {typ!r}, which could not be located in the body: "
                      "rewrite it by hand")


def _assign_target(ctx: _Ctx, target: str, offset: int | None, out: Analysis) -> None:
    """``NEW."col" := ...`` in a trigger function: a field of its table's row."""
    toks = _Tokens(target).toks
    if len(toks) != 3 or toks[1][2] != "ASCII_46":
        return
    raw = target[toks[2][0]:toks[2][1]]
    col = raw[1:-1].replace('""', '"') if raw.startswith('"') else raw.lower()
    var = target[toks[0][0]:toks[0][1]].lower()
    st = _Stmt(ctx, target, offset, 0, out)
    if var in ("new", "old") and ctx.trigger_tables is not None:
        st._trigger_column(col, toks[0][0], 2)
    elif ctx.records.get(var) is not None:
        st._column(_Item(var, cols=ctx.records[var], aliased=True), col, toks[0][0], 2, [])
    elif col in ctx.renamed_cols:
        st.unsafe(f"cannot tell which table {var}.{col!r} refers to (a record or composite variable?)")


def analyze(language: str, source: str, definition: str | None, catalog: Catalog, path: tuple[str, ...],
            renames: list[TableRename] | None = None, trigger_tables: list[tuple[str, str]] | None = None) -> Analysis:
    """Read one function body; with ``renames``, compute the edits that follow them.
    ``trigger_tables``: for a trigger function, the tables its triggers are on.

    Raises :class:`BodyError` when the parser cannot read it."""
    out = Analysis()
    ctx = _Ctx(catalog, path, renames, trigger_tables)
    if language not in REWRITABLE_LANGUAGES:
        raise BodyError(f"{language} bodies are not parsed")
    try:
        if language == "sql":
            _sql_statement(ctx, source, 0, out)
        else:
            _plpgsql(ctx, definition or "", source, out)
    except BodyError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as exc:  # a parse tree of a shape not handled here
        raise BodyError(f"its parse tree could not be read ({type(exc).__name__}: {exc})") from None
    if out.dynamic and out.string_mentions:
        names = ", ".join(sorted(out.string_mentions))
        out.unsafe.append(f"runs EXECUTE of a built string, and a string literal names {names} (dynamic SQL)")
    return out


def apply_edits(source: str, edits: list[tuple[int, int, str]]) -> str:
    out, pos = [], 0
    for s, e, new in sorted(set(edits)):
        if s < pos:
            raise BodyError("overlapping edits")
        out.append(source[pos:s])
        out.append(new)
        pos = e
    out.append(source[pos:])
    return "".join(out)


def atomic_table_refs(definition: str) -> list[tuple[str | None, str]]:
    """The tables a SQL-standard body (``BEGIN ATOMIC``) names, read from its
    ``pg_get_functiondef`` text, which PostgreSQL writes from the stored parse tree
    (so by OID: a renamed table reads under its new name). Raises :class:`BodyError`
    when the parser cannot read it."""
    refs: list[tuple[str | None, str]] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            rv = node.get("RangeVar")
            if isinstance(rv, dict) and "relname" in rv:
                refs.append((rv.get("schemaname"), rv["relname"]))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(_parse_sql(definition))
    return refs
