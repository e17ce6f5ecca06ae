"""Table and column references in one SQL text: PostgreSQL's parser first, a tokenizer after.

A text that parses (pglast: libpg_query) is read as statements: every ``RangeVar`` is a
table reference (its name already folded as PostgreSQL folds it, so unquoted ``User`` is
the table ``user``, never ``"User"``), every ``ColumnRef``, ``INSERT`` column, ``UPDATE
... SET`` target and ``CREATE TABLE`` column is a column reference, resolved to the FROM
item it names (alias, table) or, unqualified, to the statement's one table that renames
it. String literals and comments are never references.

The body of a dollar quote (``CREATE FUNCTION ... AS $$ ... $$``, ``DO $$ ... $$``) is
read the same way, as SQL if it parses (``LANGUAGE sql``), else as a fragment (PL/pgSQL).

A fragment that does not parse (``FROM "User" WHERE`` built across template pieces, a
placeholder where a table goes) is read by :func:`_tokens`: quoted identifiers outside
string literals, comments and dollar quotes. Unquoted words are never hits there either.

Positions are indices into the text given (pglast's byte offsets are turned into
character indices); :class:`Ref` spans cover the name itself, inside its quotes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .names import Names

HIGH, MEDIUM, LOW = "high", "medium", "low"
_TABLE_KEYWORDS = {"from", "join", "into", "update", "table", "only", "truncate", "references", "on"}


@dataclass(frozen=True)
class Ref:
    start: int  # index of the name's first character in the text
    end: int
    old: str
    new: str
    what: str  # "table" | "column"
    confidence: str


# -- placeholders ----------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\?|(?<![:\w]):(?!:)[A-Za-z_]\w*")


def _prepare(sql: str) -> tuple[str, list[int]]:
    """``?``, ``%s``, ``%(name)s`` and ``:name`` outside quotes become ``$1`` (libpq's form,
    which the parser reads), with the index in ``sql`` of every character of the result."""
    out: list[str] = []
    idx: list[int] = []
    i, n = 0, len(sql)
    quote = None
    while i < n:
        c = sql[i]
        if quote:
            out.append(c)
            idx.append(i)
            if c == quote:
                quote = None
            i += 1
            continue
        if c in "'\"":
            quote = c
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.extend(sql[i:j])
            idx.extend(range(i, j))
            i = j
            continue
        else:
            m = _PLACEHOLDER.match(sql, i)
            if m:
                out.extend("$1")
                idx.extend((i, i))
                i = m.end()
                continue
        out.append(c)
        idx.append(i)
        i += 1
    return "".join(out), idx


# -- identifiers at a position ---------------------------------------------------------

_WORD = re.compile(r"[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*")


def _ident_at(s: str, i: int):
    """(value as PostgreSQL reads it, start, end of the name, index after it) or None."""
    if i < len(s) and s[i] == '"':
        j = s.find('"', i + 1)
        while j >= 0 and s.startswith('""', j):
            j = s.find('"', j + 2)
        if j < 0:
            return None
        return s[i + 1 : j].replace('""', '"'), i + 1, j, j + 1
    m = _WORD.match(s, i)
    if not m:
        return None
    return m.group().lower(), m.start(), m.end(), m.end()


def _dotted_at(s: str, i: int) -> list[tuple[str, int, int]]:
    parts = []
    while True:
        got = _ident_at(s, i)
        if got is None:
            return parts
        value, a, b, i = got
        parts.append((value, a, b))
        j = i
        while j < len(s) and s[j].isspace():
            j += 1
        if j < len(s) and s[j] == ".":
            j += 1
            while j < len(s) and s[j].isspace():
                j += 1
            i = j
        else:
            return parts


# -- the parser's view -----------------------------------------------------------------

def _parse(sql: str):
    from pglast import parser

    try:
        return json.loads(parser.parse_sql_json(sql)).get("stmts", [])
    except Exception:  # pglast.parser.ParseError, and anything libpg_query refuses
        return None


@dataclass
class _Stmt:
    ranges: list  # (relname, schemaname, alias, location)
    ctes: set
    columns: list  # ("ref", fields, location) | ("name", name, location, relation or None)


def _collect(node, st: _Stmt, relation=None) -> None:
    if isinstance(node, list):
        for x in node:
            _collect(x, st, relation)
        return
    if not isinstance(node, dict):
        return
    if "relname" in node and "location" in node:  # a RangeVar (wrapped or bare)
        alias = (node.get("alias") or {}).get("aliasname")
        st.ranges.append((node["relname"], node.get("schemaname"), alias, node["location"]))
        return
    for key, val in node.items():
        if key == "ColumnRef":
            fields = val.get("fields", [])
            if fields and all("String" in f or "A_Star" in f for f in fields):
                st.columns.append(("ref", [f["String"]["sval"] if "String" in f else "*" for f in fields],
                                   val.get("location", -1), None))
        elif key == "CommonTableExpr":
            st.ctes.add(val.get("ctename"))
            _collect(val, st, relation)
        elif key in ("InsertStmt", "UpdateStmt"):
            rel = val.get("relation") or {}
            _collect(rel, st)
            targets = val.get("cols" if key == "InsertStmt" else "targetList", [])
            for t in targets:
                rt = t.get("ResTarget", {})
                if rt.get("name"):
                    st.columns.append(("name", rt["name"], rt.get("location", -1), rel))
            _collect({k: v for k, v in val.items() if k not in ("relation", "cols", "targetList")}, st)
            for t in targets:  # SET a = <expression>: the expressions
                _collect(t.get("ResTarget", {}).get("val"), st)
        elif key == "CreateStmt":
            rel = val.get("relation") or {}
            _collect(rel, st)
            for elt in val.get("tableElts", []):
                cd = elt.get("ColumnDef")
                if cd and cd.get("colname"):
                    st.columns.append(("name", cd["colname"], cd.get("location", -1), rel))
                _collect(elt, st)
            _collect({k: v for k, v in val.items() if k not in ("relation", "tableElts")}, st)
        else:
            _collect(val, st, relation)


def _byte_to_char(sql: str):
    if sql.isascii():
        return lambda b: b
    table = []
    for ci, ch in enumerate(sql):
        table.extend([ci] * len(ch.encode("utf-8")))
    table.append(len(sql))
    return lambda b: table[b] if 0 <= b < len(table) else -1


def _parsed_refs(sql: str, stmts, names: Names) -> list[Ref]:
    at = _byte_to_char(sql)
    refs: list[Ref] = []
    for s in stmts:
        st = _Stmt([], set(), [])
        _collect(s.get("stmt"), st)
        mine = [(rel, alias, loc) for rel, schema, alias, loc in st.ranges
                if (schema is None and rel not in st.ctes) or schema == names.schema]
        for rel, alias, loc in mine:
            if not names.is_old(rel):
                continue
            parts = _dotted_at(sql, at(loc))
            if parts and parts[-1][0] == rel:
                refs.append(Ref(parts[-1][1], parts[-1][2], rel, names.tables[rel], "table", HIGH))
        scope = {}
        for rel, alias, _ in mine:
            scope.setdefault(rel, rel)
            if alias:
                scope[alias] = rel
        tables = {rel for rel, _, _ in mine}
        for kind, what, loc, rel in st.columns:
            if kind == "name":
                if rel is None or (rel.get("schemaname") not in (None, names.schema)):
                    continue
                new = names.renamed_column(rel.get("relname"), what)
                if new is None:
                    continue
                got = _ident_at(sql, at(loc))
                if got and got[0] == what:
                    refs.append(Ref(got[1], got[2], what, new, "column", HIGH))
                continue
            col = what[-1]
            if len(what) >= 2 and names.is_old(what[-2]) and scope.get(what[-2]) == what[-2] \
                    and (len(what) == 2 or what[-3] == names.schema):
                parts = _dotted_at(sql, at(loc))  # "User".id, "User".*: the qualifier names the table
                if len(parts) >= len(what) - 1 and parts[len(what) - 2][0] == what[-2]:
                    p = parts[len(what) - 2]
                    refs.append(Ref(p[1], p[2], what[-2], names.tables[what[-2]], "table", HIGH))
            if col == "*":
                continue
            if len(what) == 1:
                owners = [t for t in tables if names.renamed_column(t, col)]
                if len(owners) != 1:
                    continue
                new, conf = names.renamed_column(owners[0], col), HIGH if len(tables) == 1 else MEDIUM
            else:
                qual = what[-2]
                table = scope.get(qual) if len(what) == 2 or what[-3] == names.schema else None
                new, conf = names.renamed_column(table, col), HIGH
                if new is None:
                    continue
            parts = _dotted_at(sql, at(loc))
            if len(parts) == len(what) and parts[-1][0] == col:
                refs.append(Ref(parts[-1][1], parts[-1][2], col, new, "column", conf))
    return refs


# -- the tokenizer's view (fragments) --------------------------------------------------

_DOLLAR = re.compile(r"\$([A-Za-z_]\w*)?\$")


def _tokens(sql: str):
    """("q", value, start, end) for quoted identifiers, ("w", word) for words, ("p", char)
    for punctuation, ("d", None, start, end) for the body of a dollar quote; string
    literals and comments skipped."""
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c.isspace():
            i += 1
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j
        elif c == "/" and sql.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "'":
            backslash = i > 0 and sql[i - 1] in "eE"
            i += 1
            while i < n:
                if backslash and sql[i] == "\\":
                    i += 2
                    continue
                if sql[i] == "'":
                    if sql.startswith("''", i):
                        i += 2
                        continue
                    break
                i += 1
            i += 1
        elif c == "$" and (m := _DOLLAR.match(sql, i)) and not (i and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            body = i + len(m.group())
            end = sql.find(m.group(), body)
            yield ("d", None, body, n if end < 0 else end)
            i = n if end < 0 else end + len(m.group())
        elif c == '"':
            got = _ident_at(sql, i)
            if got is None:
                return
            yield ("q", got[0], got[1], got[2])
            i = got[3]
        elif (m := _WORD.match(sql, i)):
            yield ("w", m.group().lower(), m.start(), m.end())
            i = m.end()
        else:
            yield ("p", c, i, i + 1)
            i += 1


def _fragment_refs(sql: str, names: Names, in_sink: bool) -> list[Ref]:
    toks = list(_tokens(sql))
    refs: list[Ref] = []
    tables = set()
    for k, (kind, value, *_rest) in enumerate(toks):
        prev = toks[k - 1][1] if k and toks[k - 1][0] == "w" else None
        if kind in ("q", "w") and (prev in ("from", "join", "into", "update", "table") or kind == "q"):
            if names.is_old(value) or value in names.tables.values():
                tables.add(value)
    for k, (kind, value, start, end) in enumerate(toks):
        if kind != "q":
            continue
        before = toks[k - 1] if k else None
        after = toks[k + 1] if k + 1 < len(toks) else None
        qualified = before is not None and before[1] == "." and k >= 2
        if qualified and toks[k - 2][0] in ("q", "w") and toks[k - 2][1] != names.schema \
                and not (names.is_old(toks[k - 2][1]) or toks[k - 2][1] in names.tables.values()):
            qualifier = toks[k - 2][1]
        else:
            qualifier = None
        if names.is_old(value) and not (after is not None and after[1] == "." and value in names.all_columns()):
            if qualified and qualifier is not None:
                continue  # other_schema."User", or an alias's column named like a table
            keyword = before is not None and before[0] == "w" and before[1] in _TABLE_KEYWORDS
            dotted = after is not None and after[1] == "."
            if keyword or dotted or qualified:
                refs.append(Ref(start, end, value, names.tables[value], "table", HIGH))
            elif in_sink:
                refs.append(Ref(start, end, value, names.tables[value], "table", MEDIUM))
            continue
        if value in names.all_columns() and not (after is not None and after[1] == "."):
            if qualified and toks[k - 2][0] in ("q", "w"):
                new = names.renamed_column(toks[k - 2][1], value)
                if new:
                    refs.append(Ref(start, end, value, new, "column", HIGH))
                    continue
            owners = {t for t in tables if names.renamed_column(t, value)}
            if len(owners) == 1:
                refs.append(Ref(start, end, value, names.renamed_column(owners.pop(), value), "column", MEDIUM))
            elif in_sink and names.column_anywhere(value):
                refs.append(Ref(start, end, value, names.column_anywhere(value), "column", LOW))
    return refs


def find_refs(sql: str, names: Names, in_sink: bool = True) -> tuple[list[Ref], bool]:
    """The references to old names in ``sql``, and whether the parser read it whole.

    ``in_sink``: the text is known to be run as SQL (passed to ``$queryRaw``, ``execute``
    ...; a ``.sql`` file), so a quoted table name without a keyword before it counts."""
    prepared, idx = _prepare(sql)
    stmts = _parse(prepared)
    if stmts is not None:
        refs = _parsed_refs(prepared, stmts, names)
        parsed = True
    else:
        refs = _fragment_refs(prepared, names, in_sink)
        parsed = False
    for kind, _, a, b in _tokens(prepared):  # dollar-quoted bodies (functions, DO): read as SQL too
        if kind == "d" and b > a:
            inner, _ = find_refs(prepared[a:b], names, True)
            refs += [Ref(r.start + a, r.end + a, r.old, r.new, r.what, r.confidence) for r in inner]
    out = []
    for r in refs:
        a, b = idx[r.start], idx[r.end - 1] + 1
        if b - a == r.end - r.start:  # no placeholder inside the name
            out.append(Ref(a, b, r.old, r.new, r.what, r.confidence))
    return out, parsed
