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
from .model import *  # noqa: F401,F403  (its __all__)
from .model import REFERENTIAL_ACTIONS, Value, __all__ as _model_names  # noqa: F401
from .naming import *  # noqa: F401,F403  (its __all__)
from .naming import __all__ as _naming_names
from .parser import _Parser, load, parse  # noqa: F401

__all__ = [*_model_names, "parse", "load", *_naming_names]
