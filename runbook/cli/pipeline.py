"""``runbook run`` and ``runbook evidence check``: the notebooks pipeline's commands."""

from __future__ import annotations

import sys

from ..options import ENVIRONMENTS  # runbook.pipeline (papermill ...) is loaded by the commands
from .output import verdict
from .show import tone


def cmd_run(a) -> int:
    from ..pipeline import run_pipeline

    o = run_pipeline(a.env, profile=a.profile, database_url_env=a.database_url_env, output_dir=a.output_dir,
                     approved_fingerprint=a.approved_fingerprint, dry_run=a.dry_run, mapping=a.mapping,
                     notebooks=a.notebooks)
    fp = f"fingerprint {o.fingerprint[:12]}" if o.fingerprint else "no plan"
    where = f"; archive {o.folder}" if o.folder else ""
    problems = f"; {len(o.problems)} problem(s)" if o.problems else ""
    verdict(o.verdict, f"{o.environment}, {fp}{problems}{where}", tone(o.exit_code))
    return o.exit_code


def cmd_evidence_check(a) -> int:
    from ..pipeline import check_evidence

    ok, msg = check_evidence(a.dir)
    if ok:
        verdict("intact", msg)
    else:
        print(msg, file=sys.stderr)
    return 0 if ok else 1


def add_commands(sub) -> None:
    """``runbook run`` and ``runbook evidence check`` (called by :func:`runbook.cli.build_parser`)."""
    sp = sub.add_parser("run", help="run the notebooks with papermill for one environment and archive the evidence")
    sp.add_argument("--env", required=True, choices=ENVIRONMENTS,
                    help="the environment whose profile applies: " + ", ".join(ENVIRONMENTS))
    sp.add_argument("--profile", help="TOML file overriding the environment's profile")
    sp.add_argument("--approved-fingerprint", help="the plan fingerprint a reviewer approved (production)")
    sp.add_argument("--database-url-env", default="DATABASE_URL",
                    help="NAME of the environment variable holding the database URL (default DATABASE_URL)")
    sp.add_argument("--output-dir", default="outputs", help="archives go to OUTPUT_DIR/<env>/ (default outputs)")
    sp.add_argument("--mapping", help="mapping file (default: the spec's mapping)")
    g = sp.add_mutually_exclusive_group()
    g.add_argument("--dry-run", dest="dry_run", action="store_const", const=True, default=None,
                   help="analyse and plan only (the default where the profile says dryRunDefault)")
    g.add_argument("--execute", dest="dry_run", action="store_const", const=False,
                   help="execute even where the profile's dryRunDefault is true")
    sp.add_argument("--notebooks", help="folder holding the notebooks (default: the project's notebooks/)")
    sp.set_defaults(func=cmd_run)

    ev = sub.add_parser("evidence", help="check an evidence archive against its manifest")
    es = ev.add_subparsers(dest="evidence_command", metavar="ACTION", required=True)
    c = es.add_parser("check", help="verify MANIFEST.sha256: exit 0 when intact, 1 when not (one line)")
    c.add_argument("dir", help="the archive folder, outputs/<env>/<UTC time>-<fingerprint>/")
    c.set_defaults(func=cmd_evidence_check)
