""":func:`compare`: a parsed Prisma schema against a catalog snapshot, model by model
(no database access): the mapped table exists (``@@map``, ``@@schema``), then its
columns (:mod:`.columns`), keys and relations (:mod:`.keys`)."""

from __future__ import annotations

from typing import Iterable

from ..catalog.inspect import Snapshot, Table
from ..errors import BadInput
from ..mapping import load_mapping
from ..naming import q, qq
from ..prisma import Model, Schema
from .columns import field_findings, unknown_column_findings
from .findings import BLOCKER, READS, SEVERITY_ORDER, WRITES, Compatibility, Finding, ModelStatus
from .keys import key_findings, m2m_findings

__all__ = ["compare"]


def compare(schema: Schema, snap: Snapshot, *, db_schema: str = "public", written: Iterable[str] | None = None,
            source: str = "", database: str = "") -> Compatibility:
    """Compare ``schema`` with the catalog ``snap`` (no database access). ``written``:
    the models the service creates rows of (None: every model)."""
    written = tuple(m.name for m in schema.models if not m.is_ignored) if written is None else tuple(written)
    unknown = [m for m in written if not schema.has_model(m)]
    if unknown:
        raise BadInput(f"--writes names {', '.join(unknown)}, not a model of the schema "
                       f"(models: {', '.join(m.name for m in schema.models)})")
    findings: list[Finding] = []
    statuses: list[ModelStatus] = []
    for model in schema.models + schema.views:
        if model.is_ignored:
            continue
        found, t = _model_findings(model, schema, snap, db_schema)
        findings += found
        statuses.append(_status(model, found, t is not None, db_schema, written))
    findings += m2m_findings(schema, snap, db_schema)
    order = {m.name: i for i, m in enumerate(schema.models + schema.views)}
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], order.get(f.model, 1 << 30)))
    return Compatibility(source, database or snap.database, db_schema, written, tuple(statuses), tuple(findings))


def _status(model: Model, found: list[Finding], has_table: bool, db_schema: str, written: tuple[str, ...]) -> ModelStatus:
    """What the model's findings leave the client able to do (a view that is found has no table)."""
    reads = any(f.severity == BLOCKER and READS in f.blocks for f in found)
    writes = any(f.severity == BLOCKER and WRITES in f.blocks for f in found)
    return ModelStatus(model.name, qq(model.schema or db_schema, model.db_name),
                       has_table or model.kind == "view" and not reads, not reads, not reads and not writes,
                       model.name in written)


def _model_findings(model: Model, schema: Schema, snap: Snapshot, db_schema: str) -> tuple[list[Finding], Table | None]:
    """The findings of one model, and its table (None when it has none: missing, or a view)."""
    sch = model.schema or db_schema
    t = snap.table(sch, model.db_name)
    tq = qq(sch, model.db_name)
    if model.kind == "view":
        return _view_findings(model, snap, sch, tq, t is not None), None
    if t is None:
        return [_missing_table(model, sch, tq)], None
    out: list[Finding] = []
    known: set[str] = set()
    for f in model.scalar_fields():
        if f.kind in ("composite", "unknown") or f.is_ignored:
            continue
        known.add(f.db_name)
        out += field_findings(model, f, t, schema, snap, db_schema, tq)
    out += unknown_column_findings(model, t, known, tq)
    out += key_findings(model, schema, snap, t, tq)
    return out, t


def _view_findings(model: Model, snap: Snapshot, sch: str, tq: str, has_table: bool) -> list[Finding]:
    if has_table or any(v.schema == sch and v.name == model.db_name for v in snap.views):
        return []
    return [Finding(model.name, tq, "", "table", BLOCKER, f"view {tq} does not exist",
                    f"every query of {model.name} fails", f"create the view {tq}", (READS,))]


def _missing_table(model: Model, sch: str, tq: str) -> Finding:
    hint = _legacy_hint(model.db_name) if sch == "public" else ""
    return Finding(model.name, tq, "", "table", BLOCKER, f"table {tq} does not exist",
                   f"every query of {model.name} fails (relation {model.db_name} does not exist)",
                   hint or f"create it: CREATE TABLE {tq} ( ...", (READS, WRITES))


def _legacy_hint(table: str) -> str:
    """``runbook migrate`` when the default mapping renames a table to ``table``."""
    try:
        for t in load_mapping(None).tables:
            if t.new == table:
                return f"runbook migrate (renames {q(t.old)} to {q(t.new)})"
    except Exception:  # the hint is a convenience; never fail the check for it
        pass
    return ""
