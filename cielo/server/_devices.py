"""Devices by name, sub-devices by dotted name (``"stage.x"``), for plan items given as JSON.

Clients name devices with strings; :class:`DeviceNames` resolves them against a
profile's devices, walking children by attribute name (cielo devices' ``children``,
ophyd's ``component_names``). Nothing is evaluated: a part that is not a declared child
is refused.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping, ValuesView
from typing import Any

__all__ = ["DeviceNames", "device_children"]


def device_children(device: Any) -> dict[str, Any]:
    """A device's direct sub-devices by attribute name (empty for a plain signal)."""
    children = getattr(device, "children", None)
    if isinstance(children, Mapping):
        return dict(children)
    names = getattr(device, "component_names", None)  # ophyd
    if isinstance(names, tuple | list):
        return {n: getattr(device, n) for n in names if isinstance(n, str)}
    return {}


class DeviceNames(Mapping[str, Any]):
    """A read-only mapping of the devices and, by dotted name, all their sub-devices.

    The names are listed once, at the first iteration (a profile's devices do not change
    while its environment is open), so ``len``, ``values()`` and ``items()`` cost a dict's
    iteration, not a walk of every device tree; a name is still looked up by walking its
    parts (a deep name not listed is found too).

    :param devices: top-level devices by name (e.g. ``env.devices``).
    """

    def __init__(self, devices: Mapping[str, Any]) -> None:
        self._devices = devices
        self._flat: dict[str, Any] | None = None

    def __getitem__(self, name: str) -> Any:
        if not isinstance(name, str):
            raise KeyError(name)
        flat = self._flat
        if flat is not None and name in flat:
            return flat[name]
        head, *rest = name.split(".")
        device = self._devices[head]
        for part in rest:
            children = device_children(device)
            if part.startswith("_") or part not in children:
                raise KeyError(name)
            device = children[part]
        return device

    def _table(self) -> dict[str, Any]:
        if self._flat is None:
            flat: dict[str, Any] = {}
            for name, device in self._devices.items():
                flat[name] = device
                flat.update(_dotted(name, device, depth=0))
            self._flat = flat
        return self._flat

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def values(self) -> ValuesView[Any]:
        return self._table().values()

    def items(self) -> ItemsView[str, Any]:
        return self._table().items()

    def __contains__(self, name: object) -> bool:
        try:
            self[name]  # type: ignore[index]
        except KeyError:
            return False
        return True


def _dotted(prefix: str, device: Any, depth: int) -> Iterator[tuple[str, Any]]:
    if depth > 8:  # a cycle or a very deep tree: list no further
        return
    for attr, child in device_children(device).items():
        if attr.startswith("_"):  # not a name clients may use (see __getitem__)
            continue
        name = f"{prefix}.{attr}"
        yield name, child
        yield from _dotted(name, child, depth + 1)
