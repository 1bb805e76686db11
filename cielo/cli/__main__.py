"""``python -m cielo.cli``: the ``cielo`` command without the console script."""

import sys

from . import main

sys.exit(main())
