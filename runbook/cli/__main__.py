"""``python -m runbook.cli``."""

import sys

from . import main

sys.exit(main())
