"""The evidence archive a run leaves (``outputs/<env>/<stamp>-<fingerprint>/``): its
manifest and its check, the search for a staging run's archive (the production gate),
the pieces of ``summary.json`` drawn from the notebooks' results, the backup's pointer,
the secrets guard, and the versions of everything installed."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from importlib import metadata
from pathlib import Path

from .._version import __version__
from ..connection import contains_secret, scrub

__all__ = ["MANIFEST", "SUMMARY", "POINTER", "write_manifest", "check_evidence", "find_staging_evidence",
           "versions"]

MANIFEST = "MANIFEST.sha256"
SUMMARY = "summary.json"
POINTER = "backup-pointer.txt"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _backup_sha256(path: Path) -> str:
    """A backup's sha256: its file's, or for a directory-format backup the sha256 of its
    files' ``sha256sum`` lines (sorted by name), as ``LC_ALL=C sha256sum * | sha256sum`` in it gives."""
    if not path.is_dir():
        return _sha256(path)
    lines = "".join(f"{_sha256(f)}  {f.name}\n" for f in sorted(path.iterdir()) if f.is_file())
    return hashlib.sha256(lines.encode()).hexdigest()


def archive_files(folder: Path) -> list[Path]:
    """Every file of the archive but its manifest, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def write_manifest(folder: str | Path) -> Path:
    """``MANIFEST.sha256`` over every file in ``folder`` (``sha256sum`` format)."""
    folder = Path(folder)
    lines = [f"{_sha256(p)}  {p.relative_to(folder).as_posix()}" for p in archive_files(folder)]
    out = folder / MANIFEST
    out.write_text("\n".join(lines) + "\n")
    return out


def check_evidence(folder: str | Path) -> tuple[bool, str]:
    """Does every file match the manifest, with none missing and none added? One line."""
    folder = Path(folder)
    man = folder / MANIFEST
    if not man.is_file():
        return False, f"{folder}: no {MANIFEST}: not an evidence archive"
    listed: dict[str, str] = {}
    for n, line in enumerate(man.read_text().splitlines(), 1):
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if not m or m.group(2).startswith("/") or ".." in Path(m.group(2)).parts:
            return False, f"{folder}: {MANIFEST} line {n} is malformed"
        listed[m.group(2)] = m.group(1)
    present = {p.relative_to(folder).as_posix() for p in archive_files(folder)}
    for name, digest in listed.items():
        if name not in present:
            return False, f"{folder}: TAMPERED: {name} is missing"
        if _sha256(folder / name) != digest:
            return False, f"{folder}: TAMPERED: {name} does not match its sha256"
    extra = sorted(present - set(listed))
    if extra:
        return False, f"{folder}: TAMPERED: {extra[0]} is not in the manifest"
    return True, f"{folder}: ok: {len(listed)} files match {MANIFEST}{_what(folder)}"


def _what(folder: Path) -> str:
    """`` (environment, plan, verdict)`` from the archive's summary; empty when unreadable."""
    try:
        s = json.loads((folder / SUMMARY).read_text())
        return f" ({s.get('environment')}, plan {str(s.get('fingerprint'))[:12]}, verdict {s.get('verdict')})"
    except (OSError, ValueError):
        return ""


def find_staging_evidence(root: str | Path, fingerprint: str) -> tuple[Path | None, list[str]]:
    """The newest archive under ``root`` of a successful staging run of ``fingerprint``
    whose manifest verifies; and why the others were not accepted."""
    root = Path(root)
    problems: list[str] = []
    for d in sorted(root.glob(f"*-{fingerprint[:12]}"), reverse=True):
        why = _not_staging_evidence(d, fingerprint)
        if why:
            problems.append(why)
            continue
        return d, problems
    return None, problems


def _not_staging_evidence(d: Path, fingerprint: str) -> str | None:
    """Why the archive ``d`` is not the evidence of a successful staging run of
    ``fingerprint`` (None when it is)."""
    try:
        s = json.loads((d / SUMMARY).read_text())
    except (OSError, ValueError):
        return f"{d.name}: no readable {SUMMARY}"
    if s.get("environment") != "staging" or s.get("fingerprint") != fingerprint:
        return f"{d.name}: not a staging run of this plan"
    if s.get("verdict") != "migrated":
        return f"{d.name}: verdict {s.get('verdict')!r}, not 'migrated'"
    ok, msg = check_evidence(d)
    return None if ok else msg


