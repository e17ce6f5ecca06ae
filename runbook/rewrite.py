"""Replace table (and column) names in text PostgreSQL generated itself.

Function bodies are read by PostgreSQL's parser in :mod:`runbook.sqlbody`; this module is
for definitions the server prints (``pg_get_constraintdef``, ``pg_get_indexdef``), where
a simple lexer that knows SQL's quoting (``"identifiers"``, ``'strings'``, ``E'...'``,
``$tag$ ... $tag$``, ``--`` and ``/* */`` comments) and replaces identifier tokens is
exact, for :func:`runbook.verify.checks._expected_def`; :func:`names_any` is the text search the
plan keeps for bodies in other languages and bodies the parser cannot read, and
:func:`rewrite_definition` puts a rewritten body back into its ``CREATE FUNCTION`` text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .naming import q


@dataclass(frozen=True)
class Token:
    kind: str  # ident (bare), qident ("quoted"), string, dollar, comment, other
    text: str


_token_re = re.compile(
    r"""
    (?P<qident>"(?:[^"]|"")*")
  | (?P<string>[EeBbXxNn]?'(?:[^'\\]|''|\\.)*')
  | (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z_0-9]*)?\$)
  | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<ident>[A-Za-z_\u0080-\uffff][A-Za-z_0-9$\u0080-\uffff]*)
  | (?P<other>.)
    """,
    re.S | re.X,
)


def tokenize(src: str) -> list[Token]:
    out: list[Token] = []
    i = 0
    n = len(src)
    while i < n:
        m = _token_re.match(src, i)
        if not m:  # pragma: no cover - the last alternative matches any char
            out.append(Token("other", src[i]))
            i += 1
            continue
        kind = m.lastgroup if m.lastgroup != "tag" else "dollar"
        if m.group("dollar"):
            tag = m.group("dollar")
            end = src.find(tag, m.end())
            if end < 0:
                out.append(Token("string", src[i:]))
                break
            # a nested dollar-quoted block is a string literal (or a nested body)
            out.append(Token("dollar", src[i : end + len(tag)]))
            i = end + len(tag)
            continue
        out.append(Token(kind, m.group(0)))
        i = m.end()
    return out


class UnsafeRewrite(Exception):
    pass


def _unquote(tok: Token) -> str:
    if tok.kind == "qident":
        return tok.text[1:-1].replace('""', '"')
    return tok.text.lower()


def rewrite_source(source: str, tables: dict[str, str], columns: dict[str, str] | None = None) -> str:
    """Replace identifier tokens naming ``tables`` (old -> new), and quoted column
    identifiers in ``columns`` (old -> new), in ``source``.

    Raises :class:`UnsafeRewrite` when an old table name appears where we cannot
    rewrite it with certainty (a string literal, a dollar-quoted string).
    """
    columns = columns or {}
    out = []
    for tok in tokenize(source):
        if tok.kind in ("qident", "ident"):
            name = _unquote(tok)
            # A bare identifier folds to lower case: it can only name a lower-case table.
            if name in tables and (tok.kind == "qident" or name == name.lower()):
                out.append(q(tables[name]))
                continue
            if tok.kind == "qident" and name in columns:
                out.append(q(columns[name]))
                continue
        elif tok.kind in ("string", "dollar"):
            for old in tables:
                if re.search(r'(?<![A-Za-z0-9_])"?' + re.escape(old) + r'"?(?![A-Za-z0-9_])', tok.text):
                    raise UnsafeRewrite(f"names {old!r} inside a string literal (dynamic SQL?)")
        out.append(tok.text)
    return "".join(out)


def names_any(source: str, names) -> set[str]:
    """Which of ``names`` the source mentions as identifiers or inside strings."""
    found = set()
    for tok in tokenize(source):
        if tok.kind in ("qident", "ident"):
            n = _unquote(tok)
            if n in names and (tok.kind == "qident" or n == n.lower()):
                found.add(n)
        elif tok.kind in ("string", "dollar"):
            for old in names:
                if re.search(r'(?<![A-Za-z0-9_])"?' + re.escape(old) + r'"?(?![A-Za-z0-9_])', tok.text):
                    found.add(old)
    return found


def rewrite_definition(definition: str, source: str, new_source: str) -> str:
    """Put ``new_source`` in place of ``source`` inside a ``pg_get_functiondef`` text."""
    idx = definition.find(source)
    if idx < 0 or not source:
        raise UnsafeRewrite("its body could not be located in its definition")
    before, after = definition[:idx], definition[idx + len(source):]
    m = re.search(r"\$([A-Za-z_]*)\$\Z", before)
    if m and after.startswith(m.group(0)):
        # a new name may hold the definition's own tag ($function$): choose a longer one
        from .ops import dollar_quote

        return before[:m.start()] + dollar_quote(new_source, m.group(1)) + after[len(m.group(0)):]
    return before + new_source + after
