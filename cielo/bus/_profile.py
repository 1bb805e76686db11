"""Publishing what a profile (or ``cielo run --publish URI``) asks for."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from ._codec import parse_uri
from ._publisher import Publisher
from ._transport import BusUnavailable, open_transport

__all__ = [
    "PUBLISHER_OPTIONS",
    "check_publish",
    "open_publisher",
    "publish_to_profile_bus",
    "publish_uri",
]

log = logging.getLogger("cielo.bus")

#: ``[publish]`` keys that configure the publisher rather than the transport
PUBLISHER_OPTIONS = ("max_buffer", "pack_events")


def publish_uri(env: Any, uri: str | None = None) -> str | None:
    """Where ``env`` publishes: ``uri`` if given, else the profile's ``[publish] uri``.

    A ``redis://`` URI without a stream gets the instrument's default stream,
    ``cielo.INSTRUMENT`` (one stream per instrument: the profile's ``[profile]
    instrument``, by default its name, so profiles driving one instrument share it).
    """
    target = uri or (env.profile.publish or {}).get("uri")
    if not target:
        return None
    parsed = parse_uri(target)
    if parsed.scheme == "redis" and not parsed.path:
        base, _, query = target.partition("?")
        stream = f"cielo.{env.profile.instrument}"
        target = f"{base.rstrip('/')}/{stream}" + (f"?{query}" if query else "")
    return target


def check_publish(env: Any, uri: str | None = None) -> None:
    """Refuse, before anything runs, a publish URI that is malformed or has no transport."""
    target = publish_uri(env, uri)
    if target is None:
        return
    transports = env.registry.get("bus_transports")
    scheme = parse_uri(target).scheme
    if scheme not in transports:
        open_transport(target, transports)  # raises the error that names the known schemes


@contextmanager
def open_publisher(env: Any, uri: str | None = None) -> Iterator[list[Publisher]]:
    """The publishers ``env`` asks for (none or one), closed (sending what they hold) on exit.

    Use around the RunEngine, so the engine drains into the publisher before it closes::

        with open_publisher(env, args.publish) as publishers:
            run_plan_text(env, text, subscribers=publishers)

    :param uri: overrides the profile's ``[publish] uri`` (then the table's other keys,
        which belong to the profile's bus, are not used).
    """
    target = publish_uri(env, uri)
    if target is None:
        yield []
        return
    table = {} if uri else {k: v for k, v in (env.profile.publish or {}).items() if k != "uri"}
    options = {k: table.pop(k) for k in PUBLISHER_OPTIONS if k in table}
    transport = open_transport(target, env.registry.get("bus_transports"), **table)
    check = getattr(transport, "check", None)
    if callable(check):
        problem = check()
        if problem:
            log.error("bus %s: %s; the run goes on and its documents are buffered", target, problem)
    with Publisher(transport, **options) as publisher:
        yield [publisher]


def publish_to_profile_bus(
    profile: Any, documents: Iterable[tuple[str, dict[str, Any]]], *, timeout: float = 10.0
) -> str | None:
    """Send ``documents`` to the bus a profile's ``[publish]`` table names and wait until
    they are sent: for a process that did not run the plan (the queue server closing the
    runs of a lost worker). Plugins are loaded as the profile says; no device is built.

    :param profile: a :class:`~cielo.core.Profile`, or its name or path.
    :returns: the bus URI, or ``None`` when the profile publishes nowhere.
    :raises BusUnavailable: not all were sent within ``timeout`` s.
    """
    from cielo.core import Profile, make_plugin_manager, read_profile
    from cielo.core.plugins import Registry

    prof = profile if isinstance(profile, Profile) else read_profile(profile)
    if not prof.publish:
        return None
    pm = make_plugin_manager(enable=prof.enable, disable=prof.disable)
    env = SimpleNamespace(profile=prof, registry=Registry(pm))
    uri = publish_uri(env)
    with open_publisher(env) as publishers:
        for publisher in publishers:
            for name, doc in documents:
                publisher(name, doc)
            if not publisher.flush(timeout):
                raise BusUnavailable(f"{uri}: documents not sent within {timeout} s")
    return uri
