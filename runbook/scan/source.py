"""String literals of source files, with comments out of the way: one lexer per family.

:func:`literals` yields every string literal of a TypeScript/JavaScript, Python, Go or
Ruby file as a :class:`Literal`: its text as the program sees it (escapes decoded;
``${...}`` and ``#{...}`` interpolations read as the placeholder ``$1``, which is what
Prisma's ``$queryRaw`` and the ``sql`` tags send), the file offset of every character of
that text, and the template tag before it. It also returns the file with every comment
and every literal's contents blanked out (``code``): what the classifier reads as the
code around a literal, so that a word in a comment or in another string is never
context.

JavaScript strings and Go interpreted strings end at a newline; a regular expression
literal is told from a division by the token before it. Ruby's heredocs (``<<~SQL``)
are literals; its ``%q()`` forms are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FAMILIES = {".ts": "js", ".tsx": "js", ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "js",
            ".py": "py", ".go": "go", ".rb": "rb"}
_ESC = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "f": "\f", "v": "\v"}


@dataclass(frozen=True)
class Literal:
    start: int  # offset of the opening quote
    end: int  # offset after the closing quote
    text: str
    offsets: tuple[int, ...]  # file offset of each character of text
    template: bool = False


class _Lexer:
    def __init__(self, src: str, family: str):
        self.s = src
        self.family = family
        self.code = list(src)
        self.out: list[Literal] = []

    def blank(self, a: int, b: int) -> None:
        for k in range(a, min(b, len(self.s))):
            if self.code[k] not in "\r\n":
                self.code[k] = " "

    # a quoted literal: [i] is the quote (or the first of three)
    def quoted(self, i: int, q: str, *, escapes=True, multiline=False, interp=None, triple=False) -> int:
        s, n = self.s, len(self.s)
        close = q * 3 if triple else q
        j = i + len(close)
        text: list[str] = []
        offs: list[int] = []
        while j < n:
            c = s[j]
            if s.startswith(close, j):
                lit = Literal(i, j + len(close), "".join(text), tuple(offs), template=interp == "${")
                self.out.append(lit)
                self.blank(i + len(close), j)
                return j + len(close)
            if c == "\n" and not multiline:
                break
            if c == "\\" and escapes and j + 1 < n:
                nxt = s[j + 1]
                if nxt == "\n":
                    j += 2
                    continue
                text.append(_ESC.get(nxt, nxt))
                offs.append(j)
                j += 2
                continue
            if interp and s.startswith(interp, j):
                k = self.skip_braces(j + len(interp))
                text.extend("$1")
                offs.extend((j, j))
                j = k
                continue
            text.append(c)
            offs.append(j)
            j += 1
        self.blank(i + 1, j)  # unterminated: up to the end of the line
        return j

    def skip_braces(self, j: int) -> int:
        depth, s, n = 1, self.s, len(self.s)
        while j < n and depth:
            c = s[j]
            if c in "'\"`":
                k = s.find(c, j + 1)
                j = n if k < 0 else k + 1
                continue
            depth += {"{": 1, "}": -1}.get(c, 0)
            j += 1
        return j

    def line_comment(self, i: int) -> int:
        j = self.s.find("\n", i)
        j = len(self.s) if j < 0 else j
        self.blank(i, j)
        return j

    def block_comment(self, i: int, close: str = "*/") -> int:
        j = self.s.find(close, i + 2)
        j = len(self.s) if j < 0 else j + len(close)
        self.blank(i, j)
        return j


_SPACE = re.compile(r"\s+")
_JS_WORD = re.compile(r"[\w$]+")
_WORD = re.compile(r"\w+")
_RB_WORD = re.compile(r"\w+[?!]?")
_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^") | {""}
_PY_PREFIX = re.compile(r"([rRbBuUfF]{1,2})?('''|\"\"\"|'|\")")
_HEREDOC = re.compile(r"<<([~-]?)(['\"]?)([A-Za-z_]\w*)\2")


def _js(lx: _Lexer) -> None:
    s, n, i = lx.s, len(lx.s), 0
    prev = ""
    while i < n:
        c = s[i]
        if c == "/" and s.startswith("//", i):
            i = lx.line_comment(i)
        elif c == "/" and s.startswith("/*", i):
            i = lx.block_comment(i)
        elif c in "'\"":
            i = lx.quoted(i, c)
            prev = "lit"
        elif c == "`":
            i = lx.quoted(i, "`", multiline=True, interp="${")
            prev = "lit"
        elif c == "/" and prev in _REGEX_BEFORE:
            j = i + 1
            klass = False
            while j < n and s[j] != "\n":
                if s[j] == "\\":
                    j += 2
                    continue
                if s[j] == "[":
                    klass = True
                elif s[j] == "]":
                    klass = False
                elif s[j] == "/" and not klass:
                    break
                j += 1
            lx.blank(i + 1, j)
            i = j + 1
            prev = "lit"
        elif c.isspace():
            i = _SPACE.match(s, i).end()
        else:
            m = _JS_WORD.match(s, i)
            if m:
                word = m.group()
                prev = "" if word in ("return", "typeof", "case", "in", "of", "yield", "await") else "id"
                i += len(word)
                continue
            prev = c
            i += 1


def _py(lx: _Lexer) -> None:
    s, n, i = lx.s, len(lx.s), 0
    while i < n:
        c = s[i]
        if c == "#":
            i = lx.line_comment(i)
            continue
        m = _PY_PREFIX.match(s, i) if (c in "'\"rRbBuUfF") else None
        if m and (i == 0 or not (s[i - 1].isalnum() or s[i - 1] == "_")):
            prefix, q = m.group(1) or "", m.group(2)
            raw = "r" in prefix.lower()
            start = i + len(prefix)
            lx.blank(i, start)
            i = lx.quoted(start, q[0], escapes=not raw, multiline=len(q) == 3, triple=len(q) == 3)
            continue
        if c.isalnum() or c == "_":
            i = _WORD.match(s, i).end()
            continue
        i += 1


def _go(lx: _Lexer) -> None:
    s, n, i = lx.s, len(lx.s), 0
    while i < n:
        c = s[i]
        if c == "/" and s.startswith("//", i):
            i = lx.line_comment(i)
        elif c == "/" and s.startswith("/*", i):
            i = lx.block_comment(i)
        elif c == '"':
            i = lx.quoted(i, '"')
        elif c == "`":
            i = lx.quoted(i, "`", escapes=False, multiline=True)
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^'\\])'", s[i:i + 16])
            i += len(m.group()) if m else 1
        else:
            i += 1


def _rb(lx: _Lexer) -> None:
    s, n, i = lx.s, len(lx.s), 0
    pending: list[tuple[str, str, bool]] = []  # heredocs opened on this line
    while i < n:
        c = s[i]
        if c == "\n":
            i += 1
            for dash, ident, interp in pending:
                i = _heredoc_body(lx, i, ident, dash, interp)
            pending = []
        elif c == "#":
            i = lx.line_comment(i)
        elif c == "=" and s.startswith("=begin", i) and (i == 0 or s[i - 1] == "\n"):
            i = lx.block_comment(i, "\n=end")
        elif c == "<" and (m := _HEREDOC.match(s, i)) and not s[i - 1:i].isalnum():
            pending.append((m.group(1), m.group(3), m.group(2) != "'"))
            i = m.end()
        elif c == '"':
            i = lx.quoted(i, '"', multiline=True, interp="#{")
        elif c == "'":
            i = lx.quoted(i, "'", escapes=False, multiline=True)
        elif c.isalnum() or c == "_":
            i = _RB_WORD.match(s, i).end()
        else:
            i += 1


def _heredoc_body(lx: _Lexer, i: int, ident: str, dash: str, interp: bool) -> int:
    s = lx.s
    text: list[str] = []
    offs: list[int] = []
    j = i
    while j < len(s):
        e = s.find("\n", j)
        e = len(s) if e < 0 else e
        line = s[j:e]
        if (line.strip() if dash else line) == ident:
            lx.out.append(Literal(i, e, "".join(text), tuple(offs)))
            lx.blank(i, j)
            return e
        k = j
        while k < e:
            if interp and s.startswith("#{", k):
                end = lx.skip_braces(k + 2)
                text.extend("$1")
                offs.extend((k, k))
                k = end
                continue
            text.append(s[k])
            offs.append(k)
            k += 1
        text.append("\n")
        offs.append(e)
        j = e + 1
    return len(s)


def literals(src: str, family: str) -> tuple[list[Literal], str]:
    """The string literals of ``src``, in order, and the code with comments and literal
    contents blanked (same length as ``src``)."""
    lx = _Lexer(src, family)
    {"js": _js, "py": _py, "go": _go, "rb": _rb}[family](lx)
    lx.out.sort(key=lambda lit: lit.start)
    return lx.out, "".join(lx.code)
