"""Fault injection, for the crash and interruption tests (``RUNBOOK_FAULT``).

``fail:<step>`` raises at that step, ``kill:<step>`` SIGKILLs this process right after
it, ``pause:<step>`` waits right after it (``pause:verify``: before the verification)
until a signal comes, at most 60 s, having touched the file ``$RUNBOOK_PAUSE_FILE``.
Inside the lock window the batch itself carries the fault: see :class:`LockFault`.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path


def fault(step, where: str) -> None:
    """The fault ``RUNBOOK_FAULT`` asks for at ``step`` (a number, or ``"verify"``), on
    the ``before`` or ``after`` side of it; nothing when it asks for none."""
    spec = os.environ.get("RUNBOOK_FAULT", "")
    if not spec or ":" not in spec:
        return
    mode, _, n = spec.partition(":")
    if n == str(step):
        if mode == "fail" and where == "before":
            raise RuntimeError(f"injected failure at step {step}")
        if mode == "kill" and where == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "pause" and (where == "after" or step == "verify"):
            flag = os.environ.get("RUNBOOK_PAUSE_FILE")
            if flag:
                Path(flag).write_text(f"paused at {step}\n")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                time.sleep(0.05)


@dataclass(frozen=True)
class LockFault:
    """``RUNBOOK_FAULT`` as the lock window reads it: ``fail:<n>`` puts a ``RAISE`` into
    the batch at step n; ``kill:<n>`` and ``pause:<n>`` end a round trip after step n, so
    that :func:`fault` can kill or pause the process there, the transaction open."""

    mode: str
    step: int | None

    @classmethod
    def from_env(cls) -> LockFault:
        mode, _, n = os.environ.get("RUNBOOK_FAULT", "").partition(":")
        return cls(mode, int(n) if n.isdigit() else None)

    def fails_at(self, step: int) -> bool:
        return self.mode == "fail" and self.step == step

    def stops_after(self, step: int) -> bool:
        return self.mode in ("kill", "pause") and self.step == step
