"""The advisory lock every runbook writer (migrate, rollback, merge-legacy) takes, so
that two of them never run against one database at the same time."""

ADVISORY_KEY = 0x72756E626F6F6B  # "runbook"
