"""``python -m cielo.plugins.epics.demo_ioc``: serve cielo's demo EPICS IOC (see ``cielo ioc sim``)."""

from __future__ import annotations

import sys

from ._demo_ioc import main

if __name__ == "__main__":
    sys.exit(main())
