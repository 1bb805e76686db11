"""A live view of area-detector frames, in the events or in external files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._base import Document
from ._figures import FigureCallback

__all__ = ["LiveImage"]

#: ``fetch(stream_resource_doc, index) -> frame or None``: read one frame from a file.
FrameReader = Callable[[Document, int], Any]


class LiveImage(FigureCallback):
    """Show the latest frame of ``field`` while the run goes.

    Frames held in the events are shown directly. Frames written to files (data keys
    with ``external``, announced by stream_resource/stream_datum or resource/datum
    documents) are read with ``fetch(stream_resource, index)`` when one is given (for
    example a catalog reader); without one, the view says where the frames are stored
    and how many have arrived, rather than showing nothing.
    """

    def __init__(
        self, field: str, *, fetch: FrameReader | None = None, cmap: str = "gray", **options: Any
    ) -> None:
        super().__init__(**options)
        self.field = field
        self.fetch = fetch
        self.cmap = cmap
        self.label = field
        self.frame: np.ndarray | None = None
        self.frames_seen = 0
        self.external_note: str | None = None
        self._resources: dict[str, Document] = {}
        self._pending: tuple[Document, int] | None = None
        self._ax: Any = None
        self._artist: Any = None
        self._text: Any = None
        self._external = False

    def start(self, doc: Document) -> None:
        super().start(doc)
        self.frame = None
        self.frames_seen = 0
        self.external_note = None
        self._resources = {}
        self._pending = None

    def _prepare(self, descriptor: Document) -> None:
        key = (descriptor.get("data_keys") or {}).get(self.field)
        if key is None:
            self.external_note = f"{self.field!r} is not in stream {self.stream!r}"
        self._external = bool(key and key.get("external"))

    def _setup(self, descriptor: Document) -> None:
        ax = self._ax = self.figure.add_subplot(1, 1, 1)
        ax.set_title(self.field, fontsize="small")
        ax.set_axis_off()  # until a frame arrives
        self._text = ax.text(
            0.5, 0.5, "", transform=ax.transAxes, ha="center", va="center", wrap=True
        )

    def stream_resource(self, doc: Document) -> None:
        if doc.get("data_key") == self.field:
            self._resources[doc["uid"]] = doc

    def resource(self, doc: Document) -> None:
        self._resources.setdefault(doc["uid"], doc)

    def stream_datum(self, doc: Document) -> None:
        sres = self._resources.get(doc["stream_resource"])
        if sres is None:
            return
        count = doc["indices"]["stop"] - doc["indices"]["start"]
        self.frames_seen += count
        self._pending = (sres, doc["indices"]["stop"] - 1)
        self.external_note = (
            f"{self.frames_seen} frame(s) of {self.field!r} written to\n{sres.get('uri')}\n"
            f"({sres.get('mimetype')})"
        )
        if self.fetch is None:
            self.external_note += "\nno frame reader given: frames are not shown live"
        self._mark_dirty()

    def event(self, doc: Document) -> None:
        if doc["descriptor"] not in self._descriptors:
            return
        value = doc["data"].get(self.field)
        if value is None:
            return
        if isinstance(value, str) or self._external:  # a datum id: the frame is in a file
            self.frames_seen += 1
            self.external_note = (
                f"{self.frames_seen} frame(s) of {self.field!r} stored externally "
                f"(datum {value!r})\nno frame reader given: frames are not shown live"
            )
        else:
            self.frame = value  # converted to an array only when drawn
            self.frames_seen += 1
        self._mark_dirty()

    def _update(self) -> None:
        if self._pending is not None and self.fetch is not None:
            sres, index = self._pending
            self._pending = None
            try:
                frame = self.fetch(sres, index)
            except Exception as exc:  # show the failure, keep the run going
                self.external_note = f"reading frame {index} failed: {exc}"
            else:
                if frame is not None:
                    self.frame = frame
                    self.external_note = None
        if self.frame is not None:
            img = np.asarray(self.frame, dtype=float)
            while img.ndim > 2 and img.shape[0] == 1:
                img = img[0]
            if self._artist is None:
                self._ax.set_axis_on()
                self._artist = self._ax.imshow(img, cmap=self.cmap, origin="upper")
                self.figure.colorbar(self._artist, ax=self._ax)
            else:
                self._artist.set_data(img)
            self._artist.set_clim(float(np.nanmin(img)), float(np.nanmax(img)))
            self._ax.set_title(f"{self.field}: frame {self.frames_seen}", fontsize="small")
        self._text.set_text(self.external_note or "")
        if self.frame is None and self.external_note is None:
            self._text.set_text("waiting for frames")
