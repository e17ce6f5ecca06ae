"""Run the real ``runbook`` command in a pseudo-terminal, as a person at a terminal does.

stdout and stderr each get their own pseudo-terminal (so a test can tell them apart), of
the size given; the environment is the test's, without the variables that would force or
forbid colour or a width, plus ``env``.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_UNSET = ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES", "TQDM_DISABLE")


@dataclass
class Shown:
    code: int
    out: str  # as written, escapes and carriage returns included
    err: str

    @staticmethod
    def lines(text: str) -> list[str]:
        """What a reader sees: escapes removed, each carriage-return overwrite its own line."""
        return [l for l in ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n").split("\n")]

    @property
    def last_line(self) -> str:
        return [l for l in self.lines(self.out) if l.strip()][-1]


def _pty(cols: int, rows: int) -> tuple[int, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return master, slave


def _drain(fd: int, into: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed its end
            return
        if not chunk:
            return
        into.append(chunk)


def in_terminal(*args: str, env: dict | None = None, cols: int = 100, rows: int = 40, timeout: float = 600) -> Shown:
    environ = {k: v for k, v in os.environ.items() if k not in _UNSET} | {"TERM": "xterm-256color"} | (env or {})
    (mo, so), (me, se) = _pty(cols, rows), _pty(cols, rows)
    p = subprocess.Popen([sys.executable, "-m", "runbook.cli", *args], stdin=subprocess.DEVNULL, stdout=so,
                         stderr=se, env=environ, close_fds=True)
    os.close(so)
    os.close(se)
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [threading.Thread(target=_drain, args=(fd, buf)) for fd, buf in ((mo, out), (me, err))]
    for t in readers:
        t.start()
    code = p.wait(timeout=timeout)
    for t in readers:
        t.join(timeout=30)
    os.close(mo)
    os.close(me)
    return Shown(code, b"".join(out).decode(errors="replace"), b"".join(err).decode(errors="replace"))
