"""Hook through which plugins offer plans."""

from __future__ import annotations

from collections.abc import Mapping

from cielo.core.plugins import hookspec

from .types import PlanForm, PlanFunction

__all__ = ["cielo_plan_forms", "cielo_plans"]


@hookspec
def cielo_plans() -> Mapping[str, PlanFunction] | None:
    """Offer plans that users run by name (from Python, the CLI, the queue or the web).

    Fires once per plugin manager, when the registry of contributions is built.

    :returns: a mapping from plan name (``"count"``, ``"grid_scan"``) to the plan: a
        callable returning a generator of :class:`~cielo.Msg`. Its typed signature
        gives the JSON schema of its parameters and its docstring's first line its
        summary; a parameter whose annotation cannot be described is an error at
        registration that names the plan and the parameter. ``None`` offers nothing.
        A name offered by two plugins is an error that names both.
    """


@hookspec
def cielo_plan_forms() -> Mapping[str, PlanForm] | None:
    """Offer a plan's own form for the web application (by plan name).

    Fires when ``cielo serve`` describes its plans: each plan's entry carries its form's
    ``ui`` as ``"form"``, and ``POST /api/plans/check`` runs the form's ``check`` on the
    arguments being filled in. A plan without one gets the form drawn from its schema.

    :returns: a mapping from plan name to :class:`~cielo.hookspecs.types.PlanForm`, or
        ``None``. A plan given a form by two plugins is an error naming both.
    """
