"""Validation of option values, in one place: the command line, the API (``Options``)
and the pipeline (profiles, ``--approved-fingerprint``) all go through these functions,
so a bad value is refused with one line (exit 2) before anything connects.
"""

from __future__ import annotations

import math
import re
import shlex
import subprocess

from .errors import BadInput

# PostgreSQL's time units for integer settings in milliseconds (lock_timeout,
# statement_timeout): https://www.postgresql.org/docs/current/config-setting.html
#: the environments a pipeline runs in, each with its profile (runbook/data/profiles)
ENVIRONMENTS = ("development", "staging", "production")

_UNIT_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*")
#: pg_dump -j N opens N + 1 connections; more workers than this is a typo, not a plan
MAX_BACKUP_JOBS = 64
MAX_MS = 2**31 - 1  # the largest value PostgreSQL accepts for these settings (about 24.8 days)


def duration_ms(value, name: str) -> int:
    """The milliseconds a PostgreSQL duration means (``500ms``, ``5s``, ``1min``, bare
    integer = ms); refuses other forms, 0 (which would mean "wait for ever") and values
    beyond what the server accepts."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadInput(f"{name} must be a duration such as 500ms, 5s or 1min, not {type(value).__name__}")
    text = str(value)
    m = _DURATION.fullmatch(text)
    if not m:
        raise BadInput(f"{name} {text!r} is not a duration: use a number with ms, s, min, h or d "
                       f"(e.g. 500ms, 5s, 1min), or a bare number of milliseconds")
    ms = float(m.group(1)) * _UNIT_MS[m.group(2) or "ms"]
    if not math.isfinite(ms) or round(ms) < 1:
        raise BadInput(f"{name} {text!r} is too short: at least 1ms (0 would mean no limit)")
    if round(ms) > MAX_MS:
        raise BadInput(f"{name} {text!r} is too long: at most {MAX_MS}ms (about 24 days)")
    return int(round(ms))


def duration(value, name: str) -> str:
    """``value`` checked, as the text PostgreSQL is given (no spaces; a bare number gets ``ms``)."""
    duration_ms(value, name)
    m = _DURATION.fullmatch(str(value))
    return f"{m.group(1)}{m.group(2) or 'ms'}"


def count(value, name: str, low: int = 1, high: int = 1000) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            value = int(value)
        else:
            raise BadInput(f"{name} must be a whole number from {low:,} to {high:,}, not {value!r}")
    if not low <= value <= high:
        raise BadInput(f"{name} {value} is out of range: from {low:,} to {high:,}")
    return value


def seconds(value, name: str, high: float = 3600.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= high:
        raise BadInput(f"{name} must be a number of seconds from 0 to {high:g}, not {value!r}")
    return float(value)


def choice(value, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadInput(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def path(value, name: str) -> str:
    """A folder or file name: text, not empty, no NUL byte (the file system says the rest,
    in the preflight)."""
    if not isinstance(value, str) and not hasattr(value, "__fspath__"):
        raise BadInput(f"{name} must be a path, not {type(value).__name__}")
    text = str(value)
    if not text.strip():
        raise BadInput(f"{name} is empty: give a folder")
    if "\x00" in text:
        raise BadInput(f"{name} contains a NUL byte")
    if len(text.encode("utf-8", "surrogateescape")) > 4095:
        raise BadInput(f"{name} is longer than 4095 bytes")
    return text


def flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise BadInput(f"{name} must be true or false, not {value!r}")
    return value


# -- plan fingerprints ------------------------------------------------------------------------

MIN_PREFIX = 12
_FINGERPRINT = re.compile(r"[0-9a-f]{%d,64}" % MIN_PREFIX)


def approved_fingerprint(value: str | None) -> str | None:
    """An approval as given (``sha256:`` optional): the full fingerprint or a prefix of at
    least 12 hex characters, lower-cased; None when no approval was given."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadInput(f"approved fingerprint must be text, not {type(value).__name__}")
    text = value.strip().lower()
    text = text.removeprefix("sha256:")
    if not _FINGERPRINT.fullmatch(text):
        shown = value.strip()[:80]
        raise BadInput(f"approved fingerprint {shown!r} is not a plan fingerprint: give its 64 hex characters "
                       f"(or at least the first {MIN_PREFIX}), as `runbook plan` prints them")
    return text


