"""The command line: exit codes, one clear line for bad input, nothing changed."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest

from runbook.cli import main
from runbook.demo.server import free_port
from snapshots import execute, scalar, state


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


BAD_MAPPINGS = {
    "malformed.toml": ("tables = [ {from = ", "malformed"),
    "two_to_one.toml": ('[[tables]]\nfrom = "User"\nto = "users"\n[[tables]]\nfrom = "AssistantFolder"\nto = "users"\n',
                        "two tables map to 'users'"),
    "quote.toml": ('[[tables]]\nfrom = "User"\nto = "us\\"ers"\n', "contains '\"'"),
    "semicolon.toml": ('[[tables]]\nfrom = "User"\nto = "users; DROP TABLE x"\n', "contains ';'"),
    "long.toml": ('[[tables]]\nfrom = "User"\nto = "' + "u" * 64 + '"\n', "64 bytes"),
    "empty.toml": ('[[tables]]\nfrom = "User"\nto = ""\n', "is empty"),
    "unknown_key.toml": ('[[tables]]\nfrom = "User"\nto = "users"\ncolour = 1\n', "unknown key 'colour'"),
    "bad_type.toml": ('[[tables]]\nfrom = "User"\nto = "users"\nadd_columns = [{name = "x", type = "text; drop"}]\n',
                      "is not allowed"),
    "chain.toml": ('[[tables]]\nfrom = "User"\nto = "AssistantFolder"\n[[tables]]\nfrom = "AssistantFolder"\nto = "x"\n',
                   "chains and swaps"),
    "yaml_bad.yaml": ("tables: [from: User", "malformed"),
    "catalog.toml": ('[[tables]]\nfrom = "User"\nto = "pg_class"\n', "starts with pg_"),
}


@pytest.mark.parametrize("name", sorted(BAD_MAPPINGS))
def test_bad_mapping_is_one_line_exit_2_and_changes_nothing(ref_db, tmp_path, capsys, name):
    text, expect = BAD_MAPPINGS[name]
    path = write(tmp_path, name, text)
    before = state(ref_db)
    code, out, err = run(capsys, "migrate", "--database-url", ref_db, "--mapping", path, "--backup-dir", str(tmp_path),
                             "--log-dir", str(tmp_path))
    assert code == 2
    assert expect in one_line(err)
    assert state(ref_db) == before


def test_existing_target_is_exit_2(ref_db, tmp_path, capsys):
    execute(ref_db, "CREATE TABLE chat_sessions (id text)")
    before = state(ref_db)
    code, _, err = run(capsys, "migrate", "--database-url", ref_db, "--backup-dir", str(tmp_path), "--log-dir", str(tmp_path))
    assert code == 2 and "chat_sessions" in one_line(err)
    assert state(ref_db) == before


def test_unreachable_host_is_one_line(capsys):
    url = f"postgresql://nobody:pw@127.0.0.1:{free_port()}/db"
    code, _, err = run(capsys, "analyze", "--database-url", url)
    line = one_line(err)
    assert code == 2 and "cannot connect" in line and "pw" not in line.replace("***", "")


def test_wrong_password_is_one_line_without_the_password(pg, ref_db, capsys):
    parts = urlsplit(ref_db)
    user, host = parts.netloc.rsplit("@", 1)
    bad = urlunsplit(parts._replace(netloc=f"{user.split(':')[0]}:Wr0ngPassw0rd@{host}"))
    code, _, err = run(capsys, "analyze", "--database-url", bad)
    line = one_line(err)
    assert code == 2 and "password authentication failed" in line and "Wr0ngPassw0rd" not in line


def test_role_that_does_not_own_the_tables_is_refused(pg, ref_db, tmp_path, capsys):
    role = "rb_reader_" + urlsplit(ref_db).path.strip("/")[-6:]
    execute(ref_db, f"CREATE ROLE {role} LOGIN PASSWORD 'reader-pw'; GRANT USAGE ON SCHEMA public TO {role}")
    parts = urlsplit(ref_db)
    host = parts.netloc.rsplit("@", 1)[1]
    url = urlunsplit(parts._replace(netloc=f"{role}:reader-pw@{host}"))
    before = state(ref_db)
    code, _, err = run(capsys, "migrate", "--database-url", url, "--backup-dir", str(tmp_path), "--log-dir", str(tmp_path))
    line = one_line(err)
    assert code == 2 and "does not own" in line and role in line
    assert state(ref_db) == before


def test_analyze_json_and_plan_files(ref_db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", ref_db)
    code, out, _ = run(capsys, "analyze", "--json")
    assert code == 0
    d = json.loads(out)
    assert {t["old"] for t in d["tables"]} >= {"User", "AssistantChatSession"}
    assert len(d["plan"]["fingerprint"]) == 64 and ":***@" in d["database"]
    code, out, _ = run(capsys, "plan", "--out", str(tmp_path / "sql"))
    assert code == 0
    fwd = (tmp_path / "sql" / "rename-tables-to-snake-case.sql").read_text()
    back = (tmp_path / "sql" / "rollback-table-rename.sql").read_text()
    assert f"sha256:{d['plan']['fingerprint']}" in fwd and f"sha256:{d['plan']['fingerprint']}" in back
    assert 'ALTER TABLE public."User" RENAME TO users;' in fwd
    assert 'ALTER TABLE public.users RENAME TO "User";' in back


def test_plan_json_writes_the_scripts_only_where_out_says(ref_db, tmp_path, capsys, monkeypatch):
    """`plan --json --out DIR` writes the two scripts there and names them; `plan --json`
    alone writes nothing (not even sql/ in the working folder)."""
    monkeypatch.setenv("DATABASE_URL", ref_db)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "plan", "--json")
    assert code == 0 and json.loads(out)["files"] == [] and not (tmp_path / "sql").exists()
    code, out, _ = run(capsys, "plan", "--json", "--out", str(tmp_path / "scripts"))
    d = json.loads(out)
    assert code == 0 and [Path(f).name for f in d["files"]] == ["rename-tables-to-snake-case.sql",
                                                               "rollback-table-rename.sql"]
    fwd = (tmp_path / "scripts" / "rename-tables-to-snake-case.sql").read_text()
    assert f"sha256:{d['fingerprint']}" in fwd


def test_migrate_verify_rollback_exit_codes(ref_db, tmp_path, capsys):
    common = ["--database-url", ref_db, "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"),
              "--no-progress"]
    code, out, _ = run(capsys, "migrate", "--dry-run", *common)
    assert code == 0 and "(nothing changed)" in out
    code, out, _ = run(capsys, "migrate", *common)
    assert code == 0 and "migrated" in out
    code, out, _ = run(capsys, "verify", "--database-url", ref_db)
    assert code == 0 and "verified" in out
    execute(ref_db, 'ALTER TABLE chat_sessions DROP CONSTRAINT "chat_sessions_userId_fkey"')
    code, out, err = run(capsys, "verify", "--database-url", ref_db)
    assert code == 1 and "chat_sessions_userId_fkey" in one_line(err)
    execute(ref_db, 'ALTER TABLE chat_sessions ADD CONSTRAINT "chat_sessions_userId_fkey" FOREIGN KEY ("userId") '
                    'REFERENCES users(id) ON UPDATE CASCADE ON DELETE CASCADE')
    code, out, _ = run(capsys, "rollback", *common)
    assert code == 0 and "rolled back" in out  # the re-created constraint is recognised by name and definition
    code, out, _ = run(capsys, "rollback", *common)
    assert code == 2  # nothing left to roll back
    code, out, err = run(capsys, "migrate", *common)
    assert code == 0 and "migrated" in out
    code, out, err = run(capsys, "migrate", *common)
    assert code == 0 and "nothing to do" in out


def test_no_traceback_from_the_installed_command(tmp_path):
    r = subprocess.run([sys.executable, "-m", "runbook.cli", "analyze", "--database-url", "mysql://x"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "not a postgresql:// URL" in one_line(r.stderr)
    r = subprocess.run([sys.executable, "-m", "runbook.cli", "analyze"], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 2 and "DATABASE_URL" in one_line(r.stderr)


def test_progress_bars_finish(ref_db, tmp_path):
    """In a terminal, the step bars of a rehearsal, a migration and a rollback end at their
    total: each counts the steps it shows (a rehearsal runs no finish step, the rollback's
    NULLs are restored after its lock window, with their own bar)."""
    import re

    from terminal import Shown, in_terminal

    common = ["--database-url", ref_db, "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l")]
    for cmd in (["migrate", "--rehearse"], ["migrate"], ["rollback"]):
        shown = in_terminal(*cmd, *common, cols=120)
        assert shown.code == 0, shown.err
        name = {"migrate": "rehearse" if "--rehearse" in cmd else "migrate", "rollback": "rollback"}[cmd[0]]
        ends = re.findall(rf"{name}: +(\d+)%\|[^|]*\| (\d+)/(\d+)", "\n".join(Shown.lines(shown.err)))
        assert ends, shown.err
        pct, n, total = ends[-1]
        assert (pct, n) == ("100", total), (cmd, ends[-1])
        if cmd == ["migrate"]:  # the backup's bar (its total an estimate) and the fill's (no total known)
            for bar in (r"backup \(pg_dump\)", r"fill \S+"):
                frames = re.findall(rf"{bar}: +(\d+)%", "\n".join(Shown.lines(shown.err)))
                assert frames and frames[-1] == "100", (bar, frames[-3:])


def test_no_progress_bar_when_stderr_is_not_a_terminal(ref_db, tmp_path):
    """Piped (a log, CI), a migration and a rollback draw no bar: stderr stays empty."""
    common = ["--database-url", ref_db, "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l")]
    for cmd in (["migrate"], ["rollback"]):
        r = subprocess.run([sys.executable, "-m", "runbook.cli", *cmd, *common], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert r.stderr == "", r.stderr


def test_no_progress_bar_in_a_terminal_with_no_progress_or_json(ref_db, tmp_path):
    from terminal import in_terminal

    common = ["--database-url", ref_db, "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l")]
    for flag in ("--no-progress", "--json"):
        shown = in_terminal("migrate", "--rehearse", flag, *common)
        assert shown.code == 0 and "%|" not in shown.err, shown.err


def _readme_commands() -> dict[str, set[str]]:
    """The README's command reference: command (with its subcommand) -> the options it lists."""
    import re

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = text[text.index("## Commands"):]
    block = block[block.index("```") + 3:]
    block = block[:block.index("```")]
    out: dict[str, set[str]] = {}
    cur = None
    for line in block.splitlines():
        m = re.match(r"runbook ([a-z-]+)(?: ([a-z]+)\b)?", line)
        if m:
            cur = " ".join(w for w in m.groups() if w and not w.isupper())
            out.setdefault(cur, set())
        if cur:
            out[cur] |= set(re.findall(r"--[a-z][a-z0-9-]*", line))
    return out


def _parser_commands() -> dict[str, set[str]]:
    import argparse

    from runbook.cli import build_parser

    def subs(p):
        return next((a for a in p._actions if isinstance(a, argparse._SubParsersAction)), None)

    out = {}
    for name, sp in subs(build_parser()).choices.items():
        nested = subs(sp)
        for full, p in ([(f"{name} {n}", q) for n, q in nested.choices.items()] if nested else [(name, sp)]):
            out[full] = {o for a in p._actions for o in a.option_strings if o.startswith("--") and o != "--help"}
    return out


def test_the_readme_command_reference_matches_the_parser():
    """Every command of the parser is in the README's reference with every option it takes
    (the options every command shares are said once, under the block), and the README
    names no command or option the parser does not have."""
    shared = {"--database-url", "--mapping", "--no-progress"}
    readme, parser = _readme_commands(), _parser_commands()
    assert set(readme) == set(parser)
    for cmd, opts in parser.items():
        assert readme[cmd] - opts == set(), (cmd, "README lists options the parser lacks")
        assert opts - shared - readme[cmd] == set(), (cmd, "options missing from the README")
