"""``runbook scan-code``: the code of the services around the database that names old tables.

After the rename, a service whose code still says ``"User"`` breaks. :func:`scan` reads
the ``.ts/.tsx/.js/.mjs/.py/.sql/.prisma/.go/.rb`` files under some folders (never
``node_modules``, ``.git``, virtual environments or build output) and finds, from the
mapping, every old table name and every renamed column:

* **raw SQL** (``raw SQL``): a string literal passed to ``$queryRaw``/``$executeRaw``,
  a ``sql`` tag, ``text()``, ``execute()``, ``query()``, ``Exec``/``Query`` ... or one
  that reads as SQL, parsed by PostgreSQL's parser (:mod:`.sql`);
* **query builders** (``query builder``): knex, kysely, drizzle, TypeORM, SQLAlchemy, GORM,
  ActiveRecord table names (``.from("User")``, ``selectFrom("User")``,
  ``pgTable("User", ...)``, ``Table("User", ...)``, ``__tablename__ = "User"``), and the
  columns named in the same statement;
* **Prisma models** (``Prisma model``): a model without ``@@map`` whose name is an old
  table, a ``@@map`` naming one, a field whose column is an old column (:mod:`.prisma`);
* **SQL files** (``SQL file``): ``.sql`` files; an applied Prisma migration (a
  ``migration.sql`` under a folder with ``migration_lock.toml``) is history, whose
  checksum Prisma records: it is listed as skipped, never reported nor patched.

Comments, UI strings, type and class names, import paths are never hits: identifiers
are not read at all, only string literals in a place that makes them a table name or
SQL. Unquoted ``User`` in SQL is the table ``user`` (PostgreSQL folds it) and is not
reported. Each :class:`Hit` has a confidence; :func:`patch` writes the high ones'
replacements as a unified diff, never editing a file.
"""

from __future__ import annotations

import difflib
import os
import re
from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import BadInput
from .names import Names
from .sql import HIGH, LOW, MEDIUM, find_refs

__all__ = ["Hit", "ScanResult", "scan", "patch", "EXTENSIONS", "KINDS"]

EXTENSIONS = (".ts", ".tsx", ".js", ".mjs", ".cjs", ".jsx", ".py", ".sql", ".prisma", ".go", ".rb")
SKIP_DIRS = {"node_modules", ".git", ".hg", ".svn", "venv", ".venv", "env", ".env", "__pycache__", ".tox", ".nox",
             ".mypy_cache", ".pytest_cache", ".ruff_cache", "dist", "build", "out", ".next", ".nuxt", ".turbo",
             ".cache", "coverage", "target", "vendor", ".bundle", "site-packages", ".terraform"}
MAX_BYTES = 2 * 1024 * 1024  # larger files (minified bundles, dumps) are skipped and said so
RAW, BUILDER, PRISMA, SQLFILE = "raw SQL", "query builder", "Prisma model", "SQL file"
KINDS = (RAW, BUILDER, PRISMA, SQLFILE)
CONFIDENCES = (HIGH, MEDIUM, LOW)


@dataclass(frozen=True)
class Hit:
    file: str  # as shown: relative to the current folder when under it
    line: int
    column: int
    old: str
    new: str
    kind: str  # one of KINDS
    confidence: str  # high | medium | low
    what: str  # table | column
    note: str = ""
    start: int = field(default=0, repr=False)
    end: int = field(default=0, repr=False)
    edit: tuple[int, int, str] | None = field(default=None, repr=False)
    path: str = field(default="", repr=False)  # absolute: what patch() reads

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("start", "end", "edit", "path"):
            d.pop(k)
        d["location"] = self.location
        return d


@dataclass(frozen=True)
class ScanResult:
    roots: tuple[str, ...]
    files: int  # files read
    hits: tuple[Hit, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # (file, why)
    mapping: str = ""

    @property
    def files_with_hits(self) -> int:
        return len({h.file for h in self.hits})

    @property
    def found(self) -> bool:
        return bool(self.hits)

    @property
    def verdict(self) -> str:
        if self.hits:
            return f"found: {len(self.hits)} references in {self.files_with_hits} files"
        return f"clean: no reference to an old name in {self.files} files"

    def counts(self) -> dict:
        return {
            "by_kind": {k: sum(h.kind == k for h in self.hits) for k in KINDS},
            "by_confidence": {c: sum(h.confidence == c for h in self.hits) for c in CONFIDENCES},
            "by_name": {n: sum(h.old == n for h in self.hits) for n in sorted({h.old for h in self.hits})},
        }

    def to_dict(self) -> dict:
        return {"roots": list(self.roots), "mapping": self.mapping, "files": self.files,
                "files_with_hits": self.files_with_hits, "hits": [h.to_dict() for h in self.hits],
                "summary": self.counts(), "skipped": [{"file": f, "why": w} for f, w in self.skipped],
                "verdict": self.verdict}


# -- walking ---------------------------------------------------------------------------

def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _files(roots: list[Path]):
    for root in roots:
        if root.is_file():
            yield root
            continue
        for here, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
                             and not (Path(here, d) / "pyvenv.cfg").exists())
            for f in sorted(files):
                if f.endswith(EXTENSIONS) and not f.endswith((".d.ts", ".min.js")):
                    yield Path(here, f)


