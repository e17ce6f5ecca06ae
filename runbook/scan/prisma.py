"""Prisma schemas: models that still map to an old table, fields that map to an old column.

A model's table is its ``@@map`` or, without one, its name: ``model User`` with no
``@@map`` is the table ``"User"``. Such a model is a hit (its fix adds ``@@map("users")``,
keeping the model name the code uses); so is ``@@map("User")`` (its fix names the new
table). A model whose ``@@map`` names the new table is not, whatever its name. A scalar
field of a model of a table that renames columns is a hit when its column (its ``@map``,
or its name) is an old column. Read with :mod:`runbook.prisma`'s own lexer, so comments
and strings are never mistaken for models.
"""

from __future__ import annotations

from dataclasses import dataclass

from .names import Names


@dataclass(frozen=True)
class PrismaRef:
    start: int  # the span reported (the model name, the @@map string, the field)
    end: int
    old: str
    new: str
    what: str  # "table" | "column"
    edit: tuple[int, int, str]  # (start, end, replacement) of the suggested fix


def _offsets(text: str) -> list[int]:
    starts = [0]
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\r" and text.startswith("\r\n", i):
            i += 2
            starts.append(i)
            continue
        if c in "\r\n":
            starts.append(i + 1)
        i += 1
    return starts


def _line_end(text: str, start: int) -> int:
    """End of a field line's content: before a ``//`` comment (outside strings), trimmed."""
    i, in_str = start, False
    while i < len(text) and text[i] not in "\r\n":
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif text.startswith("//", i):
            break
        i += 1
    while i > start and text[i - 1] in " \t":
        i -= 1
    return i


def scan_prisma(text: str, names: Names, source: str) -> list[PrismaRef]:
    """The references of one ``.prisma`` file (PrismaSyntaxError when it is not one)."""
    from ..prisma import _Lexer

    toks = list(_Lexer(text, source).tokens())
    starts = _offsets(text)

    def off(t) -> int:
        return starts[t.line - 1] + t.col - 1

    block_names = {toks[k + 1].value for k, t in enumerate(toks[:-1])
                   if t.kind == "IDENT" and t.value in ("model", "view", "type") and toks[k + 1].kind == "IDENT"
                   and (k == 0 or toks[k - 1].kind == "NL")}
    refs: list[PrismaRef] = []
    k = 0
    while k < len(toks):
        t = toks[k]
        if not (t.kind == "IDENT" and t.value in ("model", "view") and (k == 0 or toks[k - 1].kind == "NL")
                and k + 2 < len(toks) and toks[k + 1].kind == "IDENT" and toks[k + 2].kind == "{"):
            k += 1
            continue
        name_tok = toks[k + 1]
        j, depth = k + 3, 1
        while j < len(toks) and depth:
            depth += {"{": 1, "}": -1}.get(toks[j].kind, 0)
            j += 1
        body, close = toks[k + 3 : j - 1], toks[j - 1]
        lines: list[list] = [[]]
        for bt in body:
            if bt.kind == "NL":
                lines.append([])
            elif bt.kind != "DOC":
                lines[-1].append(bt)
        table_map = schema = None
        for ln in lines:
            if len(ln) >= 4 and ln[0].kind == "@@" and ln[1].value in ("map", "schema") and ln[2].kind == "(":
                s = next((x for x in ln[3:] if x.kind == "STRING"), None)
                if s is not None and ln[1].value == "map":
                    table_map = s
                elif s is not None:
                    schema = s.value
        table = table_map.value if table_map is not None else name_tok.value
        if schema not in (None, names.schema):  # multiSchema: a table of another schema
            k = j
            continue
        if names.is_old(table):
            new = names.tables[table]
            if table_map is not None:
                a = off(table_map) + 1
                refs.append(PrismaRef(a, a + len(table), table, new, "table", (a, a + len(table), new)))
            else:
                a = off(name_tok)
                indent = "  "
                first = next((ln for ln in lines if ln), None)
                if first:
                    line_start = starts[first[0].line - 1]
                    indent = text[line_start:off(first[0])]
                ins = starts[close.line - 1]
                if off(close) > ins and text[ins:off(close)].strip():  # `}` after content on its line
                    edit = (off(close), off(close), f"\n{indent}@@map(\"{new}\")\n")
                else:
                    edit = (ins, ins, f"{indent}@@map(\"{new}\")\n")
                refs.append(PrismaRef(a, a + len(name_tok.value), table, new, "table", edit))
        for ln in lines:
            if len(ln) < 2 or ln[0].kind != "IDENT" or ln[1].kind != "IDENT" or ln[1].value in block_names:
                continue
            field_map = None
            for x in range(len(ln) - 3):
                if ln[x].kind == "@" and ln[x + 1].value == "map" and ln[x + 2].kind == "(":
                    field_map = next((y for y in ln[x + 3:] if y.kind == "STRING"), None)
            column = field_map.value if field_map is not None else ln[0].value
            new = names.renamed_column(table, column)
            if new is None:
                continue
            if field_map is not None:
                a = off(field_map) + 1
                refs.append(PrismaRef(a, a + len(column), column, new, "column", (a, a + len(column), new)))
            else:
                a = off(ln[0])
                end = _line_end(text, a)
                if close.line == ln[0].line:  # `}` on the field's line
                    end = min(end, off(close))
                    while end > a and text[end - 1] in " \t":
                        end -= 1
                refs.append(PrismaRef(a, a + len(column), column, new, "column", (end, end, f" @map(\"{new}\")")))
        k = j
    return refs
