"""``python -m cpsim.cli``: the same as the ``cpsim`` command."""

import sys

from .main import main

sys.exit(main())
