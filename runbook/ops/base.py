"""What every operation is: small frozen data that compiles to SQL, and validates itself.

Each operation knows
- its ``phase``: ``prepare`` (online, before the lock window: batched data work and
  constraints added ``NOT VALID``), ``lock`` (inside the one transaction that holds the
  exclusive locks: catalog-only changes) or ``finish`` (online, after COMMIT:
  validations);
- ``statements()``: its forward SQL;
- ``reverse()``: the operation that undoes it (alembic's ``reverse()`` habit), or
  ``None`` when there is nothing to undo;
- ``check()``: one SQL boolean expression that is true once it has taken effect;
- ``validate()``: what is wrong with its own fields (pgroll's ``Validate``): names that
  are no PostgreSQL identifier, a rename to the same name, an empty list ... A stored
  plan is rebuilt only from operations that validate.

Every identifier goes through :func:`runbook.naming.q`; no name is pasted raw.

The registry is explicit: a kind of operation is known to the serialisation (a plan is
stored with its run, so the rollback is that same plan) only when its class is
decorated with :func:`operation`.
"""

from __future__ import annotations

from dataclasses import fields

from ..naming import MAX_IDENTIFIER_BYTES, literal, qq
from ..phases import FINISH, LOCK, PREPARE

STATE_SCHEMA = "runbook"

#: class name -> operation class; filled by :func:`operation`
OPERATIONS: dict[str, type] = {}


def operation(cls):
    """Register an operation class under its name (the ``op`` key of its stored form)."""
    if cls.__name__ in OPERATIONS and OPERATIONS[cls.__name__] is not cls:
        raise TypeError(f"two operations are named {cls.__name__}")
    OPERATIONS[cls.__name__] = cls
    return cls


def dollar_quote(body: str, tag: str) -> str:
    """``$tag$body$tag$``, the tag lengthened (``$tag_$`` ...) until ``body`` cannot end
    it early: a literal or a name inside the body may hold ``$tag$`` itself
    (https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-DOLLAR-QUOTING)."""
    t = f"${tag}$"
    while (t + body + t).find(t, 1) != len(t) + len(body):
        tag += "_"
        t = f"${tag}$"
    return t + body + t


def _reg(schema: str, name: str) -> str:
    """``to_regclass('<quoted name>')`` as a literal: NULL when the relation is absent."""
    return f"to_regclass({literal(qq(schema, name))})"


#: The set forms of the commonest checks: one query reads every step of a kind, where
#: one check a step costs a query plan each (``bench/lock.py``: 500 renames' checks one by
#: one cost 10-30 ms under the lock, as sets 1-2 ms). Key -> (the columns of a step's row
#: after its number, SQL over ``v`` that is true when that step's check does NOT hold).
#: Each must say exactly what the operations' own ``check()`` says (tests/test_lock_window.py).
SET_CHECKS: dict[str, tuple[tuple[str, ...], str]] = {
    "relation renamed": (("new", "old"), "to_regclass(v.new) IS NULL OR to_regclass(v.old) IS NOT NULL"),
    "constraint named": (("rel", "name"), "NOT EXISTS (SELECT 1 FROM pg_constraint c "
                                          "WHERE c.conrelid = to_regclass(v.rel) AND c.conname = v.name)"),
    "trigger named": (("rel", "name"), "NOT EXISTS (SELECT 1 FROM pg_trigger t "
                                       "WHERE t.tgrelid = to_regclass(v.rel) AND t.tgname = v.name)"),
    "column named": (("rel", "name"), "NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(v.rel) "
                                      "AND a.attname = v.name AND NOT a.attisdropped)"),
    "not null": (("rel", "name"), "(SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = to_regclass(v.rel) "
                                  "AND a.attname = v.name) IS NOT TRUE"),
    "foreign key named": (("rel", "name"), "NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = "
                                           "to_regclass(v.rel) AND c.conname = v.name AND c.contype = 'f')"),
}


def identifier_problem(value, what: str) -> str | None:
    """Why ``value`` cannot be a PostgreSQL identifier, or None. (Names from the catalog may
    hold quotes or spaces, which :func:`runbook.naming.q` escapes; the mapping's stricter
    rules are :func:`runbook.naming.validate_identifier`.)"""
    if not isinstance(value, str):
        return f"{what} is {type(value).__name__}, not a name"
    if not value:
        return f"{what} is empty"
    if "\x00" in value:
        return f"{what} holds a NUL character"
    if len(value.encode()) > MAX_IDENTIFIER_BYTES:
        return f"{what} {value[:20]!r}... is {len(value.encode())} bytes (PostgreSQL keeps {MAX_IDENTIFIER_BYTES})"
    return None


