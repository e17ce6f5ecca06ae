"""The options many commands share, said once (their help text is the README's too)."""

from __future__ import annotations

DATABASE_URL_HELP = "libpq URI or key=value string (default: $DATABASE_URL)"
MAPPING_HELP = "mapping file, TOML or YAML (default: the spec's mapping)"


def database_options(sp, *, json: bool = True) -> None:
    """``--database-url`` and ``--mapping`` (and ``--json``) on the subcommand ``sp``."""
    sp.add_argument("--database-url", help=DATABASE_URL_HELP)
    sp.add_argument("--mapping", help=MAPPING_HELP)
    if json:
        sp.add_argument("--json", action="store_true", help="print JSON only (same exit codes)")
