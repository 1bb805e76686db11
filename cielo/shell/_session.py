"""One call builds an interactive session: profile, RunEngine with its feedback, catalog, lock.

:func:`session` is what ``cielo shell`` runs before IPython starts, and what a script or a
Jupyter notebook calls to get the same setup: ``ns = cielo.session("sim")``, then
``ns.RE(ns.scan([ns.det], ns.motor, -1, 1, 11))`` (or ``globals().update(ns)``).
"""

from __future__ import annotations

import getpass
import os
import warnings
from collections.abc import Iterator
from typing import Any

from cielo.core import Environment, InstrumentLock, Profile, RunEngine, load_profile
from cielo.plans import subscribe_profile

__all__ = ["Session", "session"]


class Session(dict[str, Any]):
    """An interactive session's namespace: devices and plans by name, ``RE``, ``cat``, ``env``.

    A dict (hand it to IPython as ``user_ns`` or ``globals().update(...)``) whose keys are
    also attributes (``ns.RE``, ``ns.motor``). :meth:`close` (or leaving a ``with``
    block) closes the RunEngine, then the profile's subscribers and the catalog, and
    releases the instrument lock.
    """

    def __init__(
        self,
        env: Environment,
        engine: RunEngine,
        catalog: Any,
        resources: list[Any],
    ) -> None:
        super().__init__()
        self.env = env
        self._engine = engine  # kept here too: IPython clears its namespace at exit
        self._resources = resources  # closed in reverse order after the engine
        for kind, names in (("plan", env.plans), ("device", env.devices)):
            for name, obj in names.items():
                if name in self and self[name] is not obj:
                    warnings.warn(
                        f"profile {env.profile.name!r}: {kind} {name!r} hides the plan of the "
                        f"same name in the session; call the plan as env.plans[{name!r}]",
                        stacklevel=3,
                    )
                self[name] = obj
        self.update(RE=engine, cat=catalog, env=env)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"the session has no {name!r} (devices: {', '.join(self.env.devices)})"
            ) from None

    def __dir__(self) -> Iterator[str]:  # type: ignore[override]
        return iter([*super().__dir__(), *self])

    def close(self) -> None:
        """Close the engine (draining its subscribers), then the writers, catalog and lock."""
        errors: list[BaseException] = []
        for obj in [self._engine, *reversed(self._resources)]:
            try:
                obj.close() if hasattr(obj, "close") else obj.release()
            except Exception as exc:
                errors.append(exc)
        self._resources.clear()
        if errors:
            raise errors[0]

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<Session {self.env.profile.name!r}: {len(self.env.devices)} devices, "
            f"{len(self.env.plans)} plans, RE, cat>"
        )


def session(
    profile: str | os.PathLike[str] | Profile = "sim",
    *,
    lock: bool = True,
    feedback: bool = True,
    holder: str | None = None,
) -> Session:
    """Load ``profile`` and return an interactive session's namespace (:class:`Session`).

    The RunEngine gets the profile's metadata (through its plugin manager) and its
    subscribers exactly as ``cielo run`` subscribes them
    (:func:`~cielo.plans.subscribe_profile`): live feedback in one ordered group, runs
    stored in the catalog and suitcases. ``cat`` is the profile's catalog (``None`` when the
    profile stores runs nowhere).

    :param lock: take the instrument's :class:`~cielo.core.InstrumentLock` for the
        session's life, so no ``cielo run`` (or other session) drives the same hardware
        meanwhile; :class:`~cielo.core.InstrumentBusy` says who holds it otherwise.
    :param feedback: subscribe the profile's ``[callbacks.*]``; ``False`` only stores.
    :param holder: how the lock describes this session to whoever it refuses.
    """
    env = load_profile(profile)
    resources: list[Any] = []
    try:
        if lock:
            who = holder or f"cielo session {env.profile.name!r} of {_user()}"
            instrument_lock = InstrumentLock(env.profile.instrument, holder=who)
            instrument_lock.acquire()
            resources.append(instrument_lock)
        subscribers = env.make_subscribers(callbacks=feedback)
        resources.append(subscribers)
        catalog = None
        if env.catalog_uri:
            from cielo.storage import open_catalog

            catalog = open_catalog(env.catalog_uri, plugin_manager=env.pm)
            resources.append(catalog)
        engine = RunEngine(plugin_manager=env.pm)
        try:
            subscribe_profile(engine, subscribers)
        except BaseException:
            engine.close()
            raise
    except BaseException:
        for obj in reversed(resources):
            obj.close() if hasattr(obj, "close") else obj.release()
        raise
    return Session(env, engine, catalog, resources)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name (a container without one)
        return f"uid {os.getuid()}"
