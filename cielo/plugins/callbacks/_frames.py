"""Read area-detector frames from the files named by stream_resource documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["read_frame"]


def read_frame(
    stream_resource: Mapping[str, Any], index: int, root_map: Mapping[str, str] | None = None
) -> Any:
    """Frame ``index`` of a stream resource, through the storage readers (HDF5, TIFF, ...).

    The file is opened and closed on each call: live views read a frame only when they
    redraw, and a file the detector still writes is never held open.
    """
    from cielo.storage import ReaderRegistry

    registry = ReaderRegistry(root_map=root_map)
    try:
        frames = registry.reader(stream_resource).read(index, index + 1)
        return frames[0]
    finally:
        registry.close()
