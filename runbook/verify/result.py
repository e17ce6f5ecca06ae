"""What a verification returns: its checks, the row counts and checksums per table, and
notes on what was not checked."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..checks import Check


@dataclass(frozen=True)
class TableCount:
    table_before: str
    table_after: str
    rows_before: int | None
    rows_after: int | None
    checksum_before: str | None
    checksum_after: str | None
    method: str  # checksum | catalog (relfilenode unchanged) | count

    @property
    def ok(self) -> bool:
        if self.rows_before != self.rows_after:
            return False
        return self.checksum_before == self.checksum_after


@dataclass(frozen=True)
class Verification:
    checks: tuple[Check, ...]
    counts: tuple[TableCount, ...] = ()
    notes: tuple[str, ...] = ()  # what was not checked, and why

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "checks": [asdict(c) for c in self.checks], "notes": list(self.notes),
                "counts": [asdict(c) | {"ok": c.ok} for c in self.counts]}
