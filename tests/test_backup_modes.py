"""``migrate --backup``: pg_dump (the default), none, or the operator's own snapshot
command, which runs before anything changes and whose failure changes nothing."""

from __future__ import annotations

import json

import pytest

from runbook.cli import main
from runbook.connection import password_of
from snapshots import state


def migrate(capsys, url, mapping, tmp_path, *args):
    code = main(["migrate", "--database-url", url, "--mapping", mapping, "--no-progress",
                 "--log-dir", str(tmp_path / "logs"), "--backup-dir", str(tmp_path / "backups"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_snapshot_command_runs_before_the_first_change_and_its_output_is_recorded(crm, tmp_path, capsys):
    url, mapping = crm
    marker = tmp_path / "snapshot.txt"
    # the command sees the tables under their old names: it ran before any step
    cmd = (f"echo \"snapshot of $RUNBOOK_DATABASE for run $RUNBOOK_RUN_ID\" > {marker}; "
           f"echo taken: snap-0042; echo {password_of(url)}")
    code, out, err = migrate(capsys, url, mapping, tmp_path, "--json", "--backup", f"snapshot-command={cmd}")
    assert code == 0, err
    s = json.loads(out)
    b = s["backup"]
    assert b["kind"] == "snapshot" and b["verified"] is False and "taken: snap-0042" in b["output"]
    assert password_of(url) not in out and password_of(url) not in err  # the command's output is scrubbed
    assert marker.read_text().startswith(f"snapshot of {url.rsplit('/', 1)[1]} for run {s['run_id']}")
    assert not list((tmp_path / "backups").glob("backup-*"))  # no pg_dump ran (no file, no directory)
    log = next((tmp_path / "logs").glob("*.txt")).read_text()
    assert log.index("the snapshot command succeeded") < log.index("step 1 ")


def test_a_failing_snapshot_command_changes_nothing(crm, tmp_path, capsys):
    url, mapping = crm
    before = state(url)
    code, out, err = migrate(capsys, url, mapping, tmp_path, "--backup", "snapshot-command=echo quota exceeded; exit 3")
    assert code == 1 and "snapshot command failed (exit 3): quota exceeded; nothing was changed" in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert state(url) == before


def test_a_snapshot_command_the_shell_cannot_find_is_refused_before_connecting(tmp_path, capsys):
    code = main(["migrate", "--database-url", "postgresql://nobody@127.0.0.1:1/none", "--no-progress",
                 "--backup", "snapshot-command=no-such-snapshot-tool --now"])
    out, err = capsys.readouterr()
    assert code == 2 and "cannot find 'no-such-snapshot-tool'" in err and "connect" not in err, err


@pytest.mark.parametrize("args, says", [(["--backup", "tape"], "dump, schema+changed, none or snapshot-command=CMD"),
                                        (["--backup", "snapshot-command="], "dump, schema+changed, none or snapshot-command=CMD"),
                                        (["--backup", "none", "--no-backup"], "two things")])
def test_bad_backup_modes_are_one_line_and_exit_2(tmp_path, capsys, args, says):
    code = main(["migrate", "--database-url", "postgresql://nobody@127.0.0.1:1/none", "--no-progress", *args])
    out, err = capsys.readouterr()
    assert code == 2 and says in err and "Traceback" not in err, err


def test_backup_none_takes_no_dump(crm, tmp_path, capsys):
    url, mapping = crm
    code, out, err = migrate(capsys, url, mapping, tmp_path, "--json", "--backup", "none")
    assert code == 0, err
    assert json.loads(out)["backup"] is None
