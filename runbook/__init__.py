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

import sys
import types

from ._version import __version__

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



class _Package(types.ModuleType):
    """This package, whose API names ``plan``, ``verify`` and ``status`` stay the functions
    when the submodules of the same names are loaded: the import system binds a loaded
    submodule to its parent's attribute, which would replace the function. (Loading those
    submodules up front instead cost ``runbook --help`` 80 ms.)"""

    def __setattr__(self, name, value):
        if name in __all__ and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
