"""Can a Prisma client that knows only a given schema work on the live database?

A service's client knows the models of its Prisma schema and nothing else (the mapping's
``[service] target_schema``; the default mapping's is the AI Assistant's, spec 3.1). This
package compares such a schema (parsed by :mod:`runbook.prisma`) with a catalog
:class:`~runbook.catalog.inspect.Snapshot`, model by model, and runs the service's own
operations through it. One module per concern, each importing only those before it:

* :mod:`.findings`: the results, :class:`Finding` (model, column, problem, consequence,
  fix, and ``blocks``: what it breaks for the client, ``reads`` or ``writes``),
  :class:`ModelStatus` and :class:`Compatibility` (:attr:`~Compatibility.blocking`
  counts read blockers of every model and write blockers of the models the service
  writes: the mapping's ``[service] writes``, every model of the schema when it names none);
* :mod:`.types`: the column type ``prisma migrate`` would create (:func:`expected_type`),
  the types the client still reads and writes, enums and their labels;
* :mod:`.defaults`: column defaults (what the client fills itself is not a blocker;
  ``autoincrement()`` and ``dbgenerated()`` are the database's job);
* :mod:`.columns`: every scalar field has its column, with its nullability; a NOT NULL
  column without default that the model does not know blocks every insert;
* :mod:`.keys`: the primary key, unique indexes, indexes, foreign keys (target,
  referential actions), Prisma's default names, implicit many-to-many join tables;
* :mod:`.comparison`: :func:`compare`, the schema against a snapshot, model by model;
* :mod:`.live`: :func:`check` reads a database and compares; :func:`write_blockers`
  gives :class:`runbook.checks.Check` rows for ``runbook verify``;
* :mod:`.prediction`: :func:`predict` rehearses the rename plan's catalog steps in a
  transaction that is rolled back and compares the result, so the analysis can show
  what will remain before anything runs;
* :mod:`.service`: :func:`crud_check` creates, reads, updates and deletes one row of
  every model the service writes, through its models, in a transaction rolled back.

Every public name is re-exported here: ``from runbook.compat import check, predict``.
"""

from .columns import column_sql
from .comparison import compare
from .findings import BLOCKER, INFO, READS, SEVERITY_ORDER, WARNING, WRITES, Compatibility, Finding, ModelStatus
from .live import check, load_schema, write_blockers, written_models
from .prediction import predict
from .service import CrudResult, ModelResult, crud_check, run_crud_check
from .types import expected_type

__all__ = [
    "BLOCKER", "WARNING", "INFO", "SEVERITY_ORDER", "READS", "WRITES",
    "Finding", "ModelStatus", "Compatibility",
    "compare", "check", "write_blockers", "predict", "load_schema", "written_models",
    "expected_type", "column_sql",
    "CrudResult", "ModelResult", "crud_check", "run_crud_check",
]
