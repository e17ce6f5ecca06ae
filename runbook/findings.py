"""The finding codes: one stable code (``RB101`` ...) for each kind of thing ``analyze``
reports (a plan's blocker or note, an object at risk, a session, a dump problem, a
service-compatibility finding), with a title, a severity, an explanation and a fix.

The words mean one thing each: a **blocker** stops the run (a plan blocker, a dump
problem, a table the role does not own, a service finding in
``Compatibility.blocking``); a **warning** needs a look but does not stop it (what
limits a service's writes of a model it does not write is one); **info** is for the
record. ``docs/findings.md`` is generated from this registry (:func:`render_markdown`;
``tests/test_findings.py`` fails when the two differ) and :func:`render_html` gives the
``findings.html`` the report's code links point at (``findings.html#rb101``).

This module imports nothing of runbook's: the plan, the compat package and the API
carry the codes, the registry only names them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

__all__ = ["Code", "CODES", "Note", "BLOCKER", "WARNING", "INFO", "lookup", "service_code", "anchor", "link",
           "render_markdown", "render_html"]

BLOCKER, WARNING, INFO = "blocker", "warning", "info"
#: a service finding's severity word when it depends on what the service writes
WRITES_DEPENDENT = "blocker if the service writes the model, else warning"


@dataclass(frozen=True)
class Code:
    code: str
    title: str
    severity: str  # blocker | warning | info | WRITES_DEPENDENT
    explanation: str
    fix: str


_ALL = (
    # -- the plan's blockers: the run stops before anything changes --------------------------------
    Code("RB101", "function body cannot be rewritten", BLOCKER,
         "A SQL or PL/pgSQL function names a renamed table (or column) in a way runbook cannot rewrite safely: "
         "dynamic SQL (EXECUTE of a built string), a body PostgreSQL's parser rejects, or an edit that would "
         "change more than the names. After the rename the function would fail at its next call.",
         "Rewrite the function by hand (CREATE OR REPLACE FUNCTION with the new names, or with both names "
         "during the change), then run `runbook analyze` again."),
    Code("RB102", "function in a language runbook does not rewrite names a renamed table", BLOCKER,
         "The body of a function in a language other than SQL and PL/pgSQL (plpython, plv8, C ...) contains "
         "the name of a renamed table as text; runbook cannot read it and will not guess.",
         "Change the function to use the new name (or both) by hand before migrating."),
    Code("RB103", "target table already exists", BLOCKER,
         "Both the old and the new name of a mapped table exist: renaming would fail, or two tables would "
         "claim one model.",
         "Drop or rename the table that holds the target name (check its rows first), or change the mapping."),
    Code("RB104", "target name is taken by another relation", BLOCKER,
         "The new name of a mapped table is already the name of a view, sequence, index or other relation of "
         "the schema, or a name the plan gives another object. (Two tables of the mapping mapped to one name "
         "are refused earlier, when the mapping is read: bad input, exit 2.)",
         "Rename or drop the relation that holds the name, or map the table to another name."),
    Code("RB105", "mapped table does not exist", BLOCKER,
         "Neither the old nor the new name of a table of the mapping exists in the schema: the mapping does "
         "not describe this database.",
         "Fix the mapping (its schema, its table names), or create the table."),
    Code("RB106", "new name of a dependent object is taken", BLOCKER,
         "A constraint, index, sequence or statistics object of a renamed table would get the name Prisma "
         "gives it, but that name is already used in the schema (or on the table).",
         "Rename the object that holds the name, or give the dependent object a name of its own first."),
    Code("RB107", "column conflict", BLOCKER,
         "A column rename's target already exists beside the old column, or a column the mapping adds exists "
         "with another type.",
         "Drop or rename the existing column, or change the mapping's column."),
    Code("RB108", "mapped column does not exist", BLOCKER,
         "A column the mapping renames or gives a default exists under neither name.",
         "Fix the column name in the mapping."),
    Code("RB109", "enum conflict", BLOCKER,
         "An enum the mapping creates has the name of a table (its row type), or exists with other values.",
         "Rename the enum in the mapping, or align its values with the database's."),
    Code("RB110", "added foreign key references a missing table", BLOCKER,
         "A column the mapping adds references a table that exists under neither its old nor its new name.",
         "Fix the reference in the mapping, or create the referenced table."),
    Code("RB111", "NULLs cannot be filled: no single-column primary key", BLOCKER,
         "Filling a column's NULLs online goes in batches by a single-column primary key; the table has none.",
         "Fill the NULLs by hand before migrating, or add a single-column primary key."),
    Code("RB112", "change refused on a partition or inheritance child", BLOCKER,
         "An inherited column cannot be renamed on a partition or child, and columns cannot be added to a "
         "partition: PostgreSQL makes these changes on the parent.",
         "Make the change on the partitioned (parent) table in the mapping."),
    Code("RB113", "many-to-many join table would be read backwards", BLOCKER,
         "In a Prisma implicit many-to-many table column A references the model whose name sorts first; the "
         "renames would swap A and B, and Prisma would read every join row backwards.",
         "Swap the join table's columns (with their data) in a migration of its own, or keep the model names."),
    Code("RB114", "compat views' schema does not exist", BLOCKER,
         "The mapping's compat_schema names a schema the database does not have, so the compat views "
         "(migrate --compat-views) could not be made.",
         "Create the schema and grant the legacy services USAGE on it, or leave compat_schema out (the views "
         "then go in the tables' schema)."),
    Code("RB115", "compat view cannot keep row-level security", BLOCKER,
         "Before PostgreSQL 15 a view reads its table with its owner's rights: a compat view over a table with "
         "row-level security would show every row to the legacy services. From 15 the views are "
         "security_invoker and keep it.",
         "Run without --compat-views for this table, or upgrade the server to PostgreSQL 15 or later."),
    # -- objects that name or follow the tables -------------------------------------------------------
    Code("RB201", "function body rewritten by the plan", INFO,
         "A function names a renamed table as text; PostgreSQL's parser found every reference, and the plan "
         "replaces the body with the new names in the same transaction.",
         "None needed; review the rewritten body in the plan's SQL."),
    Code("RB202", "function mentions a renamed table but is not rewritten", WARNING,
         "A function refers to a renamed table (as PostgreSQL's parser reads it, or as text where it cannot "
         "read the body), and the plan neither rewrites the body nor stops on it.",
         "Read the function: if it needs the new name, change it by hand before the run."),
    Code("RB203", "view, trigger or policy follows the table by OID", INFO,
         "Views, triggers and row-level policies refer to the table by its OID, not its name: they follow the "
         "rename. A trigger's function is checked on its own (RB201, RB202, RB101).",
         "None needed."),
    # -- names the plan keeps -------------------------------------------------------------------------
    Code("RB204", "custom name kept", INFO,
         "An index, constraint or sequence of a renamed table has a name that is neither PostgreSQL's nor "
         "Prisma's default for the old table: the plan keeps it.",
         "None needed, unless the service's Prisma schema expects another name (then `map:` it there)."),
    Code("RB205", "custom name kept as the target schema maps it", INFO,
         "The object already has the name the service's Prisma schema gives it with `map:`.",
         "None needed."),
    Code("RB206", "name keeps the old table's prefix", WARNING,
         "An object named after the old table (\"User_email_trgm\") keeps that prefix: Prisma does not name "
         "it, so runbook renames it only when asked.",
         "Set `rename_prefixed = true` in the mapping to rename it to the new table's prefix."),
    Code("RB207", "name keeps the old table's prefix: the new name would be too long", WARNING,
         "With the new table's prefix the name would exceed PostgreSQL's 63 bytes.",
         "Rename the object by hand to a shorter name."),
    Code("RB208", "foreign-key clone of a partition keeps its name", INFO,
         "A partition's clone of a renamed foreign key cannot take the new name (too long, or taken).",
         "None needed; rename it by hand if the name matters."),
    Code("RB209", "partition or inheritance child keeps its name", WARNING,
         "A partition or child of a renamed table is a table of its own: it is not renamed unless the mapping "
         "names it.",
         "Add it to the mapping ([[tables]] from = ...) to rename it."),
    # -- the service's Prisma client after the migration (severity as it applies to the service) ----
    Code("RB301", "table or view the service reads does not exist", BLOCKER,
         "The model's table (or view) is missing: every query of the model fails.",
         "Create it, or fix the model's `@@map`."),
    Code("RB302", "column of the model does not exist", BLOCKER,
         "A field of the model has no column: every query of the model fails (the client selects it).",
         "Add the column (the finding gives the ALTER TABLE)."),
    Code("RB303", "NOT NULL column without default, the field is optional", WRITES_DEPENDENT,
         "Creating a row without the optional field fails with a not-null violation.",
         "DROP NOT NULL, give the column a default, or make the field required."),
    Code("RB304", "nullability differs from the field", WARNING,
         "The column is nullable while the field is required (reading a NULL fails), or NOT NULL while the "
         "field is optional (setting it to null fails).",
         "Align the column's NOT NULL with the field."),
    Code("RB305", "NOT NULL column without a default that the service does not know", WRITES_DEPENDENT,
         "The table has a NOT NULL column without a default that the model does not declare: every create "
         "of the model fails, since the client cannot send a value for it. A blocker when the service "
         "writes the model; a warning (it limits what the service could write) otherwise.",
         "Give the column a default, make it nullable, or add the field to the model."),
    Code("RB306", "column the model does not know", INFO,
         "A nullable column, or one the database fills, that the model does not declare: the client neither "
         "reads nor writes it.",
         "None needed."),
    Code("RB307", "column type the client cannot read or write", BLOCKER,
         "The column's type is not one the client converts to and from the field's type, or is not the enum "
         "the field names: reads and writes of the field fail.",
         "ALTER COLUMN ... TYPE (the finding gives it), or change the field's type."),
    Code("RB308", "column type differs from what prisma migrate would create", WARNING,
         "The client reads and writes the column, but `prisma migrate diff` reports drift.",
         "ALTER COLUMN ... TYPE to Prisma's type when convenient."),
    Code("RB309", "column of an Unsupported type", INFO,
         "The schema declares the field Unsupported(...): the client neither reads nor writes it.",
         "None needed."),
    Code("RB310", "enum type does not exist", BLOCKER,
         "The enum type the client casts the column to does not exist: reads and writes of the field fail.",
         "CREATE TYPE ... AS ENUM and convert the column (the finding gives both)."),
    Code("RB311", "enum lacks labels of the schema", WRITES_DEPENDENT,
         "Writing a label the database's enum does not have fails (invalid input value for enum).",
         "ALTER TYPE ... ADD VALUE (the finding gives it)."),
    Code("RB312", "enum has labels the schema does not", WARNING,
         "Reading a row that holds such a label fails in the client.",
         "Add the labels to the schema's enum."),
    Code("RB313", "enum labels in another order", INFO,
         "ORDER BY the column sorts differently than the schema lists the values.",
         "None needed."),
    Code("RB314", "the database gives no value the client leaves to it", WRITES_DEPENDENT,
         "The field is `autoincrement()` or `dbgenerated(...)` and the NOT NULL column has no default: "
         "creates fail.",
         "Add the default or identity (the finding gives the ALTER TABLE)."),
    Code("RB315", "default missing or different", WARNING,
         "The column's default is missing or differs from the schema's: this client sends the value, other "
         "writers get another one (or NULL); `prisma migrate diff` reports drift.",
         "SET DEFAULT as the schema says."),
    Code("RB316", "default the schema does not describe", INFO,
         "The column has a default the schema does not mention (or describes differently): no effect on the "
         "client; `prisma migrate` would change it.",
         "Add @default(...) to the field, or drop the default."),
    Code("RB317", "foreign key references another table", WRITES_DEPENDENT,
         "A relation's foreign key points at another table or columns than the schema's relation: creating a "
         "row that points at the right one fails.",
         "Recreate the foreign key as the schema describes it."),
    Code("RB318", "relation differs from the schema", WARNING,
         "A foreign key is missing, NOT VALID, or has other referential actions, or an implicit many-to-many "
         "join table is missing or lacks a column.",
         "Add, validate or recreate the foreign key (or the join table) as the finding says."),
    Code("RB319", "primary key or unique index missing or different", WARNING,
         "Duplicates are possible; findUnique returns the first; native upserts fail.",
         "Add the primary key or unique index (the finding gives the SQL)."),
    Code("RB320", "index missing", WARNING,
         "Queries that filter on the columns scan the table.",
         "CREATE INDEX (the finding gives it)."),
    Code("RB321", "name differs from Prisma's default", INFO,
         "A constraint or index has another name than Prisma's: no effect on the client; `prisma migrate "
         "diff` would rename it.",
         "Rename it, or `map:` the name in the schema."),
    Code("RB330", "service compatibility not (fully) predicted", INFO,
         "The service check was skipped (no target schema, a blocked plan) or could not rehearse every step "
         "(a data step, a busy lock).",
         "Fix what the note says and run `runbook analyze` again, or `runbook check-schema` after the run."),
    # -- the database around the plan -----------------------------------------------------------------
    Code("RB401", "session holds a lock on a table of the plan", WARNING,
         "Another session holds a lock on a table the plan renames: the lock phase waits for it (up to "
         "lock_timeout, then retries).",
         "Let the session finish, or end it (pg_terminate_backend) before the run."),
    Code("RB402", "long-running transaction", WARNING,
         "A transaction has been open for more than a minute: it may hold locks the plan needs, and it holds "
         "back vacuum.",
         "Find out what it does; commit or end it before the run."),
    Code("RB403", "backup cannot be taken: pg_dump would fail", BLOCKER,
         "The role cannot read every object pg_dump dumps (a table, a sequence, a large object ...): the "
         "backup before the run would fail, so the run would stop.",
         "Run as a role that can read the whole database, or grant it what the problem names."),
    Code("RB404", "role does not own the tables", BLOCKER,
         "ALTER TABLE ... RENAME needs the table's owner's privileges: preflight refuses the run.",
         "Run as the tables' owner (or a member of its role)."),
)

#: code -> :class:`Code`, in code order
CODES: dict[str, Code] = {c.code: c for c in _ALL}

#: a service finding's (check, severity as the finding carries it, whether it blocks reads) -> its code
_SERVICE = {
    ("table", BLOCKER, True): "RB301", ("column", BLOCKER, True): "RB302",
    ("nullability", BLOCKER, False): "RB303", ("nullability", WARNING, False): "RB304",
    ("unknown column", BLOCKER, False): "RB305", ("unknown column", INFO, False): "RB306",
    ("type", BLOCKER, True): "RB307", ("type", WARNING, False): "RB308", ("type", INFO, False): "RB309",
    ("enum", BLOCKER, True): "RB310", ("enum", BLOCKER, False): "RB311", ("enum", WARNING, False): "RB312",
    ("enum", INFO, False): "RB313",
    ("default", BLOCKER, False): "RB314", ("default", WARNING, False): "RB315", ("default", INFO, False): "RB316",
    ("relation", BLOCKER, False): "RB317", ("relation", WARNING, False): "RB318",
    ("unique", WARNING, False): "RB319", ("index", WARNING, False): "RB320", ("name", INFO, False): "RB321",
}


def lookup(code: str) -> Code:
    """The registered code; a ValueError names an unknown one."""
    try:
        return CODES[code]
    except KeyError:
        raise ValueError(f"unknown finding code {code!r}") from None


def service_code(check: str, severity: str, blocks: tuple[str, ...] = ()) -> str:
    """The code of a service-compatibility finding of this check and severity, and what
    it blocks (``reads``, ``writes``)."""
    reads = "reads" in blocks
    try:
        return _SERVICE[(check, severity, reads)]
    except KeyError:
        raise ValueError(f"no finding code for a {severity} {check!r} finding{' of reads' if reads else ''}: "
                         "register one in runbook/findings.py") from None


def anchor(code: str) -> str:
    """The code's anchor in findings.html and docs/findings.md: ``rb101``."""
    return lookup(code).code.lower()


