"""The tokenizer of the Prisma schema language.

Follows the lexical rules of Prisma's grammar (``psl/schema-ast/src/parser/datamodel.pest``):

* identifiers are ASCII letters, digits, ``_`` and ``-``; attribute names are dotted
  paths (``@db.VarChar``: tokens ``@``, ``IDENT``, ``.``, ``IDENT``); strings are JSON
  strings; numbers ``-?\\d+(\\.\\d+)?``;
* ``//`` comments are dropped, ``///`` doc comments become ``DOC`` tokens (the parser
  keeps them as ``doc`` on the model, view, type, enum, field or enum value they
  precede, or trail on the same line);
* newlines are tokens (``NL``): they end fields and block attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from .model import PrismaSyntaxError


@dataclass(frozen=True)
class _Tok:
    kind: str  # IDENT NUMBER STRING DOC NL EOF or the punctuation itself
    value: Any
    line: int
    col: int


_PUNCT = "{}()[],:=?.!"
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?![A-Za-z0-9_\-])")
_IDENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]*")
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class _Lexer:
    def __init__(self, text: str, source: str | None):
        self.text = text
        self.source = source

    def error(self, message: str, line: int, col: int) -> PrismaSyntaxError:
        return PrismaSyntaxError(message, line, col, self.source)

    def tokens(self) -> Iterator[_Tok]:
        text = self.text
        i, n = 0, len(text)
        line, line_start = 1, 0
        while i < n:
            ch = text[i]
            col = i - line_start + 1
            if ch == "\n" or ch == "\r":
                yield _Tok("NL", None, line, col)
                i += 2 if text.startswith("\r\n", i) else 1
                line, line_start = line + 1, i
            elif ch.isspace() or ch == "\ufeff":
                i += 1
            elif text.startswith("//", i):
                end = i
                while end < n and text[end] not in "\r\n":
                    end += 1
                if text.startswith("///", i):
                    yield _Tok("DOC", text[i + 3 : end].strip(), line, col)
                i = end
            elif ch == '"':
                value, i = self._string(i, line, col)
                yield _Tok("STRING", value, line, col)
            elif text.startswith("@@", i):
                yield _Tok("@@", "@@", line, col)
                i += 2
            elif ch == "@":
                yield _Tok("@", "@", line, col)
                i += 1
            elif ch in _PUNCT:
                yield _Tok(ch, ch, line, col)
                i += 1
            else:
                m = _NUMBER.match(text, i)
                if m:
                    raw = m.group()
                    yield _Tok("NUMBER", float(raw) if "." in raw else int(raw), line, col)
                    i = m.end()
                    continue
                m = _IDENT.match(text, i)
                if m:
                    yield _Tok("IDENT", m.group(), line, col)
                    i = m.end()
                    continue
                raise self.error(f"unexpected character {ch!r}", line, col)
        yield _Tok("EOF", None, line, i - line_start + 1)

    def _string(self, start: int, line: int, col: int) -> tuple[str, int]:
        text, n = self.text, len(self.text)
        out: list[str] = []
        i = start + 1
        while True:
            if i >= n or text[i] in "\r\n":
                raise self.error("unterminated string literal", line, col)
            ch = text[i]
            if ch == '"':
                return "".join(out), i + 1
            if ord(ch) < 0x20 and ch != "\t":
                raise self.error("control character in string literal", line, col + (i - start))
            if ch == "\\":
                if i + 1 >= n or text[i + 1] in "\r\n":
                    raise self.error("unterminated string literal", line, col)
                esc = text[i + 1]
                if esc == "u":
                    hexdigits = text[i + 2 : i + 6]
                    if len(hexdigits) == 4 and all(c in "0123456789abcdefABCDEF" for c in hexdigits):
                        code = int(hexdigits, 16)
                        i += 6
                        # a UTF-16 surrogate pair, as in JSON
                        if 0xD800 <= code < 0xDC00 and text.startswith("\\u", i):
                            low_hex = text[i + 2 : i + 6]
                            try:
                                low = int(low_hex, 16)
                            except ValueError:
                                low = 0
                            if 0xDC00 <= low < 0xE000:
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                                i += 6
                        out.append(chr(code))
                        continue
                    raise self.error("invalid \\u escape in string literal", line, col + (i - start))
                out.append(_SIMPLE_ESCAPES.get(esc, esc))  # Prisma accepts "\" ANY
                i += 2
                continue
            out.append(ch)
            i += 1
