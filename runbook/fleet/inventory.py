"""The fleet's inventory (``fleet.toml``): its databases, its waves, its limits.

Read with :mod:`tomllib` and validated in full before anything connects: a bad value is
one :class:`~runbook.errors.BadInput` line (exit 2). A database is a name, the *name* of
the environment variable that holds its URL (never the URL) and tags::

    environment = "staging"        # the profile each database's pipeline runs with
    runner = "notebooks"           # notebooks: `runbook run`'s pipeline; engine: migrate + verify
    concurrency = 2                # databases at a time
    concurrency_per_server = 1     # databases at a time on one PostgreSQL server (host:port)

    [failure_budget]
    max_failures = 1               # stop before the next wave after k failed databases
    max_failed_percent = 20        # ... or when more than p% of a wave failed

    [waves]
    canary = ["tenant-001"]
    then = ["25%", "region=eu", "100%"]

    [[databases]]
    name = "tenant-001"
    url_env = "TENANT_001_URL"
    tags = { environment = "production", region = "eu", tenant = "001" }

A wave of ``then`` is a percentage (the waves so far reach that share of the fleet: the
next databases in the file's order) or a tag selector (``key=value[,key=value]``: every
database not in an earlier wave that has those tags). Every database must be in a wave.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BadInput
from ..options import ENVIRONMENTS, count, duration, flag

__all__ = ["Database", "Inventory", "Budget", "load_inventory", "RUNNERS"]

RUNNERS = ("notebooks", "engine")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_TAG = re.compile(r"[A-Za-z0-9_.-]{1,63}")
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)%")
_TOP = {"mapping", "environment", "profile", "runner", "concurrency", "concurrency_per_server", "output_dir",
        "lock_timeout", "statement_timeout", "attempts", "backup", "approved", "failure_budget", "waves",
        "databases"}


@dataclass(frozen=True)
class Database:
    name: str
    url_env: str
    tags: dict = field(default_factory=dict)

    def matches(self, selector: dict) -> bool:
        return all(self.tags.get(k) == v for k, v in selector.items())


@dataclass(frozen=True)
class Budget:
    """Stop the rollout before the next wave once ``max_failures`` databases failed in
    this run, or once more than ``max_failed_percent`` of a wave's databases failed."""

    max_failures: int = 1
    max_failed_percent: float | None = None

    def spent(self, failed_total: int, wave_failed: int, wave_ran: int) -> str | None:
        """Why the budget is spent (None while it is not)."""
        if failed_total >= self.max_failures:
            return f"{failed_total} failed (the budget allows fewer than {self.max_failures})"
        if self.max_failed_percent is not None and wave_ran and 100 * wave_failed / wave_ran > self.max_failed_percent:
            return (f"{wave_failed} of {wave_ran} in the wave failed ({100 * wave_failed / wave_ran:.0f}%, the "
                    f"budget allows {self.max_failed_percent:g}%)")
        return None


@dataclass(frozen=True)
class Inventory:
    path: Path
    databases: tuple[Database, ...]
    waves: tuple[tuple[str, ...], ...]  # database names; wave 1 is the canary
    wave_labels: tuple[str, ...]
    environment: str = "development"
    profile: str | None = None
    mapping: str | None = None
    runner: str = "notebooks"
    concurrency: int = 1
    concurrency_per_server: int | None = None
    output_dir: Path = Path("outputs/fleet")
    lock_timeout: str | None = None
    statement_timeout: str | None = None
    attempts: int | None = None
    backup: bool = True
    approved: tuple[str, ...] = ()
    budget: Budget = Budget()

    def database(self, name: str) -> Database:
        return next(d for d in self.databases if d.name == name)

    def wave_of(self, name: str) -> int:
        return next(i for i, w in enumerate(self.waves, 1) if name in w)

    @property
    def state_file(self) -> Path:
        return self.output_dir / "state.json"


def _fail(where: str, why: str):
    raise BadInput(f"{where}: {why}")


