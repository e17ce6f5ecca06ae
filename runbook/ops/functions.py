"""Functions whose bodies name a renamed table as text: their definitions are replaced."""

from __future__ import annotations

from dataclasses import dataclass

from ..naming import literal
from .base import Op, operation


@operation
@dataclass(frozen=True)
class ReplaceFunction(Op):
    """A function whose body names a renamed table (or column) as text: it does not
    follow the rename by OID the way views, triggers and foreign keys do. The new
    definition replaces only those identifiers; the old one is kept for the rollback."""

    signature: str  # schema.name(args), for messages
    regprocedure: str
    old_definition: str
    new_definition: str
    new_source: str
    kind = "replace function"
    changes = ((None, "regprocedure"),)
    name_scope = "function"
    texts = ("signature", "regprocedure", "new_definition")

    def _validate(self):
        return [None if isinstance(self.new_source, str) else "new_source is not a text",
                None if self.old_definition is None or isinstance(self.old_definition, str)
                else "old_definition is not a text"]

    def statements(self):
        return [self.new_definition.rstrip().rstrip(";")]

    def reverse(self):
        return ReplaceFunction(self.signature, self.regprocedure, self.new_definition, self.old_definition,
                               _source_of(self.old_definition))

    def check(self):
        return f"(SELECT prosrc FROM pg_proc WHERE oid = to_regprocedure({literal(self.regprocedure)})) = {literal(self.new_source)}"

    def describe(self):
        return f"rewrite function {self.signature}"


def _source_of(definition: str) -> str:
    """The body of a ``pg_get_functiondef`` text (between its dollar-quote tags)."""
    import re

    m = re.search(r"AS (\$[A-Za-z_]*\$)(.*)\1", definition, re.S)
    return m.group(2) if m else ""
