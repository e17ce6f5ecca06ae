"""A profile that cannot work is refused before anything runs (``runbook run``).

A setting that is checked only when it is used fails after the migration: a profile
with ``notifySlack`` and no webhook migrated staging, then exited 1. Each case below must
exit 2 with one line, before any notebook runs: no archive, the database unchanged.
"""

from __future__ import annotations

import pytest

from runbook import pipeline
from snapshots import state
from test_pipeline import run


@pytest.mark.parametrize("env, profile, environ, words", [
    ("staging", "", {"SLACK_WEBHOOK_URL": None}, "notifySlack is on but SLACK_WEBHOOK_URL is not set"),
    ("staging", 'slackWebhookEnv = "MY_HOOK"\n', {"MY_HOOK": "  "}, "MY_HOOK is not set"),
    ("staging", "", {"SLACK_WEBHOOK_URL": "hooks.example/T000/B000/secret-token"}, "does not hold an http"),
    ("development", 'maintenanceMode = true\nhealthUrl = "localhost:4130/health"\n', {}, "healthUrl"),
    ("development", 'maintenanceMode = true\nmaintenanceAfter = ["runbook-no-such-program restart svc"]\n', {},
     "'runbook-no-such-program' is not a command"),
    ("development", 'maintenanceMode = true\nmaintenanceBefore = ["X=1 runbook-no-such-program"]\n', {},
     "'runbook-no-such-program' is not a command"),
    ("development", 'lockTimeout = "5 parsecs"\n', {}, "lockTimeout '5 parsecs' is not a duration"),
    ("development", "cellTimeout = 0\n", {}, "cellTimeout must be a positive number"),
    ("development", 'autoBackup = true\nbackupMode = "tape"\n', {}, "backupMode must be one of dump, schema+changed"),
    ("staging", 'backupMode = "schema+changed"\nautoBackup = false\n', {"SLACK_WEBHOOK_URL": "https://h.example/x"},
     "autoBackup = false and profile staging: backupMode = schema+changed say two things"),
    ("development", 'autoBackup = true\nbackupMode = "schema+changed"\nbackupJobs = 4\n', {},
     "backupJobs is for a pg_dump backup of the rows"),
    ("development", "autoBackup = true\nbackupJobs = 65\n", {}, "backupJobs"),
    ("development", 'autoBackup = true\nbackupMode = "snapshot-command=runbook-no-such-snapshot --now"\n', {},
     "cannot find 'runbook-no-such-snapshot'"),
], ids=["slack-unset", "slack-blank", "slack-not-a-url", "health-url", "command-after", "command-before",
        "lock-timeout", "cell-timeout", "backup-mode", "backup-off-and-mode", "backup-jobs-schema", "backup-jobs-range",
        "snapshot-command"])
def test_a_profile_that_would_fail_late_is_refused_at_the_start(ref_db, workdir, env, profile, environ, words):
    (workdir / "p.toml").write_text(profile)
    before = state(ref_db)
    code, out = run(["run", "--env", env, "--execute", "--profile", "p.toml"], {"DATABASE_URL": ref_db, **environ},
                    workdir)
    assert code == 2, out
    assert out.count("\n") == 1 and words in out and "Traceback" not in out, out
    assert "secret-token" not in out  # the webhook is a secret
    assert not (workdir / "outputs").exists()  # no notebook ran, no archive
    assert state(ref_db) == before


def test_a_plain_maintenance_command_passes_the_preflight(workdir):
    p = pipeline.load_profile("development", None, {"maintenanceMode": True, "healthUrl": "http://127.0.0.1:1/h",
                                                     "maintenanceBefore": ["true", "cd /", "FOO=1 touch x",
                                                                           "echo $HOME | cat", "'unbalanced"]})
    pipeline.preflight("development", p, dry_run=False)
    # a dry run runs no maintenance command: they are not looked up
    p = pipeline.load_profile("development", None, {"maintenanceMode": True, "maintenanceAfter": ["no-such-prog"]})
    pipeline.preflight("development", p, dry_run=True)
