"""The agent model: something that is told measurements and asked where to measure next."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from cielo.core import PlanParameterError
from cielo.core.suggest import did_you_mean

__all__ = ["Agent", "GoldenSectionAgent", "build_agent", "is_done"]


@runtime_checkable
class Agent(Protocol):
    """An adaptive agent, as offered by the ``cielo_agents`` hook.

    ``tell(x, y)`` gives it one measurement (independent values ``x``: a number for one
    motor, a tuple for several; dependent value ``y``); ``ask(n)`` returns up to ``n``
    points to measure next and a dict of information (an empty list, or
    ``info["done"]``, means it is done); ``report()`` summarizes what it knows as plain
    JSON-able values. An agent may also have ``ingest(name, doc)``: then the agent
    service hands it every document of the runs it follows, besides telling it. And it
    may have ``snapshot()`` (its whole state as JSON-able values) and ``restore(state)``:
    then a restarted agent service restores it as it was (random generators included)
    instead of telling a new one every point again.

    Where the agent runs (inside a plan, in ``cielo agent run``, in a notebook) is not
    its concern: it never moves or reads anything itself.
    """

    def tell(self, x: Any, y: Any) -> Any: ...

    def ask(self, n: int) -> tuple[Sequence[Any], dict[str, Any]]: ...

    def report(self) -> dict[str, Any]: ...


def is_done(points: Sequence[Any], info: dict[str, Any] | None) -> bool:
    """Whether an ``ask()`` answer means the agent wants nothing more."""
    return not len(points) or bool((info or {}).get("done"))


def build_agent(
    offered: Mapping[str, Any],
    name: str,
    params: Mapping[str, Any],
    *,
    allowed: Sequence[str] | None = None,
    source: str = "the profile",
) -> Any:
    """``offered[name](**params)`` (``offered``: agent factories by name, as
    ``env.registry.get("agents")``).

    :param allowed: the profile's ``[agents] allow`` list (``None``: every offered agent),
        named ``source`` in the message refusing an agent not on it.
    :raises PlanParameterError: an agent not offered or not allowed, or parameters the
        agent refuses; the message names the agent, the parameters and the choices.
    """
    if allowed is not None and name not in allowed:
        hint = did_you_mean(name, allowed, after=" ")
        raise PlanParameterError(
            f"agent {name!r} is not allowed by {source}, whose [agents] allow = "
            f"{list(allowed)!r}; {hint}to offer it, add {name!r} to that list (or remove the "
            "[agents] table to offer every installed agent)"
        )
    if name not in offered:
        hint = did_you_mean(name, offered, after=" ")
        raise PlanParameterError(
            f"agent {name!r} is not offered by any plugin; {hint}choose one of {sorted(offered)}"
        )
    try:
        return offered[name](**dict(params))
    except (TypeError, ValueError) as exc:
        raise PlanParameterError(
            f"agent {name!r} could not be built with {dict(params)!r}: {exc}"
        ) from exc


_INV_PHI = (math.sqrt(5) - 1) / 2  # 0.618...


class GoldenSectionAgent:
    """Find the maximum of a one-dimensional signal by golden-section search.

    Each answer narrows the bracket [``low``, ``high``] by the golden ratio; the agent is
    done once it is narrower than ``tolerance``.

    Parameters
    ----------
    low, high
        The bracket to search.
    tolerance
        Stop when the bracket is narrower than this.

    Examples
    --------
    >>> agent = GoldenSectionAgent(-3, 3, tolerance=1e-3)
    >>> while True:
    ...     points, _ = agent.ask(1)
    ...     if not points:
    ...         break
    ...     agent.tell(points[0], -(points[0] - 0.4) ** 2)
    >>> round(agent.report()["best_x"], 2)
    0.4
    """

    def __init__(self, low: float, high: float, *, tolerance: float = 1e-3) -> None:
        if not low < high:
            raise ValueError(f"GoldenSectionAgent: need low < high, got {low} and {high}")
        if tolerance <= 0:
            raise ValueError(f"GoldenSectionAgent: tolerance={tolerance} must be positive")
        self.low, self.high, self.tolerance = float(low), float(high), float(tolerance)
        self._c = self.high - _INV_PHI * (self.high - self.low)
        self._d = self.low + _INV_PHI * (self.high - self.low)
        self._values: dict[float, float] = {}
        self.history: list[tuple[float, float]] = []

    def tell(self, x: Any, y: Any) -> None:
        """Record the signal ``y`` measured at position ``x``."""
        self._values[float(x)] = float(y)
        self.history.append((float(x), float(y)))
        if self._c in self._values and self._d in self._values:
            if self._values[self._c] > self._values[self._d]:
                self.high = self._d
            else:
                self.low = self._c
            self._c = self.high - _INV_PHI * (self.high - self.low)
            self._d = self.low + _INV_PHI * (self.high - self.low)
            # reuse the point that is still inside, as golden-section search does
            for old in list(self._values):
                if math.isclose(old, self._c, rel_tol=0, abs_tol=1e-12):
                    self._c = old
                if math.isclose(old, self._d, rel_tol=0, abs_tol=1e-12):
                    self._d = old

    def ask(self, n: int = 1) -> tuple[list[float], dict[str, Any]]:
        """The next position(s) to measure; ``[]`` once the bracket is small enough."""
        if self.high - self.low < self.tolerance:
            return [], {"done": True}
        wanted = [p for p in (self._c, self._d) if p not in self._values]
        return wanted[: max(n, 1)], {"bracket": [self.low, self.high]}

    def snapshot(self) -> dict[str, Any]:
        """The agent's whole state, as JSON-able values (see :meth:`restore`)."""
        return {"bracket": [self.low, self.high, self._c, self._d],
                "values": list(self._values.items()), "history": self.history}  # fmt: skip

    def restore(self, state: dict[str, Any]) -> None:
        """Take the state a :meth:`snapshot` gave (of an agent built the same way)."""
        self.low, self.high, self._c, self._d = (float(v) for v in state["bracket"])
        self._values = {float(x): float(y) for x, y in state["values"]}
        self.history = [(float(x), float(y)) for x, y in state["history"]]

    def report(self) -> dict[str, Any]:
        """The best position seen so far, the bracket, and its middle (``center``: within
        half the bracket of the maximum of a unimodal signal)."""
        bracket = {"bracket": [self.low, self.high], "center": (self.low + self.high) / 2}
        if not self.history:
            return {"best_x": None, "best_y": None, **bracket}
        best_x, best_y = max(self.history, key=lambda xy: xy[1])
        return {"best_x": best_x, "best_y": best_y, **bracket}