def link(code: str, page: str = "findings.html") -> str:
    """An HTML link to the code's section of ``page``, its title as the tooltip."""
    c = lookup(code)
    return f'<a href="{page}#{anchor(code)}" title="{html.escape(c.title)}">{c.code}</a>'


def render_markdown() -> str:
    """docs/findings.md: the table of codes, then one section per code."""
    out = ["# Finding codes", "",
           "<!-- generated from runbook/findings.py by runbook.findings.render_markdown(); "
           "tests/test_findings.py fails when this file differs -->", "",
           "Every finding of `runbook analyze` carries one of these codes (`code` in `analyze --json`, a link "
           "in the HTML report). A **blocker** stops the run; a **warning** needs a look but does not stop it; "
           "**info** is for the record. A service finding that would stop the service's writes of a model is "
           "a blocker only when the service writes that model (`Compatibility.blocking`); otherwise it is "
           "shown as a warning.", "",
           "| code | title | severity |", "|---|---|---|"]
    out += [f"| [{c.code}](#{anchor(c.code)}) | {c.title} | {c.severity} |" for c in CODES.values()]
    for c in CODES.values():
        out += ["", f'<a id="{anchor(c.code)}"></a>', "", f"## {c.code}: {c.title}", "",
                f"Severity: {c.severity}.", "", c.explanation, "", f"Fix: {c.fix}"]
    return "\n".join(out) + "\n"


