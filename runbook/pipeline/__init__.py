"""The pipeline: the notebooks run with papermill per environment, and the evidence archive.

``runbook run --env staging`` runs ``notebooks/01-analysis`` ... ``04-rollback`` in order,
with parameters from the environment's profile (spec 10.1, ``runbook/data/profiles``),
and leaves one folder per run::

    outputs/<env>/<UTC timestamp>-<plan fingerprint, 12 hex>/
        index.html          the run's verdict, its timeline, a link to every file
        01-analysis.ipynb  01-analysis.html   (and 02-execute, 03-verify, 04-rollback when they ran)
        analysis.json  execute.json  verify.json  rollback.json   (what each notebook saved)
        migration.sql  rollback.sql   the plan that ran (or would have: said in the header)
        migration-log-<timestamp>.txt
        backup-<run>.dump   or   backup-pointer.txt (when the profile keeps backups elsewhere)
        summary.json        row counts, step timings, verdicts, fingerprint, versions
        MANIFEST.sha256     sha256 of every other file (``sha256sum -c`` reads it too)

Order of a run: plan fingerprint -> analysis -> approval gate (production) -> maintenance
commands -> execute -> verify -> rollback (if the verification failed and the profile
says so) -> maintenance commands -> health URL -> summary, HTML, manifest -> Slack.
A notebook that fails is still saved, with the error at its top, and stops the run.
No URL with its password, and no webhook URL, is written anywhere in the archive.

One module per concern, each importing only the ones before it:

* :mod:`~runbook.pipeline.profiles`: :class:`Profile`, :func:`load_profile`, the
  profile's :func:`preflight`, :data:`ENVIRONMENTS`;
* :mod:`~runbook.pipeline.evidence`: the archive's manifest (:func:`write_manifest`,
  :func:`check_evidence`), :func:`find_staging_evidence`, the summary's pieces,
  :func:`versions`;
* :mod:`~runbook.pipeline.notify`: maintenance commands, health polling, Slack;
* :mod:`~runbook.pipeline.notebook`: one notebook's papermill run, its timeout, its
  error cell;
* :mod:`~runbook.pipeline.pages`: what the reviewer reads: each notebook's HTML
  (:func:`to_html`: no code, the verdict box first, the parameters once, the log folded)
  and the archive's ``index.html`` (:func:`index_html`);
* :mod:`~runbook.pipeline.run`: :class:`Pipeline`, :class:`Outcome` and
  :func:`run_pipeline`, the whole run.

Every public name is re-exported here: ``from runbook.pipeline import run_pipeline``.
"""

from .evidence import *  # noqa: F401,F403  (its __all__)
from .evidence import __all__ as _evidence_names
from .notebook import *  # noqa: F401,F403  (its __all__)
from .notebook import __all__ as _notebook_names
from .pages import *  # noqa: F401,F403  (its __all__)
from .pages import __all__ as _pages_names
from .notify import *  # noqa: F401,F403  (its __all__)
from .notify import __all__ as _notify_names
from .profiles import *  # noqa: F401,F403  (its __all__)
from .profiles import __all__ as _profile_names
from .run import *  # noqa: F401,F403  (its __all__)
from .run import __all__ as _run_names

__all__ = [*_profile_names, *_evidence_names, *_notify_names, *_notebook_names, *_pages_names, *_run_names]