def fingerprint_matches(approved: str | None, fingerprint: str) -> bool:
    """Does an approval (checked by :func:`approved_fingerprint`) name this plan?"""
    a = approved_fingerprint(approved)
    return a is not None and fingerprint.lower().startswith(a)


# -- argparse types: the same checks, as one line from the command line -----------------------

def arg_count(low: int = 1, high: int = 10_000_000):
    import argparse

    def parse(text: str) -> int:
        try:
            return count(text, "value", low, high)
        except BadInput as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix("value ")) from None

    parse.__name__ = "count"
    return parse


def arg_seconds(low: float = 0.0, high: float = 3600.0):
    import argparse

    def parse(text: str) -> float:
        try:
            x = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not math.isfinite(x) or not low <= x <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is out of range: from {low:g} to {high:g} seconds")
        return x

    parse.__name__ = "seconds"
    return parse


def arg_path(text: str) -> str:
    import argparse

    try:
        return path(text, "path")
    except BadInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def missing_program(cmd: str) -> str | None:
    """The program a maintenance command starts, when the shell cannot find it (builtins,
    functions and PATH count, as ``command -v`` says); None when found or not plain."""
    try:
        words = shlex.split(cmd)
    except ValueError:
        return None  # not plain words: the shell will say
    while words and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", words[0]):  # FOO=1 cmd: the program is cmd
        words.pop(0)
    prog = words[0] if words else ""
    if not prog or any(c in prog for c in "$`|&;<>()"):
        return None
    found = subprocess.run(["/bin/sh", "-c", 'command -v -- "$1"', "sh", prog], capture_output=True)
    return None if found.returncode == 0 else prog


def command(value, name: str) -> str:
    """A shell command the run will start: a non-empty line whose program the shell can find."""
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        raise BadInput(f"{name} must be one non-empty line of shell, not {value!r}")
    missing = missing_program(value)
    if missing:
        raise BadInput(f"{name}: the shell cannot find {missing!r}")
    return value.strip()


#: the backup modes (``runbook migrate --backup``, the profiles' ``backupMode``)
BACKUP_MODES = ("dump", "schema+changed", "none", "snapshot-command=CMD")


def backup_mode(value, name: str = "--backup") -> str:
    """One of :data:`BACKUP_MODES` (``snapshot-command=`` followed by a command)."""
    if isinstance(value, str) and (value in BACKUP_MODES[:3] or (value.startswith("snapshot-command=")
                                                                  and value.partition("=")[2].strip())):
        return value
    raise BadInput(f"{name} must be one of {', '.join(BACKUP_MODES)}, not {value!r}")


def backup_options(mode: str = "dump", jobs: int | None = None, *, enabled: bool = True,
                   names: tuple[str, str, str] = ("--backup", "--backup-jobs", "--no-backup")) -> dict:
    """The migration's backup keyword arguments (``backup``, ``backup_command``,
    ``backup_scope``, ``backup_jobs``) for a backup mode, a number of pg_dump jobs (None:
    runbook's default) and whether backups are on at all (``--no-backup``, the profiles'
    ``autoBackup``). Two settings that say two things are refused. ``names``: how the
    three are called where they were given."""
    mode = backup_mode(mode, names[0])
    if not enabled and mode != "dump":
        raise BadInput(f"{names[2]} and {names[0]} = {mode} say two things: give one")
    out: dict = {"backup": enabled and mode != "none"}
    if mode.startswith("snapshot-command="):
        out["backup_command"] = mode.partition("=")[2]
    if mode == "schema+changed":
        out["backup_scope"] = "schema+changed"
    if jobs is not None:
        if not out["backup"] or mode != "dump":
            raise BadInput(f"{names[1]} is for a pg_dump backup of the rows, and {names[0]}/{names[2]} say there "
                           "is none or a schema-only one: give one")
        out["backup_jobs"] = count(jobs, names[1], 0, MAX_BACKUP_JOBS)
    return out
