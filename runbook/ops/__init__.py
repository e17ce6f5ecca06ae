"""The operations a plan is made of, one module per kind of work (see :mod:`.base` for
what every operation knows):

* :mod:`.names`: renames of tables, columns and dependent objects;
* :mod:`.columns`: added columns, defaults, NOT NULL made safely;
* :mod:`.fills`: online fills of NULLs and their restore;
* :mod:`.types`: enum types;
* :mod:`.keys`: foreign keys of added columns;
* :mod:`.functions`: function definitions replaced;
* :mod:`.views`: compatibility views under the old names (expand / contract);
* :mod:`.merge`: the legacy merge (``runbook merge-legacy``) and its reverse.

A new kind of operation is a frozen dataclass subclass of :class:`Op`, decorated with
:func:`operation`, in the module of its kind, and exported here.
"""

from .base import (FINISH, LOCK, OPERATIONS, PREPARE, SET_CHECKS, STATE_SCHEMA, Op, _reg, dollar_quote,
                   identifier_problem, op_from_dict, op_to_dict, operation, set_check_key)
from .columns import AddColumn, AddNotNullCheck, DropColumn, DropConstraint, DropNotNull, SetDefault, SetNotNull
from .fills import FillNulls, RestoreNulls
from .functions import ReplaceFunction
from .keys import AddForeignKey, ValidateConstraint
from .merge import MergeLegacy, UnmergeLegacy
from .names import (RenameColumn, RenameConstraint, RenameIndex, RenameSequence, RenameStatistics, RenameTable,
                    RenameTrigger)
from .types import CreateEnum, DropEnum
from .views import (MAKES_VIEW, CreateCompatView, DropCompatView, KeepFilling, RenameCompatView, StageCompatView,
                    StopFilling, UnstageCompatView, end_checks, staged_name, without_views)

__all__ = ["FINISH", "LOCK", "OPERATIONS", "PREPARE", "SET_CHECKS", "STATE_SCHEMA", "set_check_key", "AddColumn", "AddForeignKey", "AddNotNullCheck",
           "CreateCompatView", "CreateEnum", "DropColumn", "DropCompatView",
           "KeepFilling", "StopFilling", "DropConstraint", "DropEnum", "DropNotNull", "FillNulls", "Op", "RenameColumn",
           "RenameConstraint", "RenameIndex", "RenameSequence", "RenameStatistics", "RenameTable", "RenameTrigger",
           "ReplaceFunction", "RestoreNulls", "SetDefault", "SetNotNull", "ValidateConstraint", "dollar_quote",
           "identifier_problem", "MergeLegacy", "UnmergeLegacy", "op_from_dict", "op_to_dict", "operation",
           "end_checks", "without_views", "MAKES_VIEW", "RenameCompatView", "StageCompatView", "UnstageCompatView",
           "staged_name"]
