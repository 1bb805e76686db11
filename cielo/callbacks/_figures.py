"""What every live plot shares: lazy matplotlib, throttled redraws, headless PNG files."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from ._base import CallbackBase, Document
from ._gui import on_main_thread

__all__ = ["FigureCallback", "is_headless"]

_NON_INTERACTIVE = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def is_headless() -> bool:
    """Whether matplotlib's backend draws to files only (``Agg`` and friends)."""
    import matplotlib

    return matplotlib.get_backend().lower() in _NON_INTERACTIVE


class FigureCallback(CallbackBase):
    """Base of the live plots: one figure per run, redrawn at most every ``min_interval``.

    Per event a plot only stores numbers; the figure is redrawn when at least
    ``min_interval`` seconds have passed since the last redraw, and once more at the run's
    end, so a fast scan never pays for a redraw per point. ``headless`` (default: when
    matplotlib's backend is non-interactive, e.g. ``Agg``) draws on a private figure
    without pyplot; with ``directory`` set, the final figure of each run is written there
    as PNG, named by ``filename`` (fields ``{scan_id}``, ``{plan_name}``, ``{uid}``,
    ``{short_uid}``, ``{field}``, ``{stream}``). :attr:`saved` lists the files written.

    Interactive figures are created and drawn on the main thread: called from another
    thread (a buffered subscriber), the plot queues that work for
    :func:`~cielo.callbacks.process_gui_events`.
    """

    #: Text for the ``{field}`` part of file names; subclasses set it from their fields.
    label = "plot"

    def __init__(
        self,
        *,
        stream: str = "primary",
        headless: bool | None = None,
        directory: str | os.PathLike[str] | None = None,
        filename: str = "{scan_id}-{plan_name}-{field}.png",
        min_interval: float = 0.25,
        figsize: tuple[float, float] = (6.4, 4.2),
        dpi: int = 100,
    ) -> None:
        self.stream = stream
        self.headless = headless
        self.directory = directory
        self.filename = filename
        self.min_interval = min_interval
        self.figsize = figsize
        self.dpi = dpi
        self.figure: Any = None
        self.saved: list[str] = []
        self.start_doc: Document = {}
        self.stop_doc: Document | None = None
        self.redraws = 0
        self._descriptors: set[str] = set()
        self._last_draw = float("-inf")
        self._dirty = False
        self._queued = False  # a redraw waits for the main thread

    # -- figure lifecycle -------------------------------------------------------
    def _make_figure(self) -> Any:
        headless = is_headless() if self.headless is None else self.headless
        self.headless = headless
        if headless:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            fig = Figure(figsize=self.figsize, dpi=self.dpi)
            FigureCanvasAgg(fig)
            return fig
        import matplotlib.pyplot as plt

        return plt.figure(figsize=self.figsize, dpi=self.dpi)

    def _prepare(self, descriptor: Document) -> None:
        """Choose fields and allocate data for the run's first descriptor of the stream.

        Runs on the calling thread before any event, unlike :meth:`_setup`, which may
        wait for the main thread.
        """

    def _setup(self, descriptor: Document) -> None:
        """Create artists on ``self.figure`` (after :meth:`_prepare`)."""
        raise NotImplementedError

    def _update(self) -> None:
        """Push the data received so far into the artists (no drawing)."""
        raise NotImplementedError

    def _title(self) -> str:
        start = self.start_doc
        text = f"scan {start.get('scan_id', '?')}"
        if start.get("plan_name"):
            text += f" · {start['plan_name']}"
        if self.stop_doc is not None:
            text += f" · {self.stop_doc.get('exit_status', '?')}"
        return text

    def _mark_dirty(self) -> None:
        self._dirty = True
        if self.headless:
            return  # nobody is looking: draw once, at the end
        now = time.monotonic()
        if now - self._last_draw >= self.min_interval and not self._queued:
            self._last_draw = now
            self._queued = True
            on_main_thread(self._queued_redraw)

    def _queued_redraw(self) -> None:
        self._queued = False
        self._redraw()

    def _redraw(self) -> None:
        if self.figure is None:
            return
        self._update()
        self.figure.suptitle(self._title(), fontsize="medium")
        self._last_draw = time.monotonic()
        self._dirty = False
        self.redraws += 1
        if not self.headless:
            canvas = self.figure.canvas
            canvas.draw_idle()
            if threading.current_thread() is threading.main_thread():
                canvas.flush_events()

    # -- documents ----------------------------------------------------------------
    def start(self, doc: Document) -> None:
        self.start_doc = doc
        self.stop_doc = None
        self.figure = None
        self._descriptors = set()
        self._last_draw = float("-inf")
        self._queued = False
        self.redraws = 0

    def descriptor(self, doc: Document) -> None:
        if doc.get("name", "primary") != self.stream:
            return
        first = not self._descriptors
        self._descriptors.add(doc["uid"])
        if not first:
            return
        self._prepare(doc)
        if self.headless is None:
            self.headless = is_headless()
        if self.headless:
            self._create(doc)
        else:  # GUI toolkits create and draw figures on the main thread only
            on_main_thread(lambda: self._create(doc))

    def _create(self, descriptor: Document) -> None:
        self.figure = self._make_figure()
        self._setup(descriptor)

    def stop(self, doc: Document) -> None:
        self.stop_doc = doc
        if self.headless:
            self._finish()
        else:
            on_main_thread(self._finish)

    def _finish(self) -> None:
        if self.figure is None:
            return
        self._redraw()
        if self.directory is not None:
            self.saved.append(self.save())

    def save(self, path: str | os.PathLike[str] | None = None) -> str:
        """Write the figure as PNG (default: ``directory/filename``); return the path."""
        if self.figure is None:
            raise RuntimeError(f"{type(self).__name__} has no figure yet: no run has started")
        if path is None:
            start = self.start_doc
            uid = str(start.get("uid", "run"))
            name = self.filename.format(
                scan_id=start.get("scan_id", 0),
                plan_name=start.get("plan_name", "run"),
                uid=uid,
                short_uid=uid[:8],
                field=self.label,
                stream=self.stream,
            )
            path = os.path.join(os.fspath(self.directory or "."), name)
        path = os.fspath(path)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self.figure.savefig(path, format="png")
        return path

    def close(self) -> None:
        """Release the figure (pyplot keeps interactive figures until closed)."""
        if self.figure is not None and not self.headless:
            import matplotlib.pyplot as plt

            plt.close(self.figure)
        self.figure = None
