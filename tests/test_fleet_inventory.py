"""The fleet's inventory: waves from the canary, percentages and tag selectors; bad input
refused with one line (exit 2) before anything connects (no database here at all)."""

from __future__ import annotations

import pytest

from runbook.cli import main
from runbook.errors import BadInput
from runbook.fleet.inventory import load_inventory


def _write(tmp_path, body: str, n: int = 8, name="fleet.toml"):
    dbs = "".join(f'[[databases]]\nname = "db-{i}"\nurl_env = "DB_{i}_URL"\n'
                  f'tags = {{ region = "{"eu" if i % 2 else "us"}" }}\n\n' for i in range(1, n + 1))
    p = tmp_path / name
    p.write_text(body + "\n" + dbs)
    return p


def test_waves_canary_then_percentages_and_tags(tmp_path):
    inv = load_inventory(_write(tmp_path, '[waves]\ncanary = ["db-3"]\nthen = ["region=eu", "75%", "100%"]\n'))
    assert inv.waves[0] == ("db-3",)
    assert inv.waves[1] == ("db-1", "db-5", "db-7")  # every eu database not in an earlier wave
    assert inv.waves[2] == ("db-2", "db-4")  # 75% of 8: 6 reached, in the file's order
    assert inv.waves[3] == ("db-6", "db-8")
    assert inv.wave_labels == ("canary", "region=eu", "75%", "100%")
    assert sorted(sum(inv.waves, ())) == sorted(f"db-{i}" for i in range(1, 9))


def test_percentages_are_the_share_reached_so_far(tmp_path):
    inv = load_inventory(_write(tmp_path, '[waves]\ncanary = ["db-1"]\nthen = ["50%", "100%"]\n', n=10))
    assert [len(w) for w in inv.waves] == [1, 4, 5]
    assert inv.waves[1] == ("db-2", "db-3", "db-4", "db-5")  # the file's order
    assert inv.budget.max_failures == 1 and inv.concurrency == 1


@pytest.mark.parametrize("body, says", [
    ('[waves]\ncanary = ["db-9"]\nthen = ["100%"]\n', "not in [[databases]]"),
    ('[waves]\ncanary = ["db-1"]\nthen = ["50%"]\n', "in no wave"),
    ('[waves]\ncanary = ["db-1"]\nthen = ["60%", "50%", "100%"]\n', "larger than the one before"),
    ('[waves]\ncanary = ["db-1"]\nthen = ["region"]\n', "neither a percentage"),
    ('[waves]\ncanary = ["db-1"]\nthen = ["region=mars", "100%"]\n', "selects no database"),
    ('concurrency = 0\n[waves]\ncanary = ["db-1"]\nthen = ["100%"]\n', "concurrency"),
    ('runner = "bash"\n[waves]\ncanary = ["db-1"]\nthen = ["100%"]\n', "runner"),
    ('colour = 1\n[waves]\ncanary = ["db-1"]\nthen = ["100%"]\n', "unknown key 'colour'"),
    ('[failure_budget]\nmax_failed_percent = 150\n[waves]\ncanary = ["db-1"]\nthen = ["100%"]\n', "max_failed_percent"),
    ('lock_timeout = "soon"\n[waves]\ncanary = ["db-1"]\nthen = ["100%"]\n', "lock_timeout"),
    ('[waves\n', "not valid TOML"),
])
def test_bad_inventory_is_one_line_exit_2_and_nothing_is_written(tmp_path, capsys, body, says):
    p = _write(tmp_path, body)
    for cmd in (["fleet", "plan"], ["fleet", "run"], ["fleet", "status"]):
        assert main([*cmd, "--inventory", str(p)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and says in err, err
    assert not (tmp_path / "outputs").exists()


def test_a_url_in_place_of_the_variable_name_is_refused_without_echoing_it(tmp_path, capsys):
    secret = "postgresql://app:s3cr3t-pw@db.internal:5432/tenant"
    p = tmp_path / "fleet.toml"
    p.write_text(f'[waves]\ncanary = ["a"]\n\n[[databases]]\nname = "a"\nurl_env = "{secret}"\n')
    assert main(["fleet", "plan", "--inventory", str(p)]) == 2
    err = capsys.readouterr().err
    assert "NAME of the environment variable" in err and "s3cr3t" not in err and "db.internal" not in err


def test_unset_url_variables_are_refused_before_connecting(tmp_path, capsys, monkeypatch):
    p = _write(tmp_path, '[waves]\ncanary = ["db-1"]\nthen = ["100%"]\n', n=2)
    for i in (1, 2):
        monkeypatch.delenv(f"DB_{i}_URL", raising=False)
    assert main(["fleet", "run", "--inventory", str(p)]) == 2
    err = capsys.readouterr().err
    assert "DB_1_URL (db-1)" in err and len(err.strip().splitlines()) == 1
    assert main(["fleet", "rollback", "--inventory", str(p), "--wave", "3"]) == 2
    assert "waves 1 to 2" in capsys.readouterr().err


def test_missing_inventory(tmp_path, capsys):
    with pytest.raises(BadInput):
        load_inventory(tmp_path / "nope.toml")
    assert main(["fleet", "status", "--inventory", str(tmp_path / "nope.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_failure_budget():
    from runbook.fleet.inventory import Budget

    b = Budget(max_failures=3, max_failed_percent=20)
    assert b.spent(2, 1, 10) is None  # 2 < 3 failures, 10% of the wave
    assert "3 failed" in b.spent(3, 1, 10)
    assert "2 of 5" in b.spent(2, 2, 5)  # 40% of the wave > 20%
    assert Budget().spent(0, 0, 0) is None and Budget().spent(1, 1, 1)


def test_a_database_that_cannot_be_reached_is_held_and_its_password_is_never_shown(tmp_path, capsys, monkeypatch):
    p = tmp_path / "fleet.toml"
    p.write_text('[waves]\ncanary = ["a"]\n\n[[databases]]\nname = "a"\nurl_env = "FLEET_SECRET_A_URL"\n')
    monkeypatch.setenv("FLEET_SECRET_A_URL", "postgresql://app:s3cr3t-pw@127.0.0.1:1/tenant?connect_timeout=2")
    assert main(["fleet", "plan", "--inventory", str(p), "--json"]) == 0
    out, err = capsys.readouterr()
    db = __import__("json").loads(out)["databases"][0]
    assert db["state"] == "held" and "cannot be read" in db["reason"]
    state = (tmp_path / "outputs" / "fleet" / "state.json").read_text()
    for text in (out, err, state):
        assert "s3cr3t" not in text


def test_a_second_rollout_of_the_same_fleet_is_refused_while_one_runs(tmp_path, capsys, monkeypatch):
    from runbook.fleet import state as fstate

    p = _write(tmp_path, '[waves]\ncanary = ["db-1"]\nthen = ["100%"]\n', n=2)
    for i in (1, 2):
        monkeypatch.setenv(f"DB_{i}_URL", "postgresql://nobody@127.0.0.1:1/none")
    with fstate.exclusive_run(load_inventory(p).state_file):
        assert main(["fleet", "run", "--inventory", str(p)]) == 2
        err = capsys.readouterr().err
        assert "in progress" in err and f"pid {__import__('os').getpid()}" in err
        assert main(["fleet", "rollback", "--inventory", str(p), "--wave", "1"]) == 2
    assert not (tmp_path / "outputs" / "fleet" / "state.json").exists()
