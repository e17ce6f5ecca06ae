"""The three phases of a plan, shared by :mod:`runbook.ops` (each operation's ``phase``)
and the modules that run or record a plan (:mod:`runbook.state` ...); it imports nothing.

``prepare``: online, before the lock window; ``lock``: inside the one transaction that
holds the exclusive locks; ``finish``: online, after COMMIT.
"""

PREPARE, LOCK, FINISH = "prepare", "lock", "finish"
