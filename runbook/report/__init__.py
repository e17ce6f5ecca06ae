"""Tables and charts for the notebooks, built from the API's frozen results.

Every function takes what the API returned (an ``Analysis``, a ``RunResult``, a
``Verification``) and returns one thing a notebook cell displays: a :class:`Table`
(pandas, rendered as HTML) or a :class:`Chart` (matplotlib, rendered as PNG, so the
nbconvert HTML of an executed notebook embeds it as ``data:image/png``), or a short
Markdown note when there is nothing to show. Nothing here queries the database; only
:func:`database_url` may start the embedded demo server.

No URL is ever displayed as is: :class:`DatabaseURL` shows itself redacted.

One module per concern, each importing only the ones before it:

* :mod:`~runbook.report.display`: :class:`Table`, :class:`Chart`, the status words;
* :mod:`~runbook.report.results`: what the tables and charts read out of the results;
* :mod:`~runbook.report.tables`: the tables (and HTML blocks), one function each;
* :mod:`~runbook.report.charts`: the charts, one function each;
* :mod:`~runbook.report.box`: the verdict box each report opens with (and the
  archive's ``index.html`` shares), :func:`verdict_box`;
* :mod:`~runbook.report.notebook`: the notebooks' plumbing (setup, database URL, output
  folder, context, JSON results for the pipeline, :func:`raise_for_failed`).

The notebooks call everything through this package (``from runbook import report``;
``report.overview(analysis)``): every public name is re-exported here.
"""

from .charts import *  # noqa: F401,F403  (its __all__)
from .charts import __all__ as _chart_names
from .display import *  # noqa: F401,F403  (its __all__)
from .display import __all__ as _display_names
from .notebook import *  # noqa: F401,F403  (its __all__)
from .notebook import __all__ as _notebook_names
from .tables import *  # noqa: F401,F403  (its __all__)
from .tables import __all__ as _table_names
from .box import *  # noqa: F401,F403  (its __all__)
from .box import __all__ as _verdict_names

__all__ = [*_display_names, *_notebook_names, *_table_names, *_chart_names, *_verdict_names]
