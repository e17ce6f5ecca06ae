"""What ``runbook scan-code`` looks for: the mapping's old names, as plain data.

Every table renamed (old -> new) and, per table, every column renamed. A column belongs to
its table under both names: code that already says ``chat_sessions`` may still name the
column ``"sessionName"``, which the migration renames too.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Names:
    schema: str
    tables: dict[str, str]  # old table -> new table
    #: table (old or new name) -> {old column: new column}
    columns: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, mapping) -> "Names":
        tables = {t.old: t.new for t in mapping.tables}
        columns: dict[str, dict[str, str]] = {}
        for t in mapping.tables:
            renamed = {r.old: r.new for r in t.rename_columns}
            if renamed:
                columns[t.old] = renamed
                columns[t.new] = renamed
        return cls(mapping.schema, tables, columns)

    def is_old(self, table: str) -> bool:
        return table in self.tables

    def renamed_column(self, table: str | None, column: str) -> str | None:
        """The new name of ``column`` of ``table`` (old or new name), or None."""
        if table is None:
            return None
        return self.columns.get(table, {}).get(column)

    def column_anywhere(self, column: str) -> str | None:
        """The new name of a renamed ``column`` when every table renaming it agrees."""
        news = {cols[column] for cols in self.columns.values() if column in cols}
        return next(iter(news)) if len(news) == 1 else None

    def all_columns(self) -> set[str]:
        return {c for cols in self.columns.values() for c in cols}
