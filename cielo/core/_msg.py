"""The message: the unit of a plan, compatible with Bluesky's ``Msg``."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

__all__ = ["Msg"]

_MsgFields = namedtuple("_MsgFields", ["command", "obj", "args", "kwargs", "run"])
_tuple_new = tuple.__new__


class Msg(_MsgFields):
    """One instruction from a plan to the RunEngine.

    ``Msg(command, obj=None, *args, run=None, **kwargs)`` with the fields
    ``command, obj, args, kwargs, run``, as Bluesky's ``Msg``: a plan written for
    Bluesky yields messages that cielo accepts unchanged, and the reverse.

    Examples
    --------
    >>> Msg("set", "motor", 1.5, group="A")
    Msg('set', obj='motor', args=(1.5,), kwargs={'group': 'A'}, run=None)
    """

    __slots__ = ()

    def __new__(
        cls, command: str, obj: Any = None, *args: Any, run: Any = None, **kwargs: Any
    ) -> Msg:
        # building the tuple directly skips the namedtuple's own __new__ (a second call
        # that re-packs the fields): about half the cost of a message with arguments
        return _tuple_new(cls, (command, obj, args, kwargs, run))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (_rebuild, tuple(self))

    def __repr__(self) -> str:
        obj = getattr(self.obj, "name", self.obj)
        return (
            f"Msg({self.command!r}, obj={obj!r}, args={self.args!r}, "
            f"kwargs={self.kwargs!r}, run={self.run!r})"
        )


def _rebuild(
    command: str, obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any], run: Any
) -> Msg:
    """Unpickle a :class:`Msg` from its five fields."""
    return _tuple_new(Msg, (command, obj, args, kwargs, run))
