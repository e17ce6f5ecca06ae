"""The verification (spec 9.1): a baseline recorded before the plan runs, then every
check of the database against it, each a named pass/fail of an explicit kind.

* :mod:`.baseline`: what is recorded before (counts, checksums, definitions by OID);
* :mod:`.checks`: the checks, one small function per kind, run by :func:`verify_state`;
* :mod:`.checksums`: counts and content checksums computed in the database;
* :mod:`.result`: :class:`Verification` and :class:`TableCount`.
"""

from ..checks import Check, Kind
from .baseline import atomic_functions, baseline, storage_pairs
from .checks import verify_state
from .checksums import count_and_checksum, row_expr
from .result import TableCount, Verification

__all__ = ["Check", "Kind", "TableCount", "Verification", "atomic_functions", "baseline", "count_and_checksum",
           "row_expr", "storage_pairs", "verify_state"]