def render_html() -> str:
    """A self-contained findings.html (no external resource), one ``id="rb101"`` section per code."""
    e = html.escape
    rows = "".join(f'<tr><td><a href="#{anchor(c.code)}">{c.code}</a></td><td>{e(c.title)}</td>'
                   f"<td>{e(c.severity)}</td></tr>" for c in CODES.values())
    sections = "".join(f'<section id="{anchor(c.code)}"><h2>{c.code}: {e(c.title)}</h2>'
                       f"<p><b>Severity:</b> {e(c.severity)}</p><p>{e(c.explanation)}</p>"
                       f"<p><b>Fix:</b> {e(c.fix)}</p></section>" for c in CODES.values())
    style = ("body{font-family:sans-serif;max-width:60em;margin:1em auto;font-size:14px}"
             "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}"
             "section{margin-top:1.5em}section:target{background:#fef7e0}")
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>runbook finding codes</title>"
            f"<style>{style}</style></head><body><h1>runbook finding codes</h1>"
            "<p>A <b>blocker</b> stops the run; a <b>warning</b> needs a look but does not stop it; "
            "<b>info</b> is for the record.</p>"
            f"<table><tr><th>code</th><th>title</th><th>severity</th></tr>{rows}</table>{sections}</body></html>\n")


class Note(str):
    """A note of the plan or the analysis (a plain ``str`` everywhere a note is read) that
    carries its finding code."""

    __slots__ = ("code",)

    def __new__(cls, text: str, code: str) -> "Note":
        self = super().__new__(cls, text)
        self.code = lookup(code).code
        return self

    def __reduce__(self):
        return (Note, (str(self), self.code))