def backup_evidence(folder: Path, b: dict | None) -> dict | None:
    """The summary's facts about the run's backup (``b``: the execute notebook's), and
    ``backup-pointer.txt`` written in ``folder`` when the backup is kept outside it."""
    if not b:
        return None
    if b.get("kind") == "snapshot":  # no file: the operator's command, and what it said
        return {"kind": "snapshot", "command": b["path"], "output": b.get("output"), "verified": False}
    path = Path(b["path"])
    inside = path.parent.resolve() == folder.resolve()
    info = {"file": path.name if inside else str(path), "in_archive": inside, "bytes": b.get("bytes"),
            "verified": b.get("verified"), "pg_dump_version": b.get("pg_dump_version")}
    if b.get("kind") == "schema+changed":  # no table's rows: what a restore can and cannot bring back
        info.update(kind="schema+changed", holds=b.get("output"))
    if not inside:
        info["sha256"] = _backup_sha256(path) if path.exists() else None
        (folder / POINTER).write_text(
            "The backup of this run is kept outside the archive (profile backupDir).\n"
            f"path: {path}\nbytes: {b.get('bytes')}\nsha256: {info['sha256']}\n"
            f"verified with pg_restore --list: {b.get('verified')}\nmade by: {b.get('pg_dump_version')}\n")
        info["pointer"] = POINTER
    return info


def scrub_secrets(folder: Path, url: str) -> list[str]:
    """Last line of defence: no text file of the archive may hold the password or the
    full URL. Scrubs and reports any that does (the tests expect none)."""
    found = []
    for f in archive_files(folder):
        if f.suffix not in (".ipynb", ".html", ".json", ".txt", ".log"):
            continue
        text = f.read_text(errors="replace")
        if contains_secret(text, url):
            f.write_text(scrub(text, url))
            found.append(f.name)
    return found


def results_summary(ex: dict, ver: dict | None, rb: dict | None) -> dict:
    """The summary's account of the notebooks' results: the execute notebook's run and
    steps (``ex``), its verification, 03-verify's (``ver``), the rollback (``rb``) and
    the last verification's verdict."""
    last_ver = (rb or {}).get("verification") or ver or ex.get("verification")
    return {
        "execute": {k: ex.get(k) for k in ("run_id", "action", "status", "lock_window_s", "lock_wait_s",
                                           "attempts", "timings")} if ex else None,
        "steps": _steps(ex),
        "verification": _verdict_of(ex.get("verification")),
        "reverification": _verdict_of(ver),
        "rollback": ({"status": rb.get("status"), "steps": _steps(rb), "verification": _verdict_of(rb.get("verification"))}
                     if rb else None),
        "final_verification_ok": last_ver.get("ok") if last_ver else None,
    }


def _steps(d: dict | None) -> list[dict]:
    return [{k: s[k] for k in ("step", "phase", "kind", "description", "seconds", "lock_wait_s", "attempt")}
            for s in (d or {}).get("steps", [])]


def _verdict_of(v: dict | None) -> dict | None:
    if not v:
        return None
    checks = v.get("checks", [])
    return {"ok": v.get("ok"), "checks": len(checks), "passed": sum(bool(c.get("ok")) for c in checks),
            "failed": [f"{c['name']}: {c.get('detail', '')}" for c in checks if not c.get("ok")][:20]}


def versions(server: str | None = None, pg_dump: str | None = None) -> dict:
    """PostgreSQL, Python, runbook and every dependency, as installed."""
    names = {"nbclient", "ipykernel", "jupyter_client", "nbformat"}
    try:
        for req in metadata.requires("runbook") or []:
            if "extra ==" not in req:
                names.add(re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0])
    except metadata.PackageNotFoundError:
        pass
    deps = {}
    for n in sorted(names, key=str.lower):
        try:
            deps[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            deps[n] = None
    return {"postgresql": server, "pg_dump": pg_dump, "python": sys.version.split()[0], "runbook": __version__,
            "dependencies": deps}
