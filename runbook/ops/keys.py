"""Foreign keys of added columns: added NOT VALID in the lock phase, validated online after."""

from __future__ import annotations

from dataclasses import dataclass

from ..naming import FK_ACTIONS, literal, q, qq
from .base import FINISH, Op, _reg, operation
from .columns import DropConstraint


@operation
@dataclass(frozen=True)
class AddForeignKey(Op):
    """Added ``NOT VALID`` (no scan under the lock); :class:`ValidateConstraint` follows
    after COMMIT."""

    schema: str
    table_name: str
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "RESTRICT"
    on_update: str = "CASCADE"
    kind = "add foreign key"
    changes = ((None, "name"),)
    identifiers = ("schema", "table_name", "name", "ref_table")
    identifier_lists = ("columns", "ref_columns")

    def _validate(self):
        out = [None if isinstance(self.columns, tuple) and isinstance(self.ref_columns, tuple)
               and len(self.columns) == len(self.ref_columns) else "columns and ref_columns differ in length"]
        out += [f"{name} is not a referential action" for name in ("on_delete", "on_update")
                if getattr(self, name) not in FK_ACTIONS]
        return out

    def statements(self):
        cols = ", ".join(q(c) for c in self.columns)
        refs = ", ".join(q(c) for c in self.ref_columns)
        return [
            f"ALTER TABLE {qq(self.schema, self.table_name)} ADD CONSTRAINT {q(self.name)} FOREIGN KEY ({cols}) "
            f"REFERENCES {qq(self.schema, self.ref_table)}({refs}) ON DELETE {self.on_delete} ON UPDATE {self.on_update} NOT VALID"
        ]

    def reverse(self):
        return DropConstraint(self.schema, self.table_name, self.name)

    def check(self):
        return (f"EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {_reg(self.schema, self.table_name)} "
                f"AND conname = {literal(self.name)} AND contype = 'f')")

    set_check = "foreign key named"

    def set_check_values(self):
        return qq(self.schema, self.table_name), self.name

    def describe(self):
        return f"add foreign key {self.name} -> {self.ref_table} (NOT VALID)"


@operation
@dataclass(frozen=True)
class ValidateConstraint(Op):
    schema: str
    table_name: str
    name: str
    phase = FINISH
    kind = "validate constraint"
    identifiers = ("schema", "table_name", "name")

    def statements(self):
        return [f"ALTER TABLE {qq(self.schema, self.table_name)} VALIDATE CONSTRAINT {q(self.name)}"]

    def reverse(self):
        return None

    def check(self):
        return (f"EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {_reg(self.schema, self.table_name)} "
                f"AND conname = {literal(self.name)} AND convalidated)")

    def describe(self):
        return f"validate {self.name}"
