"""Connecting many devices at once, without a RunEngine, with one error for all failures."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from cielo.core import ConnectionTimeoutError, Status

from ._device import Device
from ._signal import DEFAULT_TIMEOUT, Signal

__all__ = ["connect_all", "NotConnectedError"]


class NotConnectedError(ConnectionTimeoutError):
    """Some signals did not connect; :attr:`failures` maps each device name to
    ``{attribute path: "source: reason"}`` and the message prints that tree."""

    def __init__(self, message: str, failures: dict[str, dict[str, str]]) -> None:
        super().__init__(message)
        self.failures = failures


def connect_all(
    devices: Iterable[Any], timeout: float | None = DEFAULT_TIMEOUT, *, mock: bool = False
) -> None:
    """Connect every signal of ``devices`` concurrently and wait at most ``timeout`` s.

    All connections start before any is waited on, so the total time is that of the
    slowest signal, not the sum. Raises :class:`NotConnectedError` listing, per device,
    every signal that failed (attribute path, source such as the PV name, and reason).
    ``devices`` may be a mapping (``env.devices``). Objects that are not cielo devices but
    have ``wait_for_connection(timeout)`` (ophyd) are waited on after the others; other
    objects have nothing to connect and are skipped. ``mock=True`` replaces every cielo signal's transport
    by a :class:`MockBackend` in memory, so tests run without hardware.
    """
    if isinstance(devices, Mapping):
        devices = devices.values()
    started: list[tuple[str, str, Signal[Any], Status | BaseException]] = []
    others: list[Any] = []
    total = 0
    for device in devices:
        if isinstance(device, Signal):
            signals = [(device.name, device)]
        elif isinstance(device, Device):
            signals = [(sig.dotted_name, sig) for sig in device.walk_signals()]
        elif hasattr(device, "wait_for_connection"):
            others.append(device)
            continue
        else:
            continue  # nothing to connect (a plain object offered as a device)
        for path, sig in signals:
            total += 1
            if not mock and sig.connected:
                continue  # already up: nothing to wait for
            try:
                status: Status | BaseException = sig.connect(timeout, mock=mock)
            except Exception as exc:  # a transport that fails at once
                status = exc
            started.append((device.name, path, sig, status))

    deadline = None if timeout is None else time.monotonic() + timeout
    failures: dict[str, dict[str, str]] = {}
    for device_name, path, sig, status in started:
        if isinstance(status, BaseException):
            reason = f"{type(status).__name__}: {status}"
        else:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            error = status.exception(remaining)
            if status.done and error is None:
                continue
            timed_out = error is None or isinstance(error, TimeoutError)
            reason = "timed out" if timed_out else str(error)
        failures.setdefault(device_name, {})[path or sig.name] = f"{sig.source}: {reason}"
    for obj in others:
        try:
            obj.wait_for_connection(timeout=timeout)
        except Exception as exc:
            failures.setdefault(getattr(obj, "name", repr(obj)), {})["*"] = str(exc)
    if failures:
        count = sum(len(v) for v in failures.values())
        lines = [f"{count} of {total} signals did not connect within {timeout} s:"]
        for device_name, items in failures.items():
            lines.append(f"  {device_name}")
            lines.extend(f"    {path}  {detail}" for path, detail in items.items())
        raise NotConnectedError("\n".join(lines), failures)
