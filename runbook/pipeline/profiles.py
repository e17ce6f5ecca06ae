"""The environments' profiles (spec 10.1): the shipped ``runbook/data/profiles/<env>.toml``,
a file's overrides, and the preflight that refuses, before anything runs, a profile that
would fail only after the migration."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

from .. import options
from ..errors import BadInput

__all__ = ["ENVIRONMENTS", "Profile", "load_profile", "preflight"]

ENVIRONMENTS = options.ENVIRONMENTS


@dataclass(frozen=True)
class Profile:
    """One environment's settings (spec 10.1 keys first). TOML keys are camelCase."""

    auto_backup: bool
    dry_run_default: bool
    verbose_logging: bool
    notify_slack: bool
    require_approval: bool
    maintenance_mode: bool
    use_demo_when_no_url: bool = False
    cell_timeout: int = 600
    rollback_on_failed_verification: bool = True
    rollback_drop_added_columns: bool = True
    require_staging_evidence: bool = False
    staging_evidence_dir: str = ""
    backup_dir: str = ""
    #: as ``runbook migrate --backup``: dump, schema+changed, none or snapshot-command=CMD
    backup_mode: str = "dump"
    #: as ``--backup-jobs``: pg_dump's workers (0: one custom-format file); None: runbook's default
    backup_jobs: int | None = None
    lock_timeout: str = "5s"
    statement_timeout: str = "60s"
    attempts: int = 5
    slack_webhook_env: str = "SLACK_WEBHOOK_URL"
    maintenance_before: tuple[str, ...] = ()
    maintenance_after: tuple[str, ...] = ()
    command_timeout: int = 300
    health_url: str = ""
    health_timeout: int = 60

    def to_toml_dict(self) -> dict:
        return {_camel(f.name): (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


_TYPES = {f.name: f.type for f in fields(Profile)}


def _apply(base: dict, data: dict, where: str) -> dict:
    out = dict(base)
    for key, value in data.items():
        name = _snake(key)
        if name not in _TYPES:
            known = ", ".join(_camel(n) for n in _TYPES)
            raise BadInput(f"{where}: unknown profile key {key!r} (known: {known})")
        want = _TYPES[name].removesuffix(" | None")
        if want == "bool" and not isinstance(value, bool) or want == "int" and (
                not isinstance(value, int) or isinstance(value, bool)) or want == "str" and not isinstance(value, str):
            raise BadInput(f"{where}: {key} must be {want}, not {type(value).__name__}")
        if want.startswith("tuple"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BadInput(f"{where}: {key} must be a list of strings (shell commands)")
            value = tuple(value)
        out[name] = value
    return out


def load_profile(env: str, path: str | Path | None = None, overrides: dict | None = None) -> Profile:
    """The environment's shipped profile, then ``path`` (top-level keys, then the
    ``[env]`` table if any), then ``overrides`` (camelCase keys)."""
    if env not in ENVIRONMENTS:
        raise BadInput(f"unknown environment {env!r} (one of {', '.join(ENVIRONMENTS)})")
    text = (resources.files("runbook.data") / "profiles" / f"{env}.toml").read_text()
    values = _apply({}, tomllib.loads(text), f"profile {env}")
    if path:
        values = _apply_file(values, env, Path(path))
    if overrides:
        values = _apply(values, overrides, "overrides")
    # the runner's own checks, before any notebook runs
    for k in ("lock_timeout", "statement_timeout"):
        values[k] = options.duration(values.get(k, getattr(Profile, k)), f"profile {env}: {_camel(k)}")
    values["attempts"] = options.count(values.get("attempts", Profile.attempts), f"profile {env}: attempts", 1, 1000)
    profile = Profile(**values)
    backup_kwargs(profile, env)  # autoBackup, backupMode and backupJobs agree
    return profile


def backup_kwargs(p: Profile, env: str) -> dict:
    """The migration's backup arguments the profile says (autoBackup, backupMode,
    backupJobs: :func:`runbook.options.backup_options`); :class:`BadInput` when two of
    them say two things."""
    return options.backup_options(p.backup_mode, p.backup_jobs, enabled=p.auto_backup,
                                  names=(f"profile {env}: backupMode", f"profile {env}: backupJobs",
                                         f"profile {env}: autoBackup = false"))


def _apply_file(values: dict, env: str, p: Path) -> dict:
    """``values`` with a profile file's top-level keys, then its ``[env]`` table, applied."""
    try:
        data = tomllib.loads(p.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BadInput(f"profile {p}: {exc}") from None
    top = {k: v for k, v in data.items() if not (k in ENVIRONMENTS and isinstance(v, dict))}
    values = _apply(values, top, f"profile {p}")
    if isinstance(data.get(env), dict):
        values = _apply(values, data[env], f"profile {p} [{env}]")
    return values


def preflight(env: str, profile: Profile, *, dry_run: bool) -> None:
    """Refuse, before anything runs, a profile whose settings would fail only late (after
    the migration): the Slack webhook, the maintenance commands, the health URL, the
    timeouts. :class:`BadInput`, one line; the webhook, a secret, is never echoed."""
    p = profile
    where = f"profile {env}"
    # (lockTimeout and statementTimeout are checked by load_profile, runbook.options)
    for name in ("cell_timeout", "command_timeout", "health_timeout", "attempts"):
        if getattr(p, name) <= 0:
            raise BadInput(f"{where}: {_camel(name)} must be a positive number, not {getattr(p, name)}")
    snapshot = backup_kwargs(p, env).get("backup_command")
    if snapshot is not None and not dry_run:
        options.command(snapshot, f"{where}: backupMode's snapshot command")
    if p.notify_slack:
        _check_webhook(where, p.slack_webhook_env)
    if p.maintenance_mode and not dry_run:
        _check_maintenance(where, p)


def _check_webhook(where: str, var: str) -> None:
    hook = (os.environ.get(var) or "").strip()
    if not hook:
        raise BadInput(f"{where}: notifySlack is on but {var} is not set: set it to the Slack "
                       "webhook URL, or turn notifySlack off")
    if not re.match(r"https?://\S+\Z", hook):
        raise BadInput(f"{where}: {var} does not hold an http:// or https:// URL")


def _check_maintenance(where: str, p: Profile) -> None:
    if p.health_url and not re.match(r"https?://\S+\Z", p.health_url):
        raise BadInput(f"{where}: healthUrl {p.health_url!r} is not an http:// or https:// URL")
    for cmd in (*p.maintenance_before, *p.maintenance_after):
        missing = options.missing_program(cmd)
        if missing:
            raise BadInput(f"{where}: maintenance command {cmd!r}: {missing!r} is not a command this shell finds")