class Op:
    """The base of every operation (the subclasses are frozen dataclasses)."""

    phase = LOCK
    kind = "op"
    #: dropped columns / types lose data: only reversed when the user asks
    drops_data = False
    #: the fields that are PostgreSQL identifiers (checked by :meth:`validate`)
    identifiers: tuple[str, ...] = ()
    #: the fields that are identifiers or None
    optional_identifiers: tuple[str, ...] = ()
    #: the fields that are tuples of identifiers, never empty
    identifier_lists: tuple[str, ...] = ()
    #: the fields that are SQL or text, never empty
    texts: tuple[str, ...] = ()
    #: what the step changes, so that the lock window reads an earlier step's check
    #: before a later step falsifies it: (aspect, field) pairs, the field naming an object
    #: whose name or existence (aspect None), or whose "default" or "not null", the step
    #: changes. None: not declared, which counts as changing everything.
    changes: tuple[tuple[str | None, str], ...] | None = None
    #: where the names of its fields live: "table" (the columns, constraints and triggers
    #: of ``table_name``), "relation" (a schema's tables, indexes, sequences), "statistics",
    #: "type", "function"
    name_scope = "table"

    def statements(self) -> list[str]:
        raise NotImplementedError

    def reverse(self) -> "Op | None":
        raise NotImplementedError

    def check(self) -> str:
        return "true"

    #: the key of this kind's set form of :meth:`check` in :data:`SET_CHECKS`, or None
    set_check: str | None = None

    def set_check_values(self) -> tuple[str, ...]:
        """This step's row in its kind's set check (texts, in the key's column order)."""
        raise NotImplementedError

    def transactions(self) -> list[list[str]]:
        """How the runner splits the statements into transactions when run online."""
        return [self.statements()]

    def describe(self) -> str:
        raise NotImplementedError

    @property
    def table(self) -> str | None:
        return getattr(self, "table_name", None)

    # -- validation ---------------------------------------------------------------------
    def validate(self) -> list[str]:
        """What is wrong with this operation's own fields (empty when nothing is)."""
        out = []
        for name in self.identifiers:
            out.append(identifier_problem(getattr(self, name), name))
        for name in self.optional_identifiers:
            v = getattr(self, name)
            out.append(None if v is None else identifier_problem(v, name))
        for name in self.identifier_lists:
            v = getattr(self, name)
            if not isinstance(v, tuple) or not v:
                out.append(f"{name} is not a non-empty list of names")
            else:
                out.extend(identifier_problem(x, f"{name}[{i}]") for i, x in enumerate(v))
        for name in self.texts:
            v = getattr(self, name)
            if not isinstance(v, str) or not v.strip():
                out.append(f"{name} is empty")
        out.extend(self._validate())
        return [p for p in out if p]

    def _validate(self) -> list[str | None]:
        """The checks of one kind of operation beyond its fields' shapes."""
        return []


# -- serialisation: a plan is stored with its run, so the rollback is that same plan ------

def op_to_dict(op: Op) -> dict:
    d = {"op": type(op).__name__}
    for f in fields(op):
        v = getattr(op, f.name)
        d[f.name] = op_to_dict(v) if isinstance(v, Op) else (list(v) if isinstance(v, tuple) else v)
    return d


def op_from_dict(d: dict) -> Op:
    """The operation a stored dict describes. Raises ``ValueError`` when the dict names
    no registered operation or the operation does not validate."""
    cls = OPERATIONS.get(d.get("op")) if isinstance(d, dict) else None
    if cls is None:
        raise ValueError(f"unknown operation {d.get('op') if isinstance(d, dict) else d!r}")
    kw = {}
    for f in fields(cls):
        v = d.get(f.name)
        if isinstance(v, dict) and "op" in v:
            v = op_from_dict(v)
        elif isinstance(v, list):
            v = tuple(v)
        kw[f.name] = v
    op = cls(**kw)
    problems = op.validate()
    if problems:
        raise ValueError(f"{cls.__name__}: {'; '.join(problems)}")
    return op


def set_check_key(op: Op) -> str | None:
    """The key of ``op``'s set check, when it stands for its ``check()``: both defined by
    the same class (a subclass that overrides ``check()`` alone is checked one by one)."""
    if op.set_check is None:
        return None
    mro = type(op).__mro__
    return op.set_check if (next(c for c in mro if "check" in vars(c))
                            is next(c for c in mro if "set_check_values" in vars(c))) else None


__all__ = ["FINISH", "LOCK", "OPERATIONS", "PREPARE", "SET_CHECKS", "STATE_SCHEMA", "Op", "dollar_quote",
           "identifier_problem", "op_from_dict", "op_to_dict", "operation", "set_check_key"]
