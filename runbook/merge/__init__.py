"""The legacy merge (spec sections 1 and 3.2: legacy conversations and messages "to be
merged"): ``runbook merge-legacy``. The mapping's ``[merge]`` names the four tables
(the default mapping names the spec's); their columns are the spec's shape, checked
before anything runs.

An explicit phase of its own, run only after the rename has committed, never inside
its lock window. The rules, stated once:

* a legacy conversation becomes a session **with the same id** (legacy ids are cuids,
  like the service's); ``title`` is the legacy title, or :data:`PLACEHOLDER_TITLE`
  when it is NULL; ``lastMessageAt`` is the ``createdAt`` of its newest message (NULL
  when it has none); ``userId``, ``createdAt`` and ``updatedAt`` are kept; ``folderId``
  is NULL and ``isActive`` takes its default;
* a legacy message (integer id) becomes a message with the id
  ``'legacy-msg-' || id`` (:data:`MESSAGE_ID_PREFIX`): a cuid is ``c`` and 24
  lowercase base-36 characters and never holds a hyphen, so the two cannot collide;
  ``sessionId`` is its conversation's id; ``role``, ``content`` and ``createdAt`` are
  kept; ``metadata`` is NULL;
* a row whose id already exists in the target is **not overwritten**: it is counted
  and listed (``runbook.merge_skipped``), and the messages of a conversation that was
  not merged are skipped with it, so that they cannot land in someone else's session.

The legacy tables are read, never changed. Work goes in batches of whole conversations
(about ``batch_size`` messages each), each batch one short transaction that inserts the
sessions and their messages, records the inserted ids (``runbook.merged``, one array
per batch and target), records the skipped rows and advances the cursor, so a run
killed at any point continues where it stopped and ends with exactly the rows of an
uninterrupted run. ``--rollback`` deletes exactly the recorded ids, batch by batch.

A session the service wrote messages into after the merge is kept by the rollback
(deleting it would cascade to those messages); it is reported.

The work itself is two plan operations, :class:`runbook.ops.MergeLegacy` (the batch
and its fixup) and its reverse :class:`runbook.ops.UnmergeLegacy`; here:

* :mod:`.tables`: the mapping's four tables and the shape they must have;
* :mod:`.book`: the bookkeeping tables (``runbook.merge_runs``, ``runbook.merged``,
  ``runbook.merge_skipped``) and the merge's lock;
* :mod:`.run`: the runner (lock, run opened or resumed, batches, progress);
* :mod:`.report`: the result and its checks.
"""

from .book import MERGE_LOCK_KEY, SCHEMA_SQL, merged_rows_present
from .report import MergeResult, Skipped, TableCount
from ..ops.merge import DEFAULT_BATCH  # noqa: F401  (re-exported)
from .run import merge_legacy, merge_status, rollback_merge
from .tables import Tables, tables_of
from ..ops.merge import MESSAGE_ID_PREFIX, PLACEHOLDER_TITLE

__all__ = ["merge_legacy", "rollback_merge", "merge_status", "merged_rows_present", "MergeResult", "MESSAGE_ID_PREFIX",
           "PLACEHOLDER_TITLE"]
