"""Live 2D plots: a raster filled cell by cell (grid scans) or a coloured scatter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._base import Document
from ._figures import FigureCallback
from ._hints import independent_fields

__all__ = ["LiveGrid", "LiveScatter"]


class LiveScatter(FigureCallback):
    """Scatter ``z`` coloured at positions ``(x, y)``: any 2D scan (spirals, adaptive).

    ``x`` and ``y`` default to the run's second and first dimension (inner and outer
    motor of a grid scan).
    """

    def __init__(
        self,
        z: str,
        x: str | None = None,
        y: str | None = None,
        *,
        cmap: str = "viridis",
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.z, self.x, self.y, self.cmap = z, x, y, cmap
        self.label = z
        self.points: list[tuple[float, float, float]] = []
        self._keys: tuple[str, str] = ("", "")
        self._ax: Any = None
        self._artist: Any = None
        self._colorbar: Any = None

    def start(self, doc: Document) -> None:
        super().start(doc)
        self.points = []

    def _axes_fields(self) -> tuple[str, str]:
        dims = independent_fields(self.start_doc, self.stream)
        y = self.y or (dims[0] if dims else "")
        x = self.x or (dims[1] if len(dims) > 1 else "")
        if not x or not y:
            raise ValueError(
                f"{type(self).__name__}({self.z!r}) needs two axes; the run has dimensions "
                f"{dims}: pass x=... and y=..."
            )
        return x, y

    def _prepare(self, descriptor: Document) -> None:
        self._keys = self._axes_fields()

    def _setup(self, descriptor: Document) -> None:
        ax = self._ax = self.figure.add_subplot(1, 1, 1)
        ax.set_xlabel(self._keys[0])
        ax.set_ylabel(self._keys[1])
        ax.set_title(self.z, fontsize="small")
        self._artist = ax.scatter([], [], c=[], cmap=self.cmap)
        self._colorbar = self.figure.colorbar(self._artist, ax=ax)

    def event(self, doc: Document) -> None:
        if doc["descriptor"] not in self._descriptors:
            return
        data = doc["data"]
        x, y = self._keys
        if x in data and y in data and self.z in data:
            self.points.append((data[x], data[y], data[self.z]))
            self._mark_dirty()

    def _update(self) -> None:
        if not self.points:
            return
        pts = np.asarray(self.points, dtype=float)
        self._artist.set_offsets(pts[:, :2])
        self._artist.set_array(pts[:, 2])
        self._artist.set_clim(np.nanmin(pts[:, 2]), np.nanmax(pts[:, 2]))
        pad_x = 0.05 * (np.ptp(pts[:, 0]) or 1.0)
        pad_y = 0.05 * (np.ptp(pts[:, 1]) or 1.0)
        self._ax.set_xlim(pts[:, 0].min() - pad_x, pts[:, 0].max() + pad_x)
        self._ax.set_ylim(pts[:, 1].min() - pad_y, pts[:, 1].max() + pad_y)


class LiveGrid(LiveScatter):
    """Fill a raster of ``z`` from a grid scan, cell by cell, as the points arrive.

    ``shape`` and ``extents`` (``[[start, stop] per axis]``, outer axis first) default to
    the start document's ``shape`` and ``extents``. Each point lands in the cell nearest
    its motor positions, so snaking and any visiting order fill the right cells.
    """

    def __init__(
        self,
        z: str,
        x: str | None = None,
        y: str | None = None,
        *,
        shape: Sequence[int] | None = None,
        extents: Sequence[Sequence[float]] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(z, x, y, **options)
        self.shape = shape
        self.extents = extents
        self.grid: np.ndarray | None = None
        self._geometry: tuple[Sequence[int], Sequence[Sequence[float]]] | None = None

    def _prepare(self, descriptor: Document) -> None:
        shape = self.shape or self.start_doc.get("shape")
        extents = self.extents or self.start_doc.get("extents")
        if not shape or not extents or len(shape) != 2 or len(extents) != 2:
            raise ValueError(
                f"LiveGrid({self.z!r}) needs a 2D shape and extents; the start document "
                f"has shape={shape!r}, extents={extents!r}: pass shape=... and extents=..., "
                "or use LiveScatter"
            )
        self._keys = self._axes_fields()
        self._geometry = (shape, extents)
        self.grid = np.full(tuple(int(n) for n in shape), np.nan)

    def _setup(self, descriptor: Document) -> None:
        assert self._geometry is not None and self.grid is not None
        (ny, nx), ((y0, y1), (x0, x1)) = self._geometry
        ax = self._ax = self.figure.add_subplot(1, 1, 1)
        dx = (x1 - x0) / max(nx - 1, 1) / 2
        dy = (y1 - y0) / max(ny - 1, 1) / 2
        self._artist = ax.imshow(
            self.grid,
            origin="lower",
            aspect="auto",
            cmap=self.cmap,
            extent=(x0 - dx, x1 + dx, y0 - dy, y1 + dy),
            interpolation="nearest",
        )
        self._colorbar = self.figure.colorbar(self._artist, ax=ax)
        ax.set_xlabel(self._keys[0])
        ax.set_ylabel(self._keys[1])
        ax.set_title(self.z, fontsize="small")

    def event(self, doc: Document) -> None:
        if doc["descriptor"] not in self._descriptors or self.grid is None:
            return
        data = doc["data"]
        x, y = self._keys
        if x not in data or y not in data or self.z not in data:
            return
        assert self._geometry is not None
        (ny, nx), ((y0, y1), (x0, x1)) = self._geometry
        i = round((data[y] - y0) / (y1 - y0) * (ny - 1)) if y1 != y0 else 0
        j = round((data[x] - x0) / (x1 - x0) * (nx - 1)) if x1 != x0 else 0
        if 0 <= i < ny and 0 <= j < nx:
            self.grid[i, j] = data[self.z]
        self.points.append((data[x], data[y], data[self.z]))
        self._mark_dirty()

    def _update(self) -> None:
        if self.grid is None or not np.isfinite(self.grid).any():
            return
        self._artist.set_data(self.grid)
        self._artist.set_clim(np.nanmin(self.grid), np.nanmax(self.grid))
