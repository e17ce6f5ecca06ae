"""``runbook mapping init``: derive a reviewable mapping (and the service's target schema).

Reads the catalog once (:func:`runbook.catalog.inspect.inspect`), picks the tables to
rename, names them by a convention, and writes

* a mapping file (TOML, the format of ``runbook/data/mapping.toml``): one commented
  ``[[tables]]`` block per table, with its rows (exact count, or the planner's estimate
  for a table over 64 MiB, and which one it is) and the foreign keys into it;
* with ``--prisma-schema``/``--target-schema-out``, the service's Prisma schema with
  ``@@map("new")`` on each renamed model, ``@map("new")`` on each renamed column, the
  ``map: "..."`` names of constraints the engine renames, and, for each implicit
  many-to-many table, ``@relation("name")`` on both sides (Prisma names that table
  ``_`` + the relation's name). Model and field names are kept, so the service's code
  does not change. The schema is edited as text at the parser's positions, so its
  comments and layout are kept.

Which tables: every table of the mapping's schema whose name has an upper-case letter
(PascalCase, camelCase), and every implicit many-to-many table (``_CategoryToPost``:
leading underscore, columns ``A`` and ``B``); never ``_prisma_migrations``, never a
table whose name already is its target. ``--tables REGEX`` picks from every table of
the schema instead (``re.search``), ``--exclude REGEX`` removes tables.

Names: ``snake_case`` (``UserProfile`` -> ``user_profile``) or ``snake_case_plural``
(the last word made plural with :mod:`inflect`: ``user_profiles``, ``categories``,
``people``, ``addresses``; uncountable and already-plural words are kept: ``data``,
``news``, ``series``, ``settings``). A many-to-many table keeps its ``_`` and is never
pluralised: ``_CategoryToPost`` -> ``_category_to_post``.

Reserved words: a target that PostgreSQL reserves (``user``, ``order``, ``group``,
``table``, ``values``, ``current_user`` ...: :data:`runbook.naming.RESERVED_KEYWORDS`)
would have to be quoted in every hand-written query, so it is never produced bare:
``--reserved refuse`` (the default) reports it as a conflict; ``--reserved suffix``
appends ``_`` (``user_``, as PEP 8 does for Python keywords) and says so in the block.
``snake_case_plural`` avoids most of them (``users``, ``orders``, ``groups``).

Conflicts (two tables to one name, a name taken by another table, index, sequence or
view, a name over 63 bytes, a reserved target, a name a mapping cannot hold, a
constraint name the engine's plan refuses) are all reported, exit 2, nothing written.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .errors import BadInput, ConflictError, InvalidIdentifier, RunbookError
from .naming import MAX_IDENTIFIER_BYTES, RESERVED_KEYWORDS, qq, validate_identifier

CONVENTIONS = ("snake_case", "snake_case_plural")
COLUMN_CONVENTIONS = ("snake_case",)
RESERVED_STRATEGIES = ("refuse", "suffix")
EXACT_COUNT_MAX_BYTES = 64 * 2**20  # bigger tables get pg_class.reltuples instead of count(*)
PRISMA_MIGRATIONS = "_prisma_migrations"

#: words kept as they are by ``snake_case_plural``: uncountable, or plural already in a
#: way :mod:`inflect` does not recognise (it would write "datas", "medias", "feedbacks").
UNCOUNTABLE = frozenset("""
data metadata media multimedia news series species information info equipment feedback audio
software hardware firmware middleware staff personnel sheep fish deer aircraft offspring advice
knowledge research evidence furniture luggage baggage traffic weather homework music analytics
stats statistics sms mms progress health wildlife clothing merchandise cash chaos moose bison
""".split())

#: singular words ending in "s" that :mod:`inflect`'s ``singular_noun`` would take for a
#: plural (it answers "statu", "bu", "alia"), so that they would be left unchanged.
SINGULAR_S = frozenset("""
status bus campus alias canvas analysis basis axis crisis thesis diagnosis synopsis hypothesis
virus census bonus corpus focus radius genus apparatus syllabus octopus atlas iris lens gas plus
chassis bias prospectus consensus nexus surplus stimulus fungus cactus tennis
""".split())

_WORDS = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(name: str) -> str:
    """``UserProfile`` -> ``user_profile``; ``HTTPRequest`` -> ``http_request``;
    ``userId`` -> ``user_id``; runs of ``_`` collapse, outer ones are kept."""
    lead = len(name) - len(name.lstrip("_"))
    trail = len(name) - len(name.rstrip("_"))
    core = name[lead:len(name) - trail] if trail else name[lead:]
    s = re.sub(r"_+", "_", _WORDS.sub("_", core)).lower()
    return "_" * lead + s + "_" * trail


_inflect = None


def _engine():
    global _inflect
    if _inflect is None:
        import inflect

        _inflect = inflect.engine()
    return _inflect


def plural_word(word: str) -> str:
    """The plural of one lower-case word (kept as it is when uncountable or plural)."""
    m = re.fullmatch(r"([a-z]+?)([0-9]*)", word)
    if not m:
        return word
    stem, digits = m.groups()
    if stem in UNCOUNTABLE or len(stem) < 2:
        return word
    p = _engine()
    if stem not in SINGULAR_S and not stem.endswith(("ss", "is")):
        single = p.singular_noun(stem)
        if single and single != stem and p.plural_noun(single) == stem:
            return word  # already plural: users, categories, people, settings
        if single == stem:
            return word  # inflect's own invariant words
    return p.plural_noun(stem) + digits


def plural(snake_name: str) -> str:
    """Pluralise only the last word: ``user_profile`` -> ``user_profiles``."""
    head, _, last = snake_name.rpartition("_")
    return (head + "_" if head else "") + plural_word(last)


def target_name(name: str, convention: str) -> str:
    s = snake(name)
    return plural(s) if convention == "snake_case_plural" else s


def is_m2m_name(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name != PRISMA_MIGRATIONS


# ------------------------------------------------------------------------------ options


@dataclass
class InitOptions:
    database_url: str | None = None
    schema: str = "public"
    convention: str = "snake_case_plural"
    tables: str | None = None
    exclude: str | None = None
    columns: str | None = None
    reserved: str = "refuse"
    prisma_schema: str | None = None
    target_schema_out: str | None = None
    out: str | None = None  # None: stdout
    force: bool = False


@dataclass
class Checked:
    """The options, validated: compiled regexes, the parsed current schema."""

    opts: InitOptions
    url: str
    include: re.Pattern | None
    exclude: re.Pattern | None
    prisma_text: str | None
    prisma: object | None  # runbook.prisma.Schema
    out: Path | None
    target_out: Path | None


def check_options(o: InitOptions) -> Checked:
    """Every argument, before any connection: :class:`BadInput` (one line) when wrong."""
    from .connection import resolve_url

    if o.convention not in CONVENTIONS:
        raise BadInput(f"unknown convention {o.convention!r} (use {' or '.join(CONVENTIONS)})")
    if o.columns is not None and o.columns not in COLUMN_CONVENTIONS:
        raise BadInput(f"unknown column convention {o.columns!r} (use {' or '.join(COLUMN_CONVENTIONS)})")
    if o.reserved not in RESERVED_STRATEGIES:
        raise BadInput(f"unknown --reserved strategy {o.reserved!r} (use {' or '.join(RESERVED_STRATEGIES)})")
    validate_identifier(o.schema, "--schema")

    def rx(value, opt):
        if value is None:
            return None
        try:
            return re.compile(value)
        except re.error as exc:
            raise BadInput(f"{opt}: not a regular expression ({exc})") from None

    include, exclude = rx(o.tables, "--tables"), rx(o.exclude, "--exclude")
    if o.target_schema_out and not o.prisma_schema:
        raise BadInput("--target-schema-out needs --prisma-schema (the service's schema now)")
    text, schema = read_prisma_file(o.prisma_schema, "--prisma-schema") if o.prisma_schema else (None, None)
    out = Path(o.out) if o.out and o.out != "-" else None
    target_out = Path(o.target_schema_out) if o.target_schema_out else None
    for path, opt in ((out, "--out"), (target_out, "--target-schema-out")):
        if path is None:
            continue
        if path.is_dir():
            raise BadInput(f"{opt} {path}: a folder")
        if path.exists() and not o.force:
            raise BadInput(f"{opt} {path} exists; pass --force to overwrite it")
        if not path.parent.is_dir():
            raise BadInput(f"{opt} {path}: folder {path.parent} does not exist")
    if out is not None and target_out is not None and out.resolve() == target_out.resolve():
        raise BadInput("--out and --target-schema-out name the same file")
    if out is not None and o.prisma_schema and out.resolve() == Path(o.prisma_schema).resolve():
        raise BadInput("--out names the --prisma-schema file")
    return Checked(o, resolve_url(o.database_url), include, exclude, text, schema, out, target_out)


def read_prisma_file(path: str | Path, opt: str):
    """(text, parsed schema) of one .prisma file, or :class:`BadInput` naming ``opt``."""
    from .prisma import parse

    p = Path(path)
    if p.is_dir():
        raise BadInput(f"{opt} {p}: a folder; give the schema file (multi-file schemas are not supported)")
    if not p.is_file():
        raise BadInput(f"{opt} {p}: no such file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{opt} {p}: cannot read it ({getattr(exc, 'strerror', None) or 'not UTF-8'})") from None
    return text, parse(text, source=str(p))


# ------------------------------------------------------------------------------ proposal


@dataclass
class TableProposal:
    old: str
    new: str
    kind: str  # "table" or "m2m"
    oid: int
    rows: int | None
    rows_exact: bool
    total_bytes: int
    fks_in: list[str] = field(default_factory=list)
    columns: list[tuple[str, str]] = field(default_factory=list)  # (old, new)
    model: str | None = None
    relation: str | None = None  # m2m: the new relation name
    notes: list[str] = field(default_factory=list)


@dataclass
class Result:
    tables: list[TableProposal]
    mapping_text: str
    target_text: str | None
    skipped: list[str]
    notes: list[str]
    edits: dict = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)


def _reserved_fix(name: str, strategy: str, what: str, conflicts: list[str], notes: list[str]) -> str:
    if name not in RESERVED_KEYWORDS:
        return name
    if strategy == "suffix":
        notes.append(f"{name!r} is a PostgreSQL reserved word: {what} becomes {name + '_'!r}")
        return name + "_"
    conflicts.append(f"{what} would become {name!r}, a PostgreSQL reserved word "
                     f"(use --reserved suffix for {name + '_'!r}, the snake_case_plural convention, or --exclude)")
    return name


def _m2m_columns(t) -> bool:
    return sorted(c.name for c in t.columns) == ["A", "B"]


def _candidates(snap, c: Checked) -> tuple[list, list[str]]:
    S = c.opts.schema
    picked, skipped = [], []
    for t in snap.tables:
        if t.schema != S or t.name == PRISMA_MIGRATIONS:
            continue
        m2m = is_m2m_name(t.name) and _m2m_columns(t)
        if c.include is not None:
            if not c.include.search(t.name):
                continue
        elif not (m2m or re.search(r"[A-Z]", t.name)):
            continue
        if c.exclude is not None and c.exclude.search(t.name):
            skipped.append(f"{t.name} (--exclude)")
            continue
        if t.name.startswith("_") and not m2m:
            if c.include is None:
                skipped.append(f"{t.name} (leading underscore, not a many-to-many table)")
                continue
        picked.append((t, m2m))
    return picked, skipped


def _model_for(schema, table: str, S: str):
    if schema is None:
        return None
    for m in schema.models:
        if m.db_name == table and (m.schema is None or m.schema == S):
            return m
    return None


def _m2m_relations(schema) -> dict[str, tuple[str, list]]:
    """Implicit many-to-many relations of the Prisma schema: join table (``_`` + the
    relation's name) -> (relation name, [(model, field)] of both sides)."""
    from .prisma import implicit_many_to_many

    out: dict[str, tuple[str, list]] = {}
    if schema is None:
        return out
    for r in implicit_many_to_many(schema):
        a, b, name = r.a, r.b, r.relation
        sides = []
        for m, other in ((a, b), (b, a)) if a.name != b.name else ((a, a),):
            for f in m.relation_fields():
                rname = f.relation.name if f.relation and f.relation.name else None
                if f.list and f.type == other.name and (rname or f"{a.name}To{b.name}") == name \
                        and not (f.relation and f.relation.fields):
                    sides.append((m, f))
        out["_" + name] = (name, sides)
    return out


def propose(snap, conn, c: Checked) -> tuple[list[TableProposal], list[str], list[str], list[str]]:
    """Tables to rename with their new names; conflicts; skipped tables; notes."""
    conflicts: list[str] = []
    notes: list[str] = []
    picked, skipped = _candidates(snap, c)
    m2m_rel = _m2m_relations(c.prisma)
    props: list[TableProposal] = []
    for t, m2m in picked:
        p = _table_proposal(snap, c, t, m2m, conflicts, skipped)
        if p is None:
            continue
        if c.opts.columns and not m2m:
            _propose_columns(t, c.opts.reserved, p, conflicts)
        if c.prisma is not None:
            _prisma_model(c, t, m2m, m2m_rel, p)
        props.append(p)
    _count_rows(snap, conn, props)
    _collisions(snap, c.opts.schema, props, conflicts)
    _notes(snap, c, props, notes)
    return props, conflicts, skipped, notes


def _table_proposal(snap, c: Checked, t, m2m: bool, conflicts: list[str], skipped: list[str]) -> TableProposal | None:
    """The table's new name (a join table keeps its ``_`` prefix), or None with the
    reason in ``conflicts`` or ``skipped``; with the foreign keys that reference it."""
    o = c.opts
    try:
        validate_identifier(t.name, "table")
    except InvalidIdentifier as exc:
        conflicts.append(f"{exc} (--exclude it)")
        return None
    pnotes: list[str] = []
    if m2m:
        rel = snake(t.name[1:])
        new = "_" + rel
    else:
        rel = None
        new = target_name(t.name, o.convention)
        new = _reserved_fix(new, o.reserved, f"table {t.name!r}", conflicts, pnotes)
    if new == t.name:
        skipped.append(f"{t.name} (already its target name)")
        return None
    if len(new.encode()) > MAX_IDENTIFIER_BYTES:
        conflicts.append(f"table {t.name!r} would become {new[:40]!r}..., {len(new.encode())} bytes "
                         f"(PostgreSQL keeps {MAX_IDENTIFIER_BYTES})")
        return None
    p = TableProposal(t.name, new, "m2m" if m2m else "table", t.oid, None, False, t.total_bytes, notes=pnotes)
    p.relation = rel
    for fk in snap.foreign_keys_in(t.oid):
        src = snap.table_by_oid(fk.table_oid)
        p.fks_in.append(f"{qq(src.schema, src.name) if src else fk.table_oid}: {fk.name}: {fk.definition}")
    return p


def _propose_columns(t, reserved, p: TableProposal, conflicts: list[str]) -> None:
    """The table's columns in snake_case, refused where a name is invalid, too long,
    taken, or produced twice."""
    have = {col.name for col in t.columns}
    produced: dict[str, str] = {}
    for col in t.columns:
        nc = snake(col.name)
        if nc == col.name:
            produced.setdefault(nc, col.name)
            continue
        try:
            validate_identifier(col.name, "column")
        except InvalidIdentifier as exc:
            conflicts.append(f"table {t.name!r}: {exc}")
            continue
        nc = _reserved_fix(nc, reserved, f"column {t.name}.{col.name}", conflicts, p.notes)
        if len(nc.encode()) > MAX_IDENTIFIER_BYTES:
            conflicts.append(f"column {t.name}.{col.name} would become a name of {len(nc.encode())} bytes")
            continue
        if nc in have:
            conflicts.append(f"column {t.name}.{col.name} would become {nc!r}, a column the table has")
            continue
        if nc in produced:
            conflicts.append(f"columns {t.name}.{produced[nc]} and {t.name}.{col.name} would both become {nc!r}")
            continue
        produced[nc] = col.name
        p.columns.append((col.name, nc))


def _prisma_model(c: Checked, t, m2m: bool, m2m_rel: dict, p: TableProposal) -> None:
    """The Prisma model (or implicit many-to-many relation) that maps the table."""
    if m2m:
        if t.name in m2m_rel:
            p.model = " <-> ".join(f"{m.name}.{f.name}" for m, f in m2m_rel[t.name][1])
        else:
            p.notes.append(f"no implicit many-to-many relation of the Prisma schema uses {t.name!r}")
        return
    m = _model_for(c.prisma, t.name, c.opts.schema)
    if m is None:
        p.notes.append("no model of the Prisma schema maps this table: nothing is written for it there")
    else:
        p.model = m.name


def _count_rows(snap, conn, props: list[TableProposal]) -> None:
    """Exact counts for small tables, the planner's estimate for large ones."""
    with conn.cursor() as cur:
        for p in props:
            t = snap.table_by_oid(p.oid)
            if t.total_bytes <= EXACT_COUNT_MAX_BYTES or t.row_estimate < 0:
                cur.execute(f"SELECT count(*) FROM {qq(t.schema, t.name)}")
                p.rows, p.rows_exact = cur.fetchone()[0], True
            else:
                p.rows, p.rows_exact = t.row_estimate, False


def _collisions(snap, S: str, props: list[TableProposal], conflicts: list[str]) -> None:
    """Two tables to one name, or a new name another relation of the schema has."""
    by_new: dict[str, list[str]] = {}
    for p in props:
        by_new.setdefault(p.new, []).append(p.old)
    for new, olds in by_new.items():
        if len(olds) > 1:
            conflicts.append(f"{' and '.join(map(repr, olds))} would all become {new!r}")
    renamed = {p.old for p in props}
    kinds = snap.relation_names()
    for p in props:
        kind = kinds.get(f"{S}.{p.new}")
        if kind and not (kind == "table" and p.new in renamed):
            conflicts.append(f"table {p.old!r} would become {p.new!r}, which {'an' if kind[0] in 'aeiou' else 'a'} "
                             f"{kind} of schema {S!r} already is")


def _notes(snap, c: Checked, props: list[TableProposal], notes: list[str]) -> None:
    """Columns left alone on tables not renamed; models whose table the schema lacks."""
    S = c.opts.schema
    if c.opts.columns:
        renamed_now = {p.old for p in props}
        for t in snap.tables:
            if t.schema == S and t.name not in renamed_now and t.name != PRISMA_MIGRATIONS and \
                    not _m2m_columns(t) and any(snake(col.name) != col.name for col in t.columns):
                notes.append(f"the columns of {t.name!r} keep their names: a mapping renames the columns only of "
                             "the tables it renames")
    if c.prisma is not None:
        for m in c.prisma.models:
            if (m.schema is None or m.schema == S) and snap.table(S, m.db_name) is None:
                notes.append(f"model {m.name} maps table {m.db_name!r}, which schema {S!r} does not have")


# ------------------------------------------------------------------------------ mapping text


def toml_str(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _comment(s: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in s)


def render_mapping(props: list[TableProposal], c: Checked, snap, target_rel: str | None, skipped: list[str]) -> str:
    o = c.opts
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Written by `runbook mapping init` ({when}) from database {_comment(snap.database)!s}, schema {o.schema!r},",
        f"# convention {o.convention}" + (f", columns {o.columns}" if o.columns else "") +
        f", reserved words: {o.reserved}. Review every block, then `runbook analyze --mapping THIS_FILE`.",
        f"# {len(props)} tables ({sum(p.kind == 'm2m' for p in props)} implicit many-to-many), "
        f"{sum(len(p.columns) for p in props)} columns renamed.",
    ]
    for s in skipped:
        lines.append(f"# not renamed: {_comment(s)}")
    lines += ["", f"schema = {toml_str(o.schema)}",
              "# audit rows go to runbook's own runbook.audit_log; name a table of yours to write them there",
              "audit_table = false"]
    if target_rel is not None:
        lines += ["", "# The service's Prisma schema after the migration (relative to this file).", "[service]",
                  f"target_schema = {toml_str(target_rel)}"]
    for p in props:
        lines.append("")
        what = "implicit many-to-many table" if p.kind == "m2m" else "table"
        lines.append(f"# --- {what} {p.old} -> {p.new}" + (f"   (Prisma: {p.model})" if p.model else ""))
        if p.rows_exact:
            lines.append(f"# rows: {p.rows:,} (exact count)")
        else:
            lines.append(f"# rows: about {p.rows:,} (estimate: pg_class.reltuples; {p.total_bytes / 2**20:,.0f} MiB)")
        if p.relation:
            lines.append(f"# Prisma relation name in the target schema: {p.relation!r}")
        lines.append(f"# foreign keys into it: {len(p.fks_in) or 'none'}")
        for fk in p.fks_in:
            lines.append(f"#   {_comment(fk)}")
        for n in p.notes:
            lines.append(f"# note: {_comment(n)}")
        lines += ["[[tables]]", f"from = {toml_str(p.old)}", f"to = {toml_str(p.new)}"]
        if p.columns:
            lines.append("rename_columns = [")
            lines += [f"  {{ from = {toml_str(a)}, to = {toml_str(b)} }}," for a, b in p.columns]
            lines.append("]")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ target schema


class _Text:
    """Offsets of a schema text, and the lexer's tokens of it."""

    def __init__(self, text: str):
        from .prisma import _Lexer

        self.text = text
        self.starts = [0]
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\r" and text.startswith("\r\n", i):
                i += 2
                self.starts.append(i)
                continue
            i += 1
            if ch in "\r\n":
                self.starts.append(i)
        self.toks = [t for t in _Lexer(text, None).tokens()]

    def offset(self, tok) -> int:
        return self.starts[tok.line - 1] + tok.col - 1

    def end(self, tok) -> int:
        """Offset just after the token."""
        start = self.offset(tok)
        if tok.kind == "STRING":
            i = start + 1
            while self.text[i] != '"':
                i += 2 if self.text[i] == "\\" else 1
            return i + 1
        if tok.kind in ("IDENT", "NUMBER"):
            m = re.compile(r"-?[0-9]+(?:\.[0-9]+)?|[A-Za-z0-9_][A-Za-z0-9_\-]*").match(self.text, start)
            return m.end()
        return start + len(tok.kind)

    def index_at(self, line: int, kind: str, value=None, after: int = 0) -> int:
        for i in range(after, len(self.toks)):
            t = self.toks[i]
            if t.line > line and t.kind != "NL":
                break
            if t.line == line and t.kind == kind and (value is None or t.value == value):
                return i
        raise RuntimeError(f"token {kind} {value!r} not found on line {line}")

    def close_paren(self, i: int) -> int:
        """Index of the ')' matching the '(' at token index ``i``."""
        depth = 0
        for j in range(i, len(self.toks)):
            k = self.toks[j].kind
            if k in "([":
                depth += 1
            elif k in ")]":
                depth -= 1
                if depth == 0:
                    return j
        raise RuntimeError("unbalanced parentheses")

    def attribute_span(self, line: int, at: str, name: str) -> tuple[int, int, int]:
        """(start offset, end offset, index of '(' or -1) of ``@name(...)``/``@@name(...)`` on ``line``."""
        i = 0
        while True:
            i = self.index_at(line, at, after=i)
            if self.toks[i + 1].kind == "IDENT" and self.toks[i + 1].value == name and \
                    self.toks[i + 2].kind != ".":
                break
            i += 1
        start = self.offset(self.toks[i])
        if self.toks[i + 2].kind == "(":
            j = self.close_paren(i + 2)
            return start, self.offset(self.toks[j]) + 1, i + 2
        return start, self.end(self.toks[i + 1]), -1

    def field_end(self, field_line: int) -> int:
        """Offset just after a field's last attribute (or its type): before a trailing
        comment, the end of the line, or a closing '}'."""
        i = self.index_at(field_line, "IDENT")
        depth, last = 0, i
        for j in range(i, len(self.toks)):
            k = self.toks[j].kind
            if depth == 0 and k in ("NL", "DOC", "}", "EOF"):
                break
            if k in "([":
                depth += 1
            elif k in ")]":
                depth -= 1
            if k != "NL":
                last = j
        t = self.toks[last]
        return self.offset(t) + 1 if t.kind in ")]?" else self.end(t)

    def block_close(self, model_line: int) -> int:
        """Offset of the '}' closing the block declared on ``model_line``."""
        i = self.index_at(model_line, "{")
        depth = 0
        for j in range(i, len(self.toks)):
            k = self.toks[j].kind
            if k == "{":
                depth += 1
            elif k == "}":
                depth -= 1
                if depth == 0:
                    return self.offset(self.toks[j])
        raise RuntimeError("unclosed block")


def _replace_string_arg(tx: _Text, line: int, at: str, attr: str, argname: str, value: str,
                        positional: bool) -> tuple[int, int, str]:
    """An edit giving ``@attr`` (on ``line``) the string argument ``value``: its
    ``argname:`` argument, or (``positional``) its first positional string, replaced;
    else the argument added (first when positional, last when named)."""
    from .prisma import render_value

    rendered = render_value(value)
    _, end, paren = tx.attribute_span(line, at, attr)
    if paren < 0:
        return end, end, f"({rendered})" if positional else f"({argname}: {rendered})"
    close = tx.close_paren(paren)
    depth, first_arg = 0, True
    for j in range(paren, close):
        t = tx.toks[j]
        if t.kind in "([":
            depth += 1
            continue
        if t.kind in ")]":
            depth -= 1
            continue
        if depth != 1 or t.kind == "NL":
            continue
        if t.kind == ",":
            first_arg = False
            continue
        if t.kind == "IDENT" and t.value == argname and tx.toks[j + 1].kind == ":":
            k = j + 2
            while tx.toks[k].kind == "NL":
                k += 1
            if tx.toks[k].kind == "STRING":
                return tx.offset(tx.toks[k]), tx.end(tx.toks[k]), rendered
        if positional and first_arg and t.kind == "STRING":
            return tx.offset(t), tx.end(t), rendered
        first_arg = False if not (t.kind == "IDENT" and tx.toks[j + 1].kind == ":") else first_arg
    inner_empty = all(tx.toks[k].kind == "NL" for k in range(paren + 1, close))
    if positional:
        pos = tx.offset(tx.toks[paren]) + 1
        return pos, pos, rendered + ("" if inner_empty else ", ")
    pos = tx.offset(tx.toks[close])
    return pos, pos, ("" if inner_empty else ", ") + f"{argname}: {rendered}"


def build_target_schema(text: str, schema, props: list[TableProposal], c: Checked,
                        name_renames: dict[str, str]) -> tuple[str, dict]:
    """The target schema text, and counts of the edits made."""
    from .prisma import render_value

    S = c.opts.schema
    tx = _Text(text)
    nl = "\r\n" if "\r\n" in text else "\n"  # the file's own line endings
    edits: list[tuple[int, int, str]] = []
    counts = {"@@map": 0, "@map": 0, "@relation": 0, "map:": 0}
    m2m = _m2m_relations(schema)
    for p in props:
        if p.kind == "m2m":
            if p.old not in m2m:
                continue
            for m, f in m2m[p.old][1]:
                if f.attribute("relation") is not None:
                    edits.append(_replace_string_arg(tx, f.line, "@", "relation", "name", p.relation, True))
                else:
                    pos = tx.field_end(f.line)
                    edits.append((pos, pos, f" @relation({render_value(p.relation)})"))
                counts["@relation"] += 1
            continue
        m = _model_for(schema, p.old, S)
        if m is None:
            continue
        a = m.attribute("map")
        if a is not None:
            edits.append(_replace_string_arg(tx, a.line, "@@", "map", "name", p.new, True))
        else:
            close = tx.block_close(m.line)
            line_start = text.rfind("\n", 0, close) + 1
            indent = "  "
            if m.fields:
                fl = text[tx.starts[m.fields[0].line - 1]:]
                indent = fl[: len(fl) - len(fl.lstrip(" \t"))] or "  "
            gap = "" if m.attributes or not m.fields else nl  # a blank line after the fields, as prisma format does
            if text[line_start:close].strip():
                edits.append((close, close, f"{nl}{gap}{indent}@@map({render_value(p.new)}){nl}"))
            else:
                edits.append((line_start, line_start, f"{gap}{indent}@@map({render_value(p.new)}){nl}"))
        counts["@@map"] += 1
        cols = dict(p.columns)
        for f in m.scalar_fields():
            if f.db_name in cols:
                if f.attribute("map") is not None:
                    edits.append(_replace_string_arg(tx, f.line, "@", "map", "name", cols[f.db_name], True))
                else:
                    pos = tx.field_end(f.line)
                    edits.append((pos, pos, f" @map({render_value(cols[f.db_name])})"))
                counts["@map"] += 1
    # explicit constraint names (map: "...") that the engine renames
    if name_renames:
        for m in schema.models:
            for f in m.fields:
                for a in f.attributes:
                    if a.name in ("id", "unique", "relation") and isinstance(a.arg("map", position=None), str):
                        old = a.arg("map", position=None)
                        if old in name_renames:
                            edits.append(_replace_string_arg(tx, a.line, "@", a.name, "map", name_renames[old], False))
                            counts["map:"] += 1
            for a in m.attributes:
                if a.name in ("id", "unique", "index", "fulltext") and isinstance(a.arg("map", position=None), str):
                    old = a.arg("map", position=None)
                    if old in name_renames:
                        edits.append(_replace_string_arg(tx, a.line, "@@", a.name, "map", name_renames[old], False))
                        counts["map:"] += 1
    edits = [e for e in edits if e is not None]
    out = text
    for start, end, rep in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + rep + out[end:]
    return out, counts


def _check_target(text: str, props: list[TableProposal], c: Checked, source: str):
    """Parse the written schema and check every model maps its new table."""
    from .prisma import parse

    sch = parse(text, source=source)
    for p in props:
        if p.kind == "m2m":
            if p.old in _m2m_relations(c.prisma) and p.new not in _m2m_relations(sch):
                raise RunbookError(f"internal error: the target schema does not name {p.new!r}")
            continue
        if p.model is not None:
            m = sch.model(p.model)
            if m.db_name != p.new:
                raise RunbookError(f"internal error: model {p.model} maps {m.db_name!r}, not {p.new!r}")
            cols = dict(p.columns)
            for f in m.scalar_fields():
                before = c.prisma.model(p.model).field(f.name).db_name
                if before in cols and f.db_name != cols[before]:
                    raise RunbookError(f"internal error: field {p.model}.{f.name} maps {f.db_name!r}")
    return sch


# ------------------------------------------------------------------------------ the command


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def mapping_init(opts: InitOptions) -> Result:
    """Derive the mapping (and the target schema); write them unless there is a conflict.

    Raises :class:`BadInput` for a bad argument (before connecting) and
    :class:`ConflictError` (exit 2, nothing written) for conflicts."""
    from .catalog.inspect import inspect
    from .connection import connect
    from .mapping import parse_mapping
    from .ops import RenameConstraint, RenameIndex
    from .plan import build_plan

    c = check_options(opts)
    conn = connect(c.url, application_name="runbook-mapping-init", autocommit=True)
    try:
        snap = inspect(conn)
        conn.autocommit = False
        conn.set_session(readonly=True)
        try:
            props, conflicts, skipped, notes = propose(snap, conn, c)
        finally:
            conn.rollback()
    finally:
        conn.close()
    if conflicts:
        raise ConflictError(f"{len(conflicts)} conflict{'s' if len(conflicts) > 1 else ''}, nothing written: "
                            + "; ".join(conflicts), conflicts=conflicts)
    if not props:
        raise BadInput(f"no table of schema {opts.schema!r} to rename"
                       + (f" (not renamed: {', '.join(skipped)})" if skipped else ""))
    # the engine's own plan: its blockers are conflicts too, its renames of constraint
    # names are what explicit map: names of the target schema must follow
    doc = {"schema": opts.schema, "audit_table": False, "tables": [
        {"from": p.old, "to": p.new, **({"rename_columns": [{"from": a, "to": b} for a, b in p.columns]}
                                         if p.columns else {})} for p in props]}
    mapping = parse_mapping(doc, "the derived mapping")
    plan = build_plan(snap, mapping, strict=False)
    if plan.blockers:
        bl = [f"{b.object}: {b.reason}" for b in plan.blockers]
        raise ConflictError(f"{len(bl)} conflict{'s' if len(bl) > 1 else ''} in the plan, nothing written: "
                            + "; ".join(bl), conflicts=bl)
    name_renames = {op.old: op.new for op in plan.ops if isinstance(op, (RenameConstraint, RenameIndex))
                    and type(op) in (RenameConstraint, RenameIndex)}

    target_text = None
    counts: dict = {}
    if c.target_out is not None:
        target_text, counts = build_target_schema(c.prisma_text, c.prisma, props, c, name_renames)
        _check_target(target_text, props, c, str(c.target_out))
        base = c.out.parent if c.out is not None else Path.cwd()
        target_rel = Path(os.path.relpath(c.target_out.resolve(), base.resolve())).as_posix()
    else:
        target_rel = None
    text = render_mapping(props, c, snap, target_rel, skipped)
    import tomllib

    doc = tomllib.loads(text)
    doc.pop("service", None)  # its target schema is checked once written, below
    parse_mapping(doc, "the written mapping")  # it must load as written, before anything is written
    result = Result(props, text, target_text, skipped, notes, counts)
    if target_text is not None:
        _write_atomic(c.target_out, target_text)
        result.written.append(c.target_out)
    if c.out is not None:
        _write_atomic(c.out, text)
        result.written.append(c.out)
        from .mapping import load_mapping

        load_mapping(c.out)  # it must load as written
    return result
