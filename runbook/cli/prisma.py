"""``runbook check-schema`` and ``runbook check-service``: can the service use the database?"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from ..errors import BadInput
from ..options import arg_seconds
from .output import _print_table, heading, line, notes, verdict


def _print_findings(c, show_all: bool) -> None:
    from ..compat import BLOCKER, INFO, WARNING

    line(f"target schema {c.source} against {c.database} (schema {c.db_schema})")
    line(f"models the service writes: {', '.join(c.written)}")
    _print_table([{"model": m.model, "table": m.table, "exists": "yes" if m.exists else "NO",
                   "reads": "ok" if m.readable else "FAIL",
                   "creates": ("ok" if m.writable else "FAIL") + ("" if m.written else " (not written)")}
                  for m in c.models])
    sev = (BLOCKER, WARNING, INFO) if show_all else (BLOCKER, WARNING)
    rows = c.rows(sev)
    heading(f"Findings ({len(rows)}{'' if show_all else f'; {len(c.of(INFO))} info hidden, --all shows them'})")
    _print_table(rows, ["code", "model", "column", "severity", "problem", "consequence", "fix"])
    notes(c.notes)
    if c.ok:
        verdict("compatible", f"no blocker for reads, nor for writes of {', '.join(c.written)}")
    else:
        verdict("INCOMPATIBLE", f"{len(c.blocking)} blocker(s) stop the service", "bad")


def _service_target(a):
    """(schema argument, models written, PostgreSQL schema) from the options and the
    mapping's ``[service]``; refuses before connecting when there is no target schema."""
    from ..compat import load_schema
    from ..mapping import load_mapping

    m = load_mapping(a.mapping)
    written = tuple(x.strip() for x in a.writes.split(",") if x.strip()) if a.writes is not None else None
    if a.target_schema:
        target = a.target_schema
        same = m.service.target_schema is not None and Path(a.target_schema).resolve() == m.service.target_schema.resolve()
        if written is None and same:
            written = m.service.writes
    elif m.service.configured:
        target = m.service.load_schema()
        if written is None:
            written = m.service.written_models(target)
    else:
        raise BadInput(f"no target schema: give --target-schema FILE, or a mapping whose [service] names one "
                       f"({m.source} has none)")
    if written is not None:
        sch, _ = load_schema(target)
        unknown = [w for w in written if not sch.has_model(w)]
        if unknown:
            raise BadInput(f"--writes names {', '.join(unknown)}, not a model of the schema "
                           f"(models: {', '.join(x.name for x in sch.models)})")
        target = sch
    return target, written, a.db_schema or m.schema, m


def cmd_check_schema(a) -> int:
    from ..compat import check, predict

    target, written, db_schema, m = _service_target(a)
    if a.after_plan:
        c = predict(a.database_url, m, target, db_schema=db_schema, written=written)
    else:
        c = check(a.database_url, target, db_schema=db_schema, written=written)
    if a.json:
        print(json.dumps(c.to_dict(), indent=2, default=str))
    else:
        _print_findings(c, a.all)
    if not c.ok:
        f = c.blocking[0]
        print(f"runbook: {len(c.blocking)} blocker(s); first: {f.model} {f.column or f.table}: {f.problem}",
              file=sys.stderr)
    return 0 if c.ok else 1


def cmd_check_service(a) -> int:
    from ..health import DEFAULT_HEALTH_URL, test_ai_assistant_connection
    from ..mapping import load_mapping

    url = a.url or load_mapping(a.mapping).service.health_url or DEFAULT_HEALTH_URL
    r = test_ai_assistant_connection(url, timeout=a.timeout, interval=a.interval)
    if a.json:
        print(json.dumps(asdict(r), indent=2, default=str))
    else:
        verdict("healthy" if r.ok else "NOT healthy", f"{r.url} -> {r.status or 'no answer'} after {r.attempts} "
                f"attempt(s), {r.elapsed_s:.1f}s" + (f" ({r.detail})" if r.detail else ""), "ok" if r.ok else "bad")
    return 0 if r.ok else 1


def add_commands(sub) -> None:
    """``runbook check-schema`` and ``runbook check-service``."""
    sp = sub.add_parser("check-schema", help="can the service's Prisma client use this database? (changes nothing)",
                        description="Compare a Prisma schema (default: the mapping's [service] target_schema) with the live "
                                    "catalog, model by model. Exit 0: no blocker for reads, nor for writes of the "
                                    "models the service writes; 1: blockers remain; 2: bad input.")
    sp.add_argument("--database-url", help="libpq URI (default: $DATABASE_URL)")
    sp.add_argument("--target-schema", metavar="FILE",
                    help="a .prisma file or folder (default: the mapping's [service] target_schema)")
    sp.add_argument("--db-schema", default=None,
                    help="PostgreSQL schema of models without @@schema (default: the mapping's schema)")
    sp.add_argument("--writes", metavar="MODELS", default=None,
                    help="comma-separated models the service creates (default: the mapping's [service] writes "
                         "for its own schema, else every model)")
    sp.add_argument("--after-plan", action="store_true",
                    help="predict the result after `runbook migrate`: rehearse the plan's catalog steps in a "
                         "transaction that is rolled back (takes its locks for milliseconds)")
    sp.add_argument("--mapping", help="the mapping file: its [service] and, with --after-plan, its plan "
                                      "(default: runbook/data/mapping.toml)")
    sp.add_argument("--all", action="store_true", help="also list info findings (names, ignored columns)")
    sp.add_argument("--json", action="store_true", help="print JSON only (same exit codes)")
    sp.set_defaults(func=cmd_check_schema)

    sp = sub.add_parser("check-service", help="poll the service's health URL until it answers 200 (spec 2.4)")
    sp.add_argument("--url", help="health URL (default: the mapping's [service] health_url, else "
                                  "$AI_ASSISTANT_HEALTH_URL or http://127.0.0.1:4130/health)")
    sp.add_argument("--mapping", help="the mapping file whose [service] health_url is polled")
    sp.add_argument("--timeout", type=arg_seconds(0, 86400), default=30.0, help="seconds to keep trying (default 30)")
    sp.add_argument("--interval", type=arg_seconds(0.01, 3600), default=1.0, help="seconds between attempts (default 1)")
    sp.add_argument("--json", action="store_true", help="print JSON only (same exit codes)")
    sp.set_defaults(func=cmd_check_service)
