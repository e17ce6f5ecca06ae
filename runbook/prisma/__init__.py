"""The Prisma schema language (``schema.prisma``): a parser and Prisma's naming rules.

One module per concern, each importing only the ones before it:

* :mod:`~runbook.prisma.model`: the parsed form, frozen data classes (:class:`Schema`,
  :class:`Model`, :class:`Field` ...), :func:`render_value` and
  :class:`PrismaSyntaxError`;
* :mod:`~runbook.prisma.lexer`: the tokenizer;
* :mod:`~runbook.prisma.parser`: the recursive-descent parser, :func:`parse` and
  :func:`load`;
* :mod:`~runbook.prisma.naming`: the names Prisma Migrate gives constraints, indexes
  and implicit many-to-many join tables.

The package imports nothing of runbook but :mod:`runbook.errors` (the target schema of
the default mapping is :func:`runbook.mapping.default_target_schema`).  Every public
name is re-exported here: ``from runbook.prisma import parse, Schema``.
"""

from .lexer import _Lexer, _Tok  # noqa: F401  (runbook.mapping_init uses _Lexer)
from .model import REFERENTIAL_ACTIONS, Value  # noqa: F401
from .model import (
    SCALAR_TYPES,
    Arg,
    Attribute,
    Call,
    ConfigBlock,
    Enum,
    EnumValue,
    Field,
    IndexField,
    IndexSpec,
    Model,
    PrismaSyntaxError,
    Ref,
    Relation,
    Schema,
    render_value,
)
from .naming import (
    POSTGRES_MAX_IDENTIFIER_LENGTH,
    ImplicitManyToMany,
    implicit_many_to_many,
    prisma_constraint_name,
    prisma_default_names,
    prisma_join_table_name,
    prisma_m2m_names,
)
from .parser import _Parser, load, parse  # noqa: F401

__all__ = [
    "PrismaSyntaxError",
    "Ref",
    "Call",
    "Arg",
    "Attribute",
    "Relation",
    "IndexField",
    "IndexSpec",
    "Field",
    "Model",
    "EnumValue",
    "Enum",
    "ConfigBlock",
    "Schema",
    "SCALAR_TYPES",
    "parse",
    "load",
    "render_value",
    "prisma_constraint_name",
    "prisma_default_names",
    "prisma_join_table_name",
    "prisma_m2m_names",
    "ImplicitManyToMany",
    "implicit_many_to_many",
    "POSTGRES_MAX_IDENTIFIER_LENGTH",
]
