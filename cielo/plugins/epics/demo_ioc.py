"""cielo's demo EPICS IOC: ``python -m cielo.plugins.epics.demo_ioc`` (or ``cielo ioc sim``)
serves it; :data:`READY_MARK`, :func:`pv_names` and :func:`ioc_env` help tests drive it."""

from __future__ import annotations

import sys

from ._demo_ioc import DEFAULT_PORT, DEFAULT_PREFIX, READY_MARK, ioc_env, main, pv_names

__all__ = ["DEFAULT_PORT", "DEFAULT_PREFIX", "READY_MARK", "ioc_env", "main", "pv_names"]

if __name__ == "__main__":
    sys.exit(main())
