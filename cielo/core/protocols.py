"""The device protocols (public module): ``from cielo.core.protocols import Readable``."""

from ._protocols import *  # noqa: F403
from ._protocols import __all__ as __all__
