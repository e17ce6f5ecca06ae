"""What both the tables and the charts read out of the API's results: the verification a
result holds, the table the foreign-key views centre on, the kind of a check, sizes in MiB."""

from __future__ import annotations


def verification_of(obj):
    """The :class:`Verification` of ``obj``: itself, or a RunResult's (None when none ran)."""
    return getattr(obj, "verification", obj) if not hasattr(obj, "checks") else obj


def focus_table(analysis, table: str | None) -> str | None:
    """The table the foreign-key views centre on: ``table`` (by its old or new name) when
    a foreign key references it, else the table most referenced; None when none is."""
    names = {f.references for f in analysis.foreign_keys}
    if table and table in names:
        return table
    if table:
        t = next((t for t in analysis.tables if table in (t.old, t.new)), None)
        if t and (t.old in names or t.new in names):
            return t.old if t.old in names else t.new
    counts: dict[str, int] = {}
    for f in analysis.foreign_keys:
        counts[f.references] = counts.get(f.references, 0) + 1
    return max(counts, key=counts.get) if counts else None


def mib(n: int | None) -> float | None:
    return None if n is None else n / 2**20

