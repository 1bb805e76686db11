"""Hook through which plugins add RunEngine commands (Msg verbs)."""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core.plugins import hookspec

from .types import CommandHandler

__all__ = ["cielo_msg_commands"]


@hookspec
def cielo_msg_commands() -> Mapping[str, CommandHandler] | None:
    """Add commands that plans may send as ``Msg(command, ...)``.

    Fires once per RunEngine, when the engine is created with a plugin manager.

    :returns: a mapping from command name to ``handler(ctx, msg)``. The handler runs
        on the engine's event loop; it returns the value sent back into the plan, or an
        awaitable whose result is. ``ctx`` is the engine's command context (see
        :class:`cielo.core.engine.CommandContext`). ``None`` adds nothing. Replacing a
        built-in command or a command of another plugin is an error that names both.
    """
