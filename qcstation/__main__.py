"""`python -m qcstation`."""

import sys

from .cli import main

sys.exit(main())
