"""Catalog snapshots and data checksums, for "exactly as before" assertions."""

from __future__ import annotations

import re
import subprocess

import psycopg2

from runbook.execute.backup import _env_and_url, _tool
from runbook.naming import qq


def schema_dump(url: str) -> str:
    """``pg_dump --schema-only`` without runbook's own schema, comparable across runs."""
    env, plain = _env_and_url(url)
    out = subprocess.run([str(_tool("pg_dump")), "--schema-only", "--no-owner", "--exclude-schema=runbook",
                          f"--dbname={plain}"], capture_output=True, text=True, env=env, check=True).stdout
    # pg_dump 18 writes a random key in \restrict lines; comments carry no schema
    return "\n".join(l for l in out.splitlines()
                     if l and not l.startswith(("--", "\\restrict", "\\unrestrict", "SET ", "SELECT pg_catalog")))


def checksums(url: str, exclude=("AuditLog",)) -> dict[str, tuple[int, str]]:
    """Per table of every user schema: row count and a checksum of every row.

    Keys are the bare table name in ``public`` and ``schema.table`` elsewhere; runbook's own
    schema, the system schemas and extensions' tables are left out. A table named in
    ``exclude`` (the audit table, which runbook appends to) is read for its original rows
    only: those without a ``run_id`` in ``details``.
    """
    conn = psycopg2.connect(url)
    try:
        cur = conn.cursor()
        cur.execute("SELECT n.nspname, c.relname, EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid "
                    "AND a.attname = 'details' AND a.atttypid = 'jsonb'::regtype AND NOT a.attisdropped) "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind = 'r' AND n.nspname NOT IN ('runbook', 'information_schema') "
                    "AND n.nspname NOT LIKE 'pg\\_%' "
                    "AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
                    "AND d.objid = c.oid AND d.deptype = 'e') ORDER BY 1, 2")
        out = {}
        for schema, t, has_details in cur.fetchall():
            key = t if schema == "public" else f"{schema}.{t}"
            query = f"SELECT count(*), coalesce(sum(hashtextextended(x::text, 0)), 0)::text FROM {qq(schema, t)} x"
            if t in exclude:
                if not has_details:
                    continue
                # the audit table's original rows (runbook only appends)
                key, query = f"{key} (original rows)", query + " WHERE NOT coalesce(details ? 'run_id', false)"
            cur.execute(query)
            out[key] = cur.fetchone()
        return out
    finally:
        conn.close()


def state(url: str) -> tuple[str, dict]:
    return schema_dump(url), checksums(url)


def audit_events(url: str) -> list[str]:
    conn = psycopg2.connect(url)
    try:
        cur = conn.cursor()
        cur.execute("SELECT action FROM public.\"AuditLog\" WHERE details ? 'run_id' ORDER BY id")
        return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def scalar(url: str, sql: str, params=None):
    conn = psycopg2.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(sql, params)
        return cur.fetchone()[0]
    finally:
        conn.close()


def execute(url: str, sql: str, params=None) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        conn.cursor().execute(sql, params)
    finally:
        conn.close()


def rows(url: str, sql: str, params=None) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(sql, params)
        return cur.fetchall()
    finally:
        conn.close()
