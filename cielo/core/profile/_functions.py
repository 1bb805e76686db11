"""The functions a profile lets a queue server run: ``[functions] allow``.

Each entry is a ``"package.module:callable"`` reference; the module is imported when the
profile is loaded and the callable found by attribute lookup (nothing is evaluated). A
function is known by its own name (the last part of the reference); two references
with the same name are refused.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._profile import suggest

if TYPE_CHECKING:
    from ._profile import Profile

__all__ = ["resolve_functions"]


def resolve_functions(profile: Profile) -> dict[str, Callable[..., Any]]:
    """``{name: callable}`` of ``profile``'s ``[functions] allow``, or a
    :class:`~cielo.core.ProfileError` naming the reference that does not resolve."""
    found: dict[str, Callable[..., Any]] = {}
    where = "[functions] allow"
    for ref in profile.functions:
        module_name, _, path = ref.partition(":")
        try:
            target: Any = importlib.import_module(module_name)
        except ImportError as exc:
            raise profile.error(
                where,
                f"names {ref!r}, but module {module_name!r} cannot be imported ({exc}); "
                "is it installed or on PYTHONPATH?",
            ) from None
        for part in path.split("."):
            if not hasattr(target, part):
                public = [n for n in dir(target) if not n.startswith("_")]
                raise profile.error(
                    where,
                    f"names {ref!r}, but {getattr(target, '__name__', module_name)!r} has no "
                    f"{part!r}{suggest(part, public)}",
                )
            target = getattr(target, part)
        if not callable(target):
            raise profile.error(where, f"names {ref!r}, which is not callable")
        name = path.rsplit(".", 1)[-1]
        if name in found:
            raise profile.error(where, f"names two functions called {name!r}; keep one of them")
        found[name] = target
    return found
