"""Readings around and during runs: baseline, monitors, flyers, and SupplementalData."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from cielo.core import Msg, PlanParameterError
from cielo.core.protocols import Flyable, Readable
from cielo.core.suggest import did_you_mean

from ._composites import ensure_generator, trigger_and_read
from ._mutators import plan_mutator
from ._preprocessors import set_run_key_wrapper
from ._stubs import MsgGenerator, short_uid

__all__ = [
    "baseline_wrapper",
    "monitor_during_wrapper",
    "fly_during_wrapper",
    "SupplementalData",
    "flat_collect_keys",
]


def flat_collect_keys(flyer: Any) -> bool:
    """Whether ``flyer.describe_collect()`` gives data keys of one stream (new style, which
    needs a declared stream) rather than ``{stream_name: data_keys}`` (ophyd's older flyers)."""
    describe = getattr(flyer, "describe_collect", None)
    if describe is None:
        return True
    desc = describe()
    if inspect.isawaitable(desc):
        close = getattr(desc, "close", None)
        if close is not None:
            close()
        return True  # asynchronous (ophyd-async) flyers describe one stream
    values = list(desc.values())
    return not values or all(isinstance(v, Mapping) and "dtype" in v for v in values)


def _in_run(plan: Any, run: Any) -> Any:
    return plan if run is None else set_run_key_wrapper(plan, run)


def baseline_wrapper(
    plan: Any, devices: Iterable[Readable], name: str = "baseline"
) -> MsgGenerator:
    """Read ``devices`` into the stream ``name`` right after each run opens and before it closes.

    Parameters
    ----------
    plan
        The plan.
    devices
        Devices to read (nothing changes if empty).
    name
        The stream name.

    Examples
    --------
    >>> plan = baseline_wrapper([Msg("open_run"), Msg("close_run")], ["temperature"])
    >>> [m.command for m in plan]  # doctest: +NORMALIZE_WHITESPACE
    ['open_run', 'declare_stream', 'create', 'read', 'save',
     'create', 'read', 'save', 'close_run']
    """
    devices = list(devices)
    if not devices:
        return (yield from ensure_generator(plan))

    def after_open(run: Any) -> MsgGenerator:
        yield Msg("declare_stream", None, *devices, name=name, collect=False)
        yield from trigger_and_read(devices, name=name)

    def insert(msg: Msg) -> tuple[Any, Any]:
        if msg.command == "open_run":
            return None, _in_run(after_open(msg.run), msg.run)
        if msg.command == "close_run":

            def before_close() -> MsgGenerator:
                yield from _in_run(trigger_and_read(devices, name=name), msg.run)
                return (yield msg)

            return before_close(), None
        return None, None

    return (yield from plan_mutator(plan, insert))


def monitor_during_wrapper(plan: Any, signals: Iterable[Readable]) -> MsgGenerator:
    """Record every update of ``signals`` (each in its own ``<name>_monitor`` stream) during runs."""
    signals = list(signals)

    def insert(msg: Msg) -> tuple[Any, Any]:
        if msg.command == "open_run":

            def start() -> MsgGenerator:
                for sig in signals:
                    yield Msg("monitor", sig, name=f"{sig.name}_monitor", run=msg.run)

            return None, start()
        if msg.command == "close_run":

            def stop() -> MsgGenerator:
                for sig in signals:
                    yield Msg("unmonitor", sig, run=msg.run)
                return (yield msg)

            return stop(), None
        return None, None

    if not signals:
        return (yield from ensure_generator(plan))
    return (yield from plan_mutator(plan, insert))


def fly_during_wrapper(plan: Any, flyers: Iterable[Flyable]) -> MsgGenerator:
    """Kick off ``flyers`` when each run opens; complete and collect them before it closes.

    A flyer describing one stream (new style) gets a stream named after it; older flyers
    name their streams themselves.
    """
    flyers = list(flyers)
    flat: list[Any] = []

    def insert(msg: Msg) -> tuple[Any, Any]:
        if msg.command == "open_run":

            def kick() -> MsgGenerator:
                group = short_uid("kickoff")
                for flyer in flyers:
                    yield Msg("kickoff", flyer, group=group, run=msg.run)
                yield Msg("wait", None, group=group, run=msg.run)
                flat[:] = [f for f in flyers if flat_collect_keys(f)]
                for flyer in flat:
                    yield Msg(
                        "declare_stream", None, flyer, name=flyer.name, collect=True, run=msg.run
                    )

            return None, kick()
        if msg.command == "close_run":

            def finish() -> MsgGenerator:
                group = short_uid("complete")
                for flyer in flyers:
                    yield Msg("complete", flyer, group=group, run=msg.run)
                yield Msg("wait", None, group=group, run=msg.run)
                for flyer in flyers:
                    name = flyer.name if any(flyer is f for f in flat) else None
                    yield Msg(
                        "collect",
                        flyer,
                        stream=False,
                        return_payload=False,
                        name=name,
                        run=msg.run,
                    )
                return (yield msg)

            return finish(), None
        return None, None

    if not flyers:
        return (yield from ensure_generator(plan))
    return (yield from plan_mutator(plan, insert))


class SupplementalData:
    """Baseline devices, monitors and flyers added to every plan it wraps.

    Apply it by hand (``RE(sd(plan))``) or put it in the engine's preprocessors
    (``RE.preprocessors.append(sd)``) so every plan gets it. Edit the lists at any time;
    each plan sees them as they are when it starts.

    Parameters
    ----------
    baseline
        Devices read at the start and end of every run (stream ``baseline``).
    monitors
        Signals whose updates are recorded during every run.
    flyers
        Flyers kicked off and collected during every run.

    Examples
    --------
    >>> sd = SupplementalData(baseline=["temperature"])
    >>> [m.command for m in sd([Msg("open_run"), Msg("close_run")])][:3]
    ['open_run', 'declare_stream', 'create']
    """

    def __init__(
        self,
        *,
        baseline: Iterable[Readable] = (),
        monitors: Iterable[Readable] = (),
        flyers: Iterable[Flyable] = (),
    ) -> None:
        self.baseline: list[Any] = list(baseline)
        self.monitors: list[Any] = list(monitors)
        self.flyers: list[Any] = list(flyers)

    @classmethod
    def from_names(
        cls,
        devices: Mapping[str, Any],
        *,
        baseline: Iterable[str] = (),
        monitors: Iterable[str] = (),
        flyers: Iterable[str] = (),
    ) -> SupplementalData:
        """Build from device names (e.g. a profile's ``baseline = ["motor", "beam_current"]``).

        Raises
        ------
        PlanParameterError
            Naming an unknown device and the known ones.
        """

        def pick(kind: str, names: Iterable[str]) -> list[Any]:
            out = []
            for name in names:
                if name not in devices:
                    hint = did_you_mean(name, devices, after=" ")
                    raise PlanParameterError(
                        f"{kind}: unknown device {name!r}; {hint}devices: "
                        + ", ".join(sorted(devices))
                    )
                out.append(devices[name])
            return out

        return cls(
            baseline=pick("baseline", baseline),
            monitors=pick("monitors", monitors),
            flyers=pick("flyers", flyers),
        )

    def __call__(self, plan: Any) -> MsgGenerator:
        """Return ``plan`` with the supplemental readings added."""
        plan = fly_during_wrapper(plan, list(self.flyers))
        plan = monitor_during_wrapper(plan, list(self.monitors))
        plan = baseline_wrapper(plan, list(self.baseline))
        return plan

    def __repr__(self) -> str:
        names = {
            k: [getattr(d, "name", d) for d in getattr(self, k)]
            for k in ("baseline", "monitors", "flyers")
        }
        return f"SupplementalData(baseline={names['baseline']}, monitors={names['monitors']}, flyers={names['flyers']})"