# -- what a literal is -----------------------------------------------------------------

_BUILDER_CALL = re.compile(
    r"(?:(?<!Array)(?<!Buffer)(?<!Object)(?<!path)(?<!console)\.(?:from|table|join|leftJoin|rightJoin|innerJoin|fullOuterJoin|crossJoin|leftOuterJoin|rightOuterJoin"
    r"|into|selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto|hasTable|createTable"
    r"|createTableIfNotExists|dropTable|dropTableIfExists|alterTable|renameTable|truncate|Table|From|Into"
    r"|Join|LeftJoin|InnerJoin|joins|from_table)"
    r"|(?<!console\.)\b(?:knex|db|trx|kx|qb|pgTable|Table|table|sq\.(?:Insert|Update|Delete)|squirrel\.(?:Insert|Update|Delete)"
    r"|sql\.(?:table|id))"
    r")\s*\(\s*(?:\[\s*(?:(?:\"[^\"\n]*\"|'[^'\n]*')\s*,\s*)*)?$")
_BUILDER_ASSIGN = re.compile(r"(?:\b__tablename__|\btable_name|\bdb_table)\s*=\s*$|\btableName\s*:\s*$"
                             r"|\bTableName\s*\(\s*\)\s*string\s*\{\s*return\s+$"  # GORM's TableName()
                             r"|@Entity\s*\(\s*(?:\{\s*(?:name|tableName)\s*:\s*)?$")  # TypeORM, MikroORM
_FOREIGN_KEY = re.compile(r"\bForeignKey\s*\(\s*$")  # SQLAlchemy: ForeignKey("User.id") names the table
_COLUMN_CALL = re.compile(
    r"\b(?:Column|mapped_column|text|varchar|char|integer|int|bigint|smallint|serial|bigserial|boolean|timestamp"
    r"|date|uuid|json|jsonb|real|doublePrecision|numeric|decimal|pgEnum)\s*\(\s*$")
_SINK = re.compile(
    r"(?:\$(?:queryRaw|executeRaw|queryRawUnsafe|executeRawUnsafe)(?:<[^>]*>)?\s*\(?"
    r"|\b(?:sql|Prisma\.sql|sql\.unsafe|raw)\s*"
    r"|\b(?:where|orWhere|andWhere|having|orHaving|orderBy|groupBy|join|select|from|update|whereNot)Raw\s*\(\s*"
    r"|\b(?:text|execute|executemany|exec_driver_sql|executescript|query|queryRow|raw|Raw|Exec|ExecContext|Query"
    r"|QueryContext|QueryRow|QueryRowContext|Select|Get|MustExec|NamedExec|Prepare|PrepareContext|fetch|fetchrow"
    r"|fetchval|find_by_sql|exec_query|select_all|select_one|select_value|select_rows|exec|SQL|unsafe)"
    r"\s*\(\s*(?:[A-Za-z_][\w.]*\s*,\s*)?)$")
_LOOKS_SQL = re.compile(
    r"^\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|TRUNCATE|COPY|MERGE|GRANT|REVOKE|COMMENT|LOCK)\b"
    r"|\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+\"", re.I)
_COLUMN_METHOD = re.compile(
    r"\.(?:select|where|andWhere|orWhere|whereIn|whereNotIn|whereNull|whereNotNull|orderBy|groupBy|returning|pluck"
    r"|column|columns|distinct|distinctOn|having|increment|decrement|sum|max|min|avg|count|Select|Where|Order|Group"
    r"|Pluck|Omit)\s*\(\s*\[?\s*(?:(?:\"[^\"\n]*\"|'[^'\n]*')\s*,\s*)*$")
_BUILDER_VALUE = re.compile(r"^(?:(?P<schema>\w+)\.)?(?P<table>\w+)(?:\s+(?:as\s+)?(?P<alias>\w+))?$", re.I)
_QUALIFIED = re.compile(r"^(?P<q>\w+)\.(?P<col>\w+)$")


@dataclass
class _Scope:
    table: str
    end: int
    aliases: dict


def _scope_end(code: str, lit_end: int, zero_indent: bool) -> int:
    """Where the statement of a builder call ends: ``;``, a blank line, or (for a class
    attribute: ``__tablename__``, ``table_name``) the next line at the left margin."""
    pat = r"\n(?=[^\s#])" if zero_indent else r";|\n[^\S\n]*\n"
    m = re.compile(pat).search(code, lit_end)
    return m.start() if m else len(code)


