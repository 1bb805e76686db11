"""Plans' own web forms (the ``cielo_plan_forms`` hook): collected from the plugins, and
their checks run on the arguments a user is filling in.

The form's ``ui`` travels to the browser in each plan's entry of ``/api/plans/allowed``;
its ``check`` stays here and runs behind ``POST /api/plans/check``, so a form is checked
by the plan's own Python code before anything is queued.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pluggy

from cielo.core import PlanParameterError, PluginError
from cielo.core.plugins import PluginHooks, make_plugin_manager
from cielo.hookspecs.types import PlanForm

from ._store import QueueError

__all__ = ["check_with_form", "plan_forms"]


def plan_forms(pm: pluggy.PluginManager) -> dict[str, PlanForm]:
    """The forms the plugins of ``pm`` offer, by plan name.

    :raises PluginError: a form that is not a :class:`PlanForm`, whose ``ui`` is not
        JSON, or a plan given a form by two plugins (the message names the plugins).
    """
    forms: dict[str, PlanForm] = {}
    providers: dict[str, str] = {}
    for plugin, offered in PluginHooks(pm).plan_forms():
        where = f"plugin {plugin!r}: cielo_plan_forms()"
        if not isinstance(offered, Mapping):
            raise PluginError(f"{where} returned {type(offered).__name__}, expected a mapping")
        for name, form in offered.items():
            if not isinstance(form, PlanForm):
                raise PluginError(
                    f"{where} offered {name!r} as {form!r}; give a cielo.hookspecs.PlanForm"
                )
            if name in providers:
                raise PluginError(
                    f"plan {name!r} is given a form by two plugins: {providers[name]!r} and "
                    f"{plugin!r}; block one of them (CIELO_DISABLE_PLUGINS)"
                )
            try:
                json.dumps(form.ui, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise PluginError(f"{where}: the ui of {name!r} is not JSON: {exc}") from None
            forms[name], providers[name] = form, plugin
    return forms


@functools.cache
def _forms_of_this_process() -> dict[str, PlanForm]:
    return plan_forms(make_plugin_manager())


def check_with_form(name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """What plan ``name``'s form check says of these arguments (``{}`` without a check).

    :raises QueueError: the check refused them; its message names the parameter.
    """
    form = _forms_of_this_process().get(name)
    if form is None or form.check is None:
        return {}
    try:
        summary = form.check(*args, **kwargs)
    except (PlanParameterError, TypeError, ValueError) as exc:
        raise QueueError(
            str(exc) if isinstance(exc, PlanParameterError) else f"plan {name!r}: {exc}"
        ) from None
    return dict(summary or {})
