"""runbook: rename the tables of a live, Prisma-managed PostgreSQL database safely.

The public API the command line and the notebooks call::

    analysis = runbook.analyze(url)          # frozen facts + the plan
    plan = runbook.plan(url)                 # operations, SQL, fingerprint
    result = runbook.migrate(url)            # backup, one transaction, verify
    report = runbook.verify(url)             # every check, pass/fail
    back = runbook.rollback(url)             # the plan, reversed
    where = runbook.status(url)              # where the database stands (changes nothing)

Importing the package is cheap: these names load :mod:`runbook.api` (and with it the
database driver) on their first call. Their documentation is that of :mod:`runbook.api`.
"""

from ._version import __version__

# The modules runbook.plan, runbook.verify and runbook.status are loaded first, so that the
# names ``plan``, ``verify`` and ``status`` below stay the API functions: a submodule loaded
# later would rebind its parent's attribute of the same name. None loads the database driver.
from . import plan as _plan_module, status as _status_module, verify as _verify_module  # noqa: F401,E402

__all__ = ["__version__", "analyze", "migrate", "plan", "restore", "rollback", "status", "verify"]


def _api(name: str):
    def call(*args, **kwargs):
        from . import api

        return getattr(api, name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"runbook.api.{name}: see its documentation."
    return call


analyze = _api("analyze")
plan = _api("plan")
migrate = _api("migrate")
verify = _api("verify")
rollback = _api("rollback")
restore = _api("restore")
status = _api("status")
