"""The demo and test infrastructure the engine does not use: the reference legacy
database and the embedded PostgreSQL it runs on.

* :mod:`~runbook.demo.fixture`: the reference legacy database, its schema and a
  deterministic data generator (``fixture.build(url, messages)``);
* :mod:`~runbook.demo.server`: :class:`~runbook.demo.server.LocalServer`, a real
  PostgreSQL in a folder (``initdb``/``pg_ctl``), for the demo, the tests and the benchmarks;
* :mod:`~runbook.demo.database`: the demo database (``runbook demo-db``): the server in
  ``demo_dir()``, seeded once.

Only the command line, the notebooks' plumbing (:mod:`runbook.report.notebook`), the
pipeline's demo fallback, the tests and the benchmarks import this package; no engine
module does (the engine finds ``pg_dump`` with :mod:`runbook.pgbin`).
"""
