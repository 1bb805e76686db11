"""IPython magics for the everyday moves and reads: ``%mov``, ``%movr``, ``%wa``, ``%ct``.

They work on the IPython user namespace: ``RE`` runs the moves and reads (so Ctrl-C
pauses them like any plan), device names are looked up there (``slit.gap`` too).
``load_ipython_extension`` (``%load_ext cielo.shell``) registers them and shortens the
report of an interrupted or failed plan to one line.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any

from IPython.core.magic import Magics, line_magic, magics_class

from cielo.core import CieloError, Msg
from cielo.plans import mv, mvr

__all__ = ["CieloMagics", "detectors", "load_ipython_extension", "positioners", "where_all"]


def positioners(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The devices of ``namespace`` that move and know where they are (``set``, ``position``)."""
    return {
        name: obj
        for name, obj in _devices(namespace).items()
        if callable(getattr(obj, "set", None)) and hasattr(obj, "position")
    }


def detectors(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The devices of ``namespace`` that are triggered and read and do not move or fly."""
    return {
        name: obj
        for name, obj in _devices(namespace).items()
        if callable(getattr(obj, "trigger", None))
        and callable(getattr(obj, "read", None))
        and not callable(getattr(obj, "set", None))
        and not callable(getattr(obj, "kickoff", None))
    }


def _devices(namespace: Mapping[str, Any]) -> dict[str, Any]:
    env = namespace.get("env")
    devices = getattr(env, "devices", None)
    if isinstance(devices, Mapping):
        return dict(devices)
    return {
        name: obj
        for name, obj in namespace.items()
        if not name.startswith("_") and callable(getattr(obj, "read", None))
    }


def where_all(devices: Mapping[str, Any]) -> Any:
    """A table (``rich.table.Table``) of each positioner's position, units and limits."""
    from rich.table import Table

    table = Table(title="positioners", title_justify="left")
    for column in ("name", "position", "units", "low limit", "high limit"):
        table.add_column(column, justify="left" if column in ("name", "units") else "right")
    for name, device in devices.items():
        try:
            position = _number(device.position)
        except Exception as exc:  # a disconnected PV: say so, list the others
            position = f"unreadable: {type(exc).__name__}"
        units = getattr(device, "egu", None) or ""
        limits = getattr(device, "limits", None) or ("", "")
        table.add_row(name, position, str(units), *(_number(v) for v in limits))
    return table


def _writes_files(device: Any) -> bool:
    """Whether a detector's readings point into files (an area detector writing frames)."""
    try:
        keys = device.describe()
    except Exception:  # cannot tell: count it, and let the read report its problem
        return False
    return any(isinstance(k, Mapping) and k.get("external") for k in keys.values())


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, int | float) else str(value)


def _count_once(devices: Sequence[Any], readings: dict[str, Any]) -> Generator[Msg, Any, None]:
    """Trigger every detector, wait, read: no run is opened, nothing is stored."""
    group = f"ct-{id(readings)}"
    for device in devices:
        yield Msg("trigger", device, group=group)
    yield Msg("wait", None, group=group)
    for device in devices:
        readings.update((yield Msg("read", device)) or {})


@magics_class
class CieloMagics(Magics):
    """``%mov``, ``%movr``, ``%wa`` and ``%ct`` (as Bluesky's magics)."""

    def _resolve(self, name: str) -> Any:
        ns = self.shell.user_ns  # type: ignore[union-attr]
        head, *rest = name.split(".")
        if head not in ns:
            known = ", ".join(positioners(ns)) or "none"
            raise CieloError(f"no device named {head!r} in this session (positioners: {known})")
        obj = ns[head]
        for part in rest:
            obj = getattr(obj, part)
        return obj

    def _pairs(self, line: str, magic: str) -> list[Any]:
        words = line.split()
        if not words or len(words) % 2:
            raise CieloError(f"usage: %{magic} DEVICE VALUE [DEVICE VALUE ...]; got {line!r}")
        args: list[Any] = []
        for name, text in zip(words[::2], words[1::2], strict=True):
            try:
                value = float(text)
            except ValueError:
                raise CieloError(f"%{magic}: {text!r} (for {name}) is not a number") from None
            args += [self._resolve(name), value]
        return args

    def _run(self, plan: Any) -> Any:
        return self.shell.user_ns["RE"](plan)  # type: ignore[union-attr]

    @line_magic
    def mov(self, line: str) -> None:
        """``%mov motor 1 [motor2 2 ...]``: move to absolute positions, all at once."""
        self._run(mv(*self._pairs(line, "mov")))

    @line_magic
    def movr(self, line: str) -> None:
        """``%movr motor 0.1 [...]``: move by offsets from where the devices are."""
        self._run(mvr(*self._pairs(line, "movr")))

    @line_magic
    def wa(self, line: str) -> None:
        """``%wa [NAME ...]``: where all the positioners are (a table)."""
        from rich.console import Console

        ns = self.shell.user_ns  # type: ignore[union-attr]
        devices = {name: self._resolve(name) for name in line.split()} if line.split() else None
        Console().print(where_all(devices or positioners(ns)))

    @line_magic
    def ct(self, line: str) -> None:
        """``%ct [NAME ...]``: trigger and read the detectors once and print their values."""
        from rich.console import Console
        from rich.table import Table

        ns = self.shell.user_ns  # type: ignore[union-attr]
        chosen = [self._resolve(name) for name in line.split()]
        if not chosen:  # every detector, but not those that write files (a frame per %ct)
            found = detectors(ns)
            writers = [name for name, dev in found.items() if _writes_files(dev)]
            chosen = [dev for name, dev in found.items() if name not in writers]
            if writers:
                print(f"(not counted, they write files: {', '.join(writers)}; %ct NAME counts one)")
        readings: dict[str, Any] = {}
        self._run(_count_once(chosen, readings))
        table = Table(title="count", title_justify="left")
        table.add_column("field")
        table.add_column("value", justify="right")
        for key, reading in readings.items():
            value = reading.get("value") if isinstance(reading, Mapping) else reading
            shape = getattr(value, "shape", None)
            table.add_row(key, f"array {tuple(shape)}" if shape else _number(value))
        Console().print(table)


def _one_line(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> Any:
    """An interrupted or failed plan: one line instead of the engine's frames (``%tb`` shows them)."""
    print(f"{etype.__name__}: {value}  (%tb shows the traceback)")
    return None


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext cielo.shell``: the magics, and one-line reports of interrupted plans."""
    ipython.register_magics(CieloMagics)
    ipython.set_custom_exc(_SHORT_ERRORS, _one_line)


#: exceptions reported in one line: every cielo error, which includes the engine's
#: ``RunEngineInterrupted`` (a plan paused by Ctrl-C, with what to do next)
_SHORT_ERRORS: tuple[type[BaseException], ...] = (CieloError,)