def _scan_source(text: str, family: str, names: Names) -> list[tuple[int, int, str, str, str, str, str]]:
    """(start, end, old, new, kind, confidence, what) for one source file."""
    from .source import literals

    lits, code = literals(text, family)
    out = []
    scope: _Scope | None = None
    known = set(names.tables) | set(names.tables.values())
    for lit in lits:
        before = code[max(0, lit.start - 160):lit.start]
        if scope is not None and lit.start > scope.end:
            scope = None
        m_call = _BUILDER_CALL.search(before) or _BUILDER_ASSIGN.search(before)
        value = _BUILDER_VALUE.match(lit.text) if m_call else None
        if value and value["table"] in known and value["schema"] in (None, names.schema):
            table = value["table"]
            if names.is_old(table):
                a = lit.offsets[value.start("table")]
                out.append((a, a + len(table), table, names.tables[table], BUILDER, HIGH, "table"))
            zero = bool(_BUILDER_ASSIGN.search(before)) and "tableName" not in before[-20:]
            aliases = {table: table}
            if value["alias"]:
                aliases[value["alias"]] = table
            if scope is not None and lit.start <= scope.end:
                aliases = {**scope.aliases, **aliases}
            scope = _Scope(table, _scope_end(code, lit.end, zero), aliases)
            continue
        if _FOREIGN_KEY.search(before) and (fk := _QUALIFIED.match(lit.text)) and fk["q"] in known:
            out.extend(_column_literal(lit, _Scope(fk["q"], lit.end, {fk["q"]: fk["q"]}), names, before))
            continue
        if scope is not None and not lit.template:
            col_hits = _column_literal(lit, scope, names, before)
            if col_hits:
                out.extend(col_hits)
                continue
        sink = bool(_SINK.search(before)) or _concatenated(code, lit, before)
        if sink or (_LOOKS_SQL.search(lit.text) and not _is_bare_statement(code, lit)):
            refs, _ = find_refs(lit.text, names, in_sink=sink)
            for r in refs:
                a, b = lit.offsets[r.start], lit.offsets[r.end - 1] + 1
                if b - a == r.end - r.start:  # the name is written as it is (no escape inside)
                    out.append((a, b, r.old, r.new, RAW, r.confidence, r.what))
    return out


def _concatenated(code: str, lit, before: str) -> bool:
    """A piece of a string built with ``+`` that holds a quoted identifier:
    ``"SELECT * FROM " + '"User"'``."""
    if '"' not in lit.text:
        return False
    return before.rstrip().endswith("+") or code[lit.end:lit.end + 40].lstrip().startswith("+")


def _is_bare_statement(code: str, lit) -> bool:
    """A literal that is a statement by itself (a docstring, a directive): passed to
    nothing, so never SQL: alone on its line(s) after a ``:``, ``;``, ``{``, ``}`` or the
    start of the file."""
    eol = code.find("\n", lit.end)
    if code[lit.end:eol if eol >= 0 else len(code)].strip() not in ("", ";"):
        return False
    k = lit.start - 1
    while k >= 0 and code[k] in " \t":
        k -= 1
    if k >= 0 and code[k] != "\n":
        return False  # something before it on its line
    while k >= 0 and code[k].isspace():
        k -= 1
    return k < 0 or code[k] in ":;{}"


def _column_literal(lit, scope: _Scope, names: Names, before: str) -> list:
    """A literal in a builder call's statement: ``"col"`` of its table, ``"alias.col"``,
    ``"User.id"`` (the table part is a reference too)."""
    if not lit.text or lit.offsets[-1] - lit.offsets[0] != len(lit.text) - 1:
        return []  # an escape inside: not a plain name
    m = _QUALIFIED.match(lit.text)
    if m and m["q"] in scope.aliases:
        out = []
        if names.is_old(m["q"]):
            a = lit.offsets[m.start("q")]
            out.append((a, a + len(m["q"]), m["q"], names.tables[m["q"]], BUILDER, HIGH, "table"))
        new = names.renamed_column(scope.aliases[m["q"]], m["col"])
        if new:
            a = lit.offsets[m.start("col")]
            out.append((a, a + len(m["col"]), m["col"], new, BUILDER, HIGH, "column"))
        return out
    tables = set(scope.aliases.values())
    owners = [t for t in tables if names.renamed_column(t, lit.text)]
    if len(owners) == 1:  # the one table of the statement that renames it
        sure = len(tables) == 1 and (_COLUMN_CALL.search(before) or _COLUMN_METHOD.search(before))
        new = names.renamed_column(owners[0], lit.text)
        return [(lit.offsets[0], lit.offsets[0] + len(lit.text), lit.text, new, BUILDER, HIGH if sure else MEDIUM,
                 "column")]
    return []


