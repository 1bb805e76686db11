"""Plans' own web forms (the ``cielo_plan_forms`` hook): collected from the plugins, and
their checks run on the arguments a user is filling in.

The form's ``ui`` travels to the browser in each plan's entry of ``/api/plans/allowed``;
its ``check`` runs behind ``POST /api/plans/check``, so a form is checked by the plan's
own Python code before anything is queued. While the environment is open the worker runs
the check with the plugins it loaded (after an environment reload: the edited ones), and
the manager only relays it (:class:`FormChecks`); else the manager's own plugins check.
"""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import pluggy

from cielo.core import PlanParameterError, PluginError
from cielo.core.plugins import PluginHooks, make_plugin_manager
from cielo.hookspecs.types import PlanForm

from ._store import QueueError

__all__ = ["FormChecks", "check_with_form", "form_check", "plan_forms"]


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
    """What plan ``name``'s form check, as this process's plugins give it, says of these
    arguments (``{}`` without a check).

    :raises QueueError: the check refused them; its message names the parameter.
    """
    return form_check(_forms_of_this_process(), name, args, kwargs)


def form_check(
    forms: Mapping[str, PlanForm], name: str, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """What the check of ``forms[name]`` says of these arguments (``{}`` without one).

    :raises QueueError: the check refused them; its message names the parameter.
    """
    form = forms.get(name)
    if form is None or form.check is None:
        return {}
    try:
        summary = form.check(*args, **kwargs)
    except (PlanParameterError, TypeError, ValueError) as exc:
        raise QueueError(
            str(exc) if isinstance(exc, PlanParameterError) else f"plan {name!r}: {exc}"
        ) from None
    return dict(summary or {})


class FormChecks:
    """Form checks asked of the worker (``{"cmd": "form_check", "id": ...}``) and its
    answers (``{"type": "form_check", "id": ..., "summary"|"error": ...}``), matched by id."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def ask(
        self, worker: Any, name: str, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """What the worker's form check of plan ``name`` says of these arguments.

        :raises QueueError: the check refused them, or the worker did not answer in time.
        """
        ask_id = str(uuid.uuid4())
        answer = self.pending[ask_id] = asyncio.get_running_loop().create_future()
        try:
            worker.send(
                {"cmd": "form_check", "id": ask_id, "name": name, "args": args, "kwargs": kwargs}
            )
            return await asyncio.wait_for(answer, self.timeout)
        except (TimeoutError, ConnectionError):
            raise QueueError(
                f"the worker did not answer the form check of plan {name!r} within "
                f"{self.timeout:g} s; try again once it is idle"
            ) from None
        finally:
            self.pending.pop(ask_id, None)

    def answer(self, message: Mapping[str, Any]) -> None:
        """The worker's answer: wakes the request that asked (a late one is dropped)."""
        answer = self.pending.get(str(message.get("id")))
        if answer is None or answer.done():
            return
        if message.get("error") is not None:
            answer.set_exception(QueueError(str(message["error"])))
        else:
            answer.set_result(dict(message.get("summary") or {}))
