"""What a run returns: one :class:`RunResult` (its steps, preflight checks, backup, lock
window, verification, audit rows), as the report and the notebooks read it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..plan import Plan
from ..verify import Verification
from .backup import BackupInfo


@dataclass(frozen=True)
class StepResult:
    step: int
    phase: str
    kind: str
    description: str
    seconds: float
    lock_wait_s: float = 0.0
    attempt: int = 1
    #: the lock window times a run of steps of one kind together: this step's time is its
    #: share of that group's, which has this many steps (1: timed on its own)
    shared: int = 1


def timed_units(steps) -> list[list]:
    """The steps as they were timed: one list a step, but the steps the lock window timed
    together (``StepResult.shared``) in one list."""
    units: list[list] = []
    for s in steps:
        shared = s.shared
        if shared > 1 and units and units[-1][0].shared == shared and len(units[-1]) < shared \
                and units[-1][-1].step == s.step - 1:
            units[-1].append(s)
        else:
            units.append([s])
    return units


@dataclass(frozen=True)
class PreflightCheck:
    name: str
    ok: bool
    detail: str
    blocking: bool = True


@dataclass(frozen=True)
class RunResult:
    run_id: str
    action: str  # migrate | rehearse | dry-run | rollback | nothing
    status: str  # migrated | rehearsed | planned | rolled back | nothing to do | failed
    fingerprint: str
    plan: Plan
    steps: tuple[StepResult, ...] = ()
    preflight: tuple[PreflightCheck, ...] = ()
    backup: BackupInfo | None = None
    lock_window_s: float = 0.0
    lock_wait_s: float = 0.0
    attempts: int = 0
    verification: Verification | None = None
    audit_rows: tuple[dict, ...] = ()
    log_file: str | None = None
    timings: dict = field(default_factory=dict)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def summary(self) -> dict:
        return {
            "run_id": self.run_id, "action": self.action, "status": self.status,
            "fingerprint": self.fingerprint, "operations": len(self.plan.ops),
            "lock_window_s": round(self.lock_window_s, 6), "lock_wait_s": round(self.lock_wait_s, 6),
            "attempts": self.attempts, "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "backup": asdict(self.backup) if self.backup else None,
            "steps": [asdict(s) for s in self.steps],
            "preflight": [asdict(p) for p in self.preflight],
            "verification": self.verification.to_dict() if self.verification else None,
            "log_file": self.log_file, "message": self.message,
        }