def load_inventory(path: str | Path) -> Inventory:
    """The inventory at ``path``, validated; relative paths in it are relative to its folder."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"inventory {p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"inventory {p}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"inventory {p}: not valid TOML: {exc}") from None
    return parse_inventory(data, p)


def parse_inventory(data: dict, path: Path) -> Inventory:
    where = f"inventory {path}"
    unknown = sorted(set(data) - _TOP)
    if unknown:
        _fail(where, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_TOP))})")
    base = path.absolute().parent
    dbs = _databases(data.get("databases"), where)
    waves, labels = _waves(data.get("waves"), dbs, where)
    env = data.get("environment", "development")
    if env not in ENVIRONMENTS:
        _fail(where, f"environment {env!r} is not one of {', '.join(ENVIRONMENTS)}")
    runner = data.get("runner", "notebooks")
    if runner not in RUNNERS:
        _fail(where, f"runner {runner!r} is not one of {', '.join(RUNNERS)}")
    try:
        conc = count(data.get("concurrency", 1), "concurrency", 1, 256)
        per_server = data.get("concurrency_per_server")
        per_server = None if per_server is None else count(per_server, "concurrency_per_server", 1, 256)
        lock = None if data.get("lock_timeout") is None else duration(data["lock_timeout"], "lock_timeout")
        stmt = (None if data.get("statement_timeout") is None
                else duration(data["statement_timeout"], "statement_timeout"))
        attempts = None if data.get("attempts") is None else count(data["attempts"], "attempts", 1, 1000)
        backup = flag(data.get("backup", True), "backup")
    except BadInput as exc:
        _fail(where, str(exc))
    return Inventory(
        path=path.absolute(), databases=dbs, waves=waves, wave_labels=labels, environment=env,
        profile=_file(data.get("profile"), base, "profile", where), mapping=_file(data.get("mapping"), base, "mapping", where),
        runner=runner, concurrency=conc, concurrency_per_server=per_server,
        output_dir=base / _text(data.get("output_dir", "outputs/fleet"), "output_dir", where),
        lock_timeout=lock, statement_timeout=stmt, attempts=attempts, backup=backup,
        approved=_approved(data.get("approved", []), where), budget=_budget(data.get("failure_budget", {}), where))


def _text(v, key: str, where: str) -> str:
    if not isinstance(v, str) or not v.strip():
        _fail(where, f"{key} must be a non-empty string")
    return v


def _file(v, base: Path, key: str, where: str) -> str | None:
    if v is None:
        return None
    f = base / _text(v, key, where)
    if not f.is_file():
        _fail(where, f"{key} {v!r}: no such file ({f})")
    return str(f)


def _approved(v, where: str) -> tuple[str, ...]:
    from ..options import approved_fingerprint

    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list):
        _fail(where, "approved must be a list of plan fingerprints")
    out = []
    for fp in v:
        try:
            out.append(approved_fingerprint(fp if isinstance(fp, str) else repr(fp)))
        except BadInput as exc:
            _fail(where, f"approved: {exc}")
    return tuple(out)


def _databases(v, where: str) -> tuple[Database, ...]:
    if not isinstance(v, list) or not v:
        _fail(where, "no [[databases]]: list each database with its name, url_env and tags")
    out: list[Database] = []
    seen: set[str] = set()
    for i, d in enumerate(v, 1):
        at = f"database #{i}"
        if not isinstance(d, dict):
            _fail(where, f"{at} must be a table ([[databases]])")
        extra = sorted(set(d) - {"name", "url_env", "tags"})
        if extra:
            _fail(where, f"{at}: unknown key {extra[0]!r} (known: name, url_env, tags)")
        name = d.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            _fail(where, f"{at}: name must be 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit")
        if name in seen:
            _fail(where, f"database {name!r} is listed twice")
        seen.add(name)
        env = d.get("url_env")
        if isinstance(env, str) and ("://" in env or "=" in env or "@" in env):
            # never echo it: it may be a URL with its password
            _fail(where, f"database {name!r}: url_env must be the NAME of the environment variable holding the "
                         "URL (e.g. TENANT_001_URL), not the URL itself")
        if not isinstance(env, str) or not _ENV.fullmatch(env):
            _fail(where, f"database {name!r}: url_env must name an environment variable (letters, digits, '_')")
        tags = d.get("tags", {})
        if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(t, str) and _TAG.fullmatch(k)
                                                 and _TAG.fullmatch(t) for k, t in tags.items()):
            _fail(where, f"database {name!r}: tags must be key = \"value\" pairs of letters, digits, '_', '.', '-'")
        out.append(Database(name, env, dict(tags)))
    envs: dict[str, str] = {}
    for d in out:
        if d.url_env in envs:
            _fail(where, f"databases {envs[d.url_env]!r} and {d.name!r} name the same url_env {d.url_env}")
        envs[d.url_env] = d.name
    return tuple(out)


def _selector(text: str, where: str) -> dict:
    sel = {}
    for part in text.split(","):
        k, eq, v = part.partition("=")
        k, v = k.strip(), v.strip()
        if not eq or not _TAG.fullmatch(k) or not _TAG.fullmatch(v):
            _fail(where, f"wave {text!r} is neither a percentage (\"25%\") nor a tag selector (\"region=eu\")")
        sel[k] = v
    return sel


def _waves(v, dbs: tuple[Database, ...], where: str):
    if not isinstance(v, dict):
        _fail(where, "no [waves]: give canary = [\"<database>\"] and then = [\"25%\", \"100%\"]")
    extra = sorted(set(v) - {"canary", "then"})
    if extra:
        _fail(where, f"[waves]: unknown key {extra[0]!r} (known: canary, then)")
    names = [d.name for d in dbs]
    canary = v.get("canary")
    if not isinstance(canary, list) or not canary or not all(isinstance(c, str) for c in canary):
        _fail(where, "[waves] canary must list at least one database name")
    for c in canary:
        if c not in names:
            _fail(where, f"[waves] canary names {c!r}, which is not in [[databases]]")
    if len(set(canary)) != len(canary):
        _fail(where, "[waves] canary names a database twice")
    then = v.get("then", [])
    if not isinstance(then, list) or not all(isinstance(t, str) for t in then):
        _fail(where, "[waves] then must be a list of percentages (\"25%\") or tag selectors (\"region=eu\")")
    waves = [tuple(canary)]
    labels = ["canary"]
    taken = set(canary)
    last_pct = 0.0
    for t in then:
        m = _PERCENT.fullmatch(t.strip())
        if m:
            pct = float(m.group(1))
            if not 0 < pct <= 100:
                _fail(where, f"wave {t!r}: a percentage from 1% to 100%")
            if pct <= last_pct:
                _fail(where, f"wave {t!r}: percentages are the share of the fleet reached so far; each must be "
                             f"larger than the one before ({last_pct:g}%)")
            last_pct = pct
            target = math.ceil(len(names) * pct / 100)
            wave = []
            for n in names:
                if len(taken) >= target:
                    break
                if n not in taken:
                    wave.append(n)
                    taken.add(n)
        else:
            sel = _selector(t, where)
            wave = [d.name for d in dbs if d.name not in taken and d.matches(sel)]
            taken.update(wave)
        if not wave:
            _fail(where, f"wave {t!r} selects no database not already in an earlier wave")
        waves.append(tuple(wave))
        labels.append(t.strip())
    left = [n for n in names if n not in taken]
    if left:
        _fail(where, f"{len(left)} database(s) are in no wave ({', '.join(left[:3])}{' ...' if len(left) > 3 else ''}): "
                     "end [waves] then with \"100%\"")
    return tuple(waves), tuple(labels)


def _budget(v, where: str) -> Budget:
    if not isinstance(v, dict):
        _fail(where, "[failure_budget] must be a table")
    extra = sorted(set(v) - {"max_failures", "max_failed_percent"})
    if extra:
        _fail(where, f"[failure_budget]: unknown key {extra[0]!r} (known: max_failures, max_failed_percent)")
    try:
        k = count(v.get("max_failures", 1), "[failure_budget] max_failures", 1, 1_000_000)
    except BadInput as exc:
        _fail(where, str(exc))
    p = v.get("max_failed_percent")
    if p is not None and (isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 100):
        _fail(where, "[failure_budget] max_failed_percent must be a number from 0 to less than 100")
    return Budget(k, None if p is None else float(p))
