"""The results of a comparison: one :class:`Finding` per difference, one
:class:`ModelStatus` per model, and the :class:`Compatibility` that holds them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

from ..checks import Check, Kind
from ..findings import lookup, service_code

__all__ = ["BLOCKER", "WARNING", "INFO", "SEVERITY_ORDER", "READS", "WRITES", "Finding", "ModelStatus",
           "Compatibility"]

BLOCKER, WARNING, INFO = "blocker", "warning", "info"
SEVERITY_ORDER = {BLOCKER: 0, WARNING: 1, INFO: 2}
READS, WRITES = "reads", "writes"


@dataclass(frozen=True)
class Finding:
    """One difference between the schema and the database, for one model.

    ``severity`` is the finding's own: ``blocker`` when it breaks the client's reads, or
    its writes of the model (``blocks``). Whether it stops the run depends on what the
    service writes: :meth:`Compatibility.severity_of` gives the word a report shows.
    ``code`` is its finding code (:mod:`runbook.findings`), from its check and severity."""

    model: str
    table: str  # schema-qualified, as the database names it
    column: str  # a column, or the object concerned ("" for the table itself)
    check: str  # table | column | type | nullability | default | enum | relation | unique | index | name | unknown column
    severity: str  # blocker | warning | info
    problem: str
    consequence: str
    fix: str
    blocks: tuple[str, ...] = ()  # what the client cannot do: "reads", "writes"
    code: str = ""

    def __post_init__(self):
        code = lookup(self.code).code if self.code else service_code(self.check, self.severity, self.blocks)
        object.__setattr__(self, "code", code)

    def row(self, shown: str | None = None) -> dict:
        """The table form: code, model, column, severity, problem, consequence, fix.
        ``shown`` is the severity to show (:meth:`Compatibility.severity_of`); without it,
        the finding's own."""
        sev = shown or self.severity
        what = sev if not self.blocks else f"{sev} ({' + '.join(self.blocks)})"
        return {"code": self.code, "model": self.model, "column": self.column or "-", "severity": what,
                "problem": self.problem, "consequence": self.consequence, "fix": self.fix}


@dataclass(frozen=True)
class ModelStatus:
    model: str
    table: str
    exists: bool
    readable: bool
    writable: bool
    written: bool  # the service creates rows of it


@dataclass(frozen=True)
class Compatibility:
    """The comparison of one schema with one database."""

    source: str  # the schema file
    database: str  # redacted URL or database name
    db_schema: str
    written: tuple[str, ...]
    models: tuple[ModelStatus, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()

    @property
    def blocking(self) -> tuple[Finding, ...]:
        """Blockers that matter to the service: reads of any model, writes of the written ones."""
        return tuple(f for f in self.findings if f.severity == BLOCKER and
                     (READS in f.blocks or (WRITES in f.blocks and f.model in self.written)))

    @property
    def ok(self) -> bool:
        return not self.blocking

    def severity_of(self, f: Finding) -> str:
        """The word for ``f`` here: ``blocker`` only when it is :attr:`blocking` (it stops
        the service); a blocker of writes of a model the service does not write limits
        what it could write: a ``warning``."""
        if f.severity != BLOCKER:
            return f.severity
        return BLOCKER if f in self.blocking else WARNING

    def of(self, *severities: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity in severities)

    def rows(self, severities: Iterable[str] = (BLOCKER, WARNING)) -> list[dict]:
        """The findings of these severities (their own) as rows, each with the severity
        :meth:`severity_of` gives it."""
        keep = set(severities)
        return [f.row(self.severity_of(f)) for f in self.findings if f.severity in keep]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "source": self.source, "database": self.database, "db_schema": self.db_schema,
                "written": list(self.written), "notes": list(self.notes), "models": [asdict(m) for m in self.models],
                "blocking": [asdict(f) for f in self.blocking],
                "findings": [asdict(f) | {"shown_severity": self.severity_of(f)} for f in self.findings]}

    def as_checks(self) -> list[Check]:
        """One failing :class:`runbook.checks.Check` per blocking finding, or one passing check."""
        if not self.blocking:
            n = len(self.of(BLOCKER))
            rest = f"; {n} warning(s): writes of models it does not write (see runbook check-schema)" if n else ""
            return [Check("target schema: the service can read every model and write "
                          + ", ".join(self.written), True, f"no blocker{rest}", kind=Kind.SERVICE)]
        return [Check(f"target schema: {f.model} {f.column or f.table}: {f.problem}", False,
                      f"{f.consequence}; fix: {f.fix}", kind=Kind.SERVICE) for f in self.blocking]
