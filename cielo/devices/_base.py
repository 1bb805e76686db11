"""What signals and devices share: a name, a parent, a kind, an attribute path."""

from __future__ import annotations

from typing import Any

from ._kind import Kind, as_kind

__all__ = ["Named"]


class Named:
    """A node of a device tree: named, maybe with a parent, with a :class:`Kind`.

    Names propagate down: a child of ``motor1`` at attribute ``velocity`` is named
    ``motor1_velocity``, except children marked to carry their parent's name (a motor's
    readback reads as ``motor1``).
    """

    _name = ""
    _parent: Any = None
    _kind = Kind.normal
    #: ``int(kind)``, kept alongside for fast checks on the read path.
    _bits = int(Kind.normal)
    attr_name = ""
    parent_name = False

    def __init__(
        self, *, name: str = "", kind: Kind | str | int = Kind.normal, parent: Any = None
    ) -> None:
        self._name = name
        self._kind = as_kind(kind)
        self._bits = int(self._kind)
        self._parent = parent
        self.attr_name = ""
        #: Carry the parent's name instead of ``<parent>_<attr>`` (set by the parent).
        self.parent_name = False

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self.set_name(value)

    def set_name(self, name: str) -> None:
        """Rename this node (devices also rename their children)."""
        self._name = name

    @property
    def parent(self) -> Any | None:
        return self._parent

    @property
    def root(self) -> Named:
        node: Named = self
        while isinstance(node.parent, Named):
            node = node.parent
        return node

    @property
    def dotted_name(self) -> str:
        """The attribute path from the root device (``"motor1.user_readback"``)."""
        parts: list[str] = []
        node: Named = self
        while isinstance(node.parent, Named):
            parts.append(node.attr_name)
            node = node.parent
        return ".".join(reversed(parts))

    @property
    def kind(self) -> Kind:
        return self._kind

    @kind.setter
    def kind(self, value: Kind | str | int) -> None:
        self._kind = as_kind(value)
        self._bits = int(self._kind)

    def _attach(self, parent: Named, attr: str) -> None:
        self._parent = parent
        self.attr_name = attr
        if parent.name:
            self.set_name(parent.child_name(self))

    def child_name(self, child: Named) -> str:
        """The name a child takes from this node."""
        if child.parent_name or not self.name:
            return self.name or child.attr_name
        return f"{self.name}_{child.attr_name}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
