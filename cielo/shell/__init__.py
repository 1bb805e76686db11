"""The interactive session: :func:`session` (Python, Jupyter) and ``cielo shell`` (IPython).

``import cielo`` does not import this package: ``cielo.session`` loads it on first use.
The IPython magics (``%mov``, ``%movr``, ``%wa``, ``%ct``) need the ``shell`` extra
(IPython, rich); ``%load_ext cielo.shell`` loads them into any IPython or Jupyter kernel.
"""

from typing import Any

from ._session import Session, session

__all__ = ["Session", "load_ipython_extension", "session", "start_shell"]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext cielo.shell``: cielo's magics and one-line reports of interrupted plans."""
    from ._magics import load_ipython_extension as load

    load(ipython)


def start_shell(ns: Session, argv: list[str] | None = None) -> None:
    """Run an IPython terminal on the session ``ns`` (IPython is imported only here)."""
    from ._ipython import start_shell as start

    start(ns, argv)
