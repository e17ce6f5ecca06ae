"""The Prisma schema language: parser and Prisma's naming rules (moved from runbook/prisma.py)."""

from .parser import *  # noqa: F401,F403
from .parser import __all__, _Lexer, _Parser, _Tok  # noqa: F401