def _is_applied_prisma_migration(path: Path) -> bool:
    return path.name == "migration.sql" and (path.parent.parent / "migration_lock.toml").exists()


# -- the scan --------------------------------------------------------------------------

def scan(roots, mapping=None) -> ScanResult:
    """Every reference to an old name of ``mapping`` (a Mapping, a path, None: the default)
    in the files under ``roots`` (folders or files)."""
    from ..mapping import as_mapping

    m = as_mapping(mapping)
    names = Names.from_mapping(m)
    paths = [Path(r) for r in roots]
    if not paths:
        raise BadInput("scan-code needs at least one folder")
    for p in paths:
        if not p.exists():
            raise BadInput(f"scan-code: {p} does not exist")
        if not (p.is_dir() or p.is_file()):
            raise BadInput(f"scan-code: {p} is not a folder or a file")
        if p.is_file() and not p.name.endswith(EXTENSIONS):
            raise BadInput(f"scan-code: {p} is not a {'/'.join(EXTENSIONS)} file")
    from .source import FAMILIES

    hits: list[Hit] = []
    skipped: list[tuple[str, str]] = []
    count = 0
    seen: set[Path] = set()
    for path in _files(paths):
        real = path.resolve()
        if real in seen:
            continue
        seen.add(real)
        shown = _display(path)
        try:
            if path.stat().st_size > MAX_BYTES:
                skipped.append((shown, f"larger than {MAX_BYTES // (1024 * 1024)} MiB"))
                continue
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            skipped.append((shown, "not UTF-8"))
            continue
        except OSError as exc:
            skipped.append((shown, exc.strerror or "cannot be read"))
            continue
        count += 1
        hits.extend(_scan_file(path, shown, text, names, FAMILIES, skipped))
    hits.sort(key=lambda h: (h.file, h.line, h.column))
    return ScanResult(tuple(_display(p) for p in paths), count, tuple(hits), tuple(skipped), m.source)


_NEWLINE = re.compile("\n")


def _scan_file(path: Path, shown: str, text: str, names: Names, families, skipped) -> list[Hit]:
    starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
    absolute = str(path.resolve())

    def hit(a, b, old, new, kind, conf, what, note="", edit=None):
        ln = bisect_right(starts, a)
        e = edit if edit is not None else (a, b, new)
        return Hit(shown, ln, a - starts[ln - 1] + 1, old, new, kind, conf, what, note, a, b, e, absolute)

    suffix = path.suffix.lower()
    out: list[Hit] = []
    if suffix == ".prisma":
        from ..prisma import PrismaSyntaxError
        from .prisma import scan_prisma

        try:
            refs = scan_prisma(text, names, shown)
        except PrismaSyntaxError as exc:
            skipped.append((shown, f"not a Prisma schema: {exc.reason} (line {exc.line})"))
            return []
        for r in refs:
            note = "model without @@map" if r.what == "table" and r.edit[0] == r.edit[1] else ""
            out.append(hit(r.start, r.end, r.old, r.new, PRISMA, HIGH, r.what, note, r.edit))
    elif suffix == ".sql":
        if _is_applied_prisma_migration(path):  # history: Prisma records its checksum; never edited
            skipped.append((shown, "an applied Prisma migration (history, never edited)"))
            return []
        refs, parsed = find_refs(text, names, in_sink=True)
        note = "" if parsed else "read by the tokenizer (the file does not parse)"
        for r in refs:
            out.append(hit(r.start, r.end, r.old, r.new, SQLFILE, r.confidence, r.what, note))
    else:
        seen = set()
        for a, b, old, new, kind, conf, what in _scan_source(text, families[suffix], names):
            if a not in seen:
                seen.add(a)
                out.append(hit(a, b, old, new, kind, conf, what))
    return out


# -- the patch -------------------------------------------------------------------------

def patch(result: ScanResult, confidence: str = HIGH) -> str:
    """A unified diff of the suggested replacements of the ``confidence`` hits (``patch -p1``
    applies it from the current folder); no file is changed."""
    by_file: dict[str, list[Hit]] = {}
    for h in result.hits:
        if h.confidence == confidence and h.edit is not None:
            by_file.setdefault(h.file, []).append(h)
    chunks = []
    for f in sorted(by_file):
        old = Path(by_file[f][0].path or f).read_text(encoding="utf-8")
        new = old
        for a, b, repl in sorted({h.edit for h in by_file[f]}, reverse=True):
            new = new[:a] + repl + new[b:]
        diff = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                    f"a/{f}", f"b/{f}")
        for line in diff:
            chunks.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(chunks)
