"""The device protocols: duck-typed, runtime-checkable, compatible with Bluesky's.

Plans, the RunEngine and agents are typed against these protocols, never against
concrete classes, so ophyd (threads + status objects), ophyd-async (asyncio) and
cielo's own devices all run. A method may return a plain value, a status object
(:class:`Status`) or an awaitable; the RunEngine accepts all three.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import (
    Any,
    Literal,
    NotRequired,
    Protocol,
    TypeAlias,
    TypedDict,
    TypeVar,
    runtime_checkable,
)

__all__ = [
    "Dtype",
    "Reading",
    "DataKey",
    "Location",
    "Hints",
    "SyncOrAsync",
    "Status",
    "HasName",
    "HasParent",
    "HasHints",
    "Readable",
    "Configurable",
    "Triggerable",
    "Movable",
    "Locatable",
    "Stageable",
    "Preparable",
    "Flyable",
    "Collectable",
    "EventCollectable",
    "EventPageCollectable",
    "WritesStreamAssets",
    "WritesExternalAssets",
    "Stoppable",
    "Pausable",
    "Subscribable",
    "Checkable",
]

T = TypeVar("T")
#: What a device method may return: the value itself, a status, or an awaitable.
SyncOrAsync: TypeAlias = T | Awaitable[T]

Dtype = Literal["string", "number", "array", "boolean", "integer"]


class Reading(TypedDict):
    """One signal's value at one time, as returned inside ``read()``."""

    value: Any
    timestamp: float
    alarm_severity: NotRequired[int]
    message: NotRequired[str]


class DataKey(TypedDict):
    """How a reading is described in ``describe()`` (event-model ``data_keys``)."""

    source: str
    dtype: Dtype
    shape: Sequence[int | None]
    dtype_numpy: NotRequired[str]
    external: NotRequired[str]
    units: NotRequired[str | None]
    precision: NotRequired[int | None]
    lower_ctrl_limit: NotRequired[float | None]
    upper_ctrl_limit: NotRequired[float | None]
    lower_disp_limit: NotRequired[float | None]
    upper_disp_limit: NotRequired[float | None]
    choices: NotRequired[list[str]]
    limits: NotRequired[dict[str, Any]]
    object_name: NotRequired[str]


class Location(TypedDict):
    """Where a movable is asked to be (``setpoint``) and is (``readback``)."""

    setpoint: Any
    readback: Any


class Hints(TypedDict, total=False):
    """Which fields a device suggests plotting and showing (``{"fields": [...]}``)."""

    fields: list[str]
    dimensions: list[tuple[list[str], str]]
    gridding: Literal["rectilinear", "rectilinear_nonsequential"]


@runtime_checkable
class Status(Protocol):
    """Completion of an operation: ophyd-style status, as cielo's and ophyd's are."""

    @property
    def done(self) -> bool: ...

    @property
    def success(self) -> bool: ...

    def add_callback(self, callback: Callable[[Any], None]) -> None: ...

    def exception(self, timeout: float | None = 0.0) -> BaseException | None: ...


@runtime_checkable
class HasName(Protocol):
    @property
    def name(self) -> str: ...


@runtime_checkable
class HasParent(Protocol):
    @property
    def parent(self) -> Any | None: ...


@runtime_checkable
class HasHints(HasName, Protocol):
    @property
    def hints(self) -> Hints: ...


@runtime_checkable
class Readable(HasName, Protocol):
    """Something a plan can read: ``read()`` and ``describe()`` with the same keys."""

    def read(self) -> SyncOrAsync[dict[str, Reading]]: ...

    def describe(self) -> SyncOrAsync[dict[str, DataKey]]: ...


@runtime_checkable
class Configurable(Protocol):
    def read_configuration(self) -> SyncOrAsync[dict[str, Reading]]: ...

    def describe_configuration(self) -> SyncOrAsync[dict[str, DataKey]]: ...


@runtime_checkable
class Triggerable(Protocol):
    def trigger(self) -> Any: ...


@runtime_checkable
class Movable(Protocol):
    def set(self, value: Any, *args: Any, **kwargs: Any) -> Any: ...


@runtime_checkable
class Locatable(Movable, Protocol):
    def locate(self) -> SyncOrAsync[Location]: ...


@runtime_checkable
class Stageable(Protocol):
    def stage(self) -> Any: ...

    def unstage(self) -> Any: ...


@runtime_checkable
class Preparable(Protocol):
    def prepare(self, value: Any) -> Any: ...


@runtime_checkable
class Flyable(HasName, Protocol):
    def kickoff(self) -> Any: ...

    def complete(self) -> Any: ...


@runtime_checkable
class Collectable(HasName, Protocol):
    def describe_collect(
        self,
    ) -> SyncOrAsync[dict[str, DataKey] | dict[str, dict[str, DataKey]]]: ...


@runtime_checkable
class EventCollectable(Collectable, Protocol):
    def collect(self) -> SyncOrAsync[Iterator[dict[str, Any]]]: ...


@runtime_checkable
class EventPageCollectable(Collectable, Protocol):
    def collect_pages(self) -> SyncOrAsync[Iterator[dict[str, Any]]]: ...


@runtime_checkable
class WritesStreamAssets(Protocol):
    """Writes bulk data to files and reports it as stream_resource/stream_datum."""

    def collect_asset_docs(self, index: int | None = None) -> Any: ...

    def get_index(self) -> SyncOrAsync[int]: ...


@runtime_checkable
class WritesExternalAssets(Protocol):
    """Writes bulk data and reports it as (stream_)resource/(stream_)datum documents."""

    def collect_asset_docs(self) -> Any: ...


@runtime_checkable
class Stoppable(Protocol):
    def stop(self, success: bool = True) -> Any: ...


@runtime_checkable
class Pausable(Protocol):
    def pause(self) -> Any: ...

    def resume(self) -> Any: ...


@runtime_checkable
class Subscribable(HasName, Protocol):
    """Pushes new readings to callbacks (used for monitors and suspenders)."""

    def subscribe(self, function: Callable[..., None], *args: Any, **kwargs: Any) -> Any: ...

    def clear_sub(self, function: Callable[..., None]) -> Any: ...


@runtime_checkable
class Checkable(Protocol):
    def check_value(self, value: Any) -> Any: ...
