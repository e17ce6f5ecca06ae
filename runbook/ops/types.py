"""Enum types the plan creates for added columns (and drops on the way back)."""

from __future__ import annotations

from dataclasses import dataclass

from ..naming import literal, qq
from .base import Op, identifier_problem, operation


def _labels_problems(values) -> list[str | None]:
    """An enum's labels: a non-empty list of distinct texts of at most 63 bytes."""
    if not isinstance(values, tuple) or not values:
        return ["values is not a non-empty list of labels"]
    out = [identifier_problem(v, f"values[{i}]") for i, v in enumerate(values)]
    if len(set(values)) != len(values):
        out.append("values holds a label twice")
    return out


@operation
@dataclass(frozen=True)
class CreateEnum(Op):
    schema: str
    name: str
    values: tuple[str, ...]
    kind = "create enum"
    changes = ((None, "name"),)
    name_scope = "type"
    identifiers = ("schema", "name")

    def _validate(self):
        return _labels_problems(self.values)

    def statements(self):
        vals = ", ".join(literal(v) for v in self.values)
        return [f"CREATE TYPE {qq(self.schema, self.name)} AS ENUM ({vals})"]

    def reverse(self):
        return DropEnum(self.schema, self.name, self.values)

    def check(self):
        return (f"(SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e "
                f"WHERE e.enumtypid = to_regtype({literal(qq(self.schema, self.name))})) = "
                f"ARRAY[{', '.join(literal(v) for v in self.values)}]::text[]")

    def describe(self):
        return f"create enum {self.name} ({', '.join(self.values)})"


@operation
@dataclass(frozen=True)
class DropEnum(Op):
    schema: str
    name: str
    values: tuple[str, ...]
    kind = "drop enum"
    changes = ((None, "name"),)
    name_scope = "type"
    identifiers = ("schema", "name")
    drops_data = True

    def _validate(self):
        return _labels_problems(self.values)

    def statements(self):
        return [f"DROP TYPE {qq(self.schema, self.name)}"]

    def reverse(self):
        return CreateEnum(self.schema, self.name, self.values)

    def check(self):
        return f"to_regtype({literal(qq(self.schema, self.name))}) IS NULL"

    def describe(self):
        return f"drop enum {self.name}"
