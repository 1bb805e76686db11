"""Progress of long runs and long moves in the terminal (rich): points done, elapsed, ETA.

:class:`LiveProgress` is a document callback (points done of the run start's
``num_points``) and, as :attr:`LiveProgress.waiting_hook`, the engine's ``waiting_hook``
(what a ``wait`` is waiting for: a motor's move with its position and target, or a
detector). Nothing shows for what ends within ``delay`` seconds, so short scans print
exactly what they printed before; text printed meanwhile (the live table) appears above
the bars.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from ._base import CallbackBase, Document

__all__ = ["LiveProgress"]


class LiveProgress(CallbackBase):
    """Progress bars for runs that last longer than ``delay`` seconds, and for slow waits.

    :param delay: seconds a run or a wait must last before its bar appears.
    :param console: a ``rich.console.Console`` to draw on (default: standard output);
        nothing is drawn when it is neither a terminal nor a notebook.
    """

    def __init__(self, *, delay: float = 2.0, console: Any = None) -> None:
        from rich.console import Console

        self.delay = delay
        self.console = console if console is not None else Console()
        self.enabled = bool(self.console.is_terminal or self.console.is_jupyter)
        self._lock = threading.RLock()
        self._progress: Any = None
        self._runs: dict[str, _Run] = {}  # by run start uid
        self._descriptors: dict[str, str] = {}  # descriptor uid -> run uid (primary only)
        self._waits: list[Any] = []  # task ids of the current wait
        self._wait_timer: threading.Timer | None = None
        self._hidden = False  # the attached engine is paused or idle: draw nothing

    # -- documents ----------------------------------------------------------
    def start(self, doc: Document) -> None:
        total = doc.get("num_points")
        label = f"scan {doc.get('scan_id', '?')} {doc.get('plan_name', 'run')}"
        with self._lock:
            self._runs[doc["uid"]] = _Run(label, total if isinstance(total, int) else None)

    def descriptor(self, doc: Document) -> None:
        if doc.get("name") == "primary":
            self._descriptors[doc["uid"]] = doc["run_start"]

    def event(self, doc: Document) -> None:
        self._advance(doc["descriptor"], 1)

    def event_page(self, doc: Document) -> None:
        self._advance(doc["descriptor"], len(doc.get("seq_num") or ()))

    def stop(self, doc: Document) -> None:
        with self._lock:
            run = self._runs.pop(doc["run_start"], None)
            if run is not None and run.task is not None:
                self._progress.update(run.task, visible=False)
                self._progress.remove_task(run.task)
            self._stop_if_idle()

    def _advance(self, descriptor: str, n: int) -> None:
        with self._lock:
            run = self._runs.get(self._descriptors.get(descriptor, ""))
            if run is None:
                return
            run.done += n
            count = f"{run.done}/{run.total} points" if run.total else f"{run.done} points"
            if self._hidden:
                return
            if run.task is None and time.monotonic() - run.began >= self.delay:
                bars = self._bars()
                run.task = bars.add_task(
                    run.label, total=run.total, completed=run.done, count=count
                )
                for task in bars.tasks:  # elapsed counts from the run's start, not the bar's
                    if task.id == run.task:
                        task.start_time = bars.get_time() - (time.monotonic() - run.began)
            elif run.task is not None:
                self._progress.update(run.task, completed=run.done, count=count)

    # -- the engine: its waits and its state ------------------------------------
    def attach(self, engine: Any) -> None:
        """Follow ``engine``: its slow waits (as ``RE.waiting_hook``, unless one is set) and
        its state (the bars go away while it is paused or idle, and come back on resume)."""
        if engine.waiting_hook is None:
            engine.waiting_hook = self.waiting_hook
        engine.add_state_hook(self.engine_state)

    def engine_state(self, new: Any, old: Any) -> None:
        """A state hook: hide every bar when the engine pauses or goes idle."""
        self._hidden = str(new) in ("paused", "idle")
        if self._hidden:
            with self._lock:
                if self._wait_timer is not None:
                    self._wait_timer.cancel()
                    self._wait_timer = None
                for run in self._runs.values():
                    run.task = None  # drawn again, from the run's start, at its next point
                self._waits.clear()
                if self._progress is not None:
                    self._progress.stop()
                    self._progress = None

    # -- waits (RE.waiting_hook) --------------------------------------------
    def waiting_hook(self, statuses: Iterable[Any] | None) -> None:
        """Called by the engine with what a ``wait`` waits for, then with ``None``."""
        with self._lock:
            if self._wait_timer is not None:
                self._wait_timer.cancel()
                self._wait_timer = None
            self._end_waits()
            if statuses is not None and self.enabled:
                pending = [s for s in statuses if not getattr(s, "done", False)]
                if pending:
                    timer = threading.Timer(self.delay, self._show_waits, (pending,))
                    timer.daemon = True
                    self._wait_timer = timer
                    timer.start()

    def _show_waits(self, statuses: list[Any]) -> None:
        with self._lock:
            if self._wait_timer is None or self._hidden:  # the wait ended meanwhile
                return
            for status in statuses:
                if getattr(status, "done", False):
                    continue
                target = getattr(status, "target", None)
                name = getattr(getattr(status, "obj", None), "name", None) or "device"
                if target is not None and callable(getattr(status, "watch", None)):
                    task = self._bars().add_task(
                        f"moving {name} to {_num(target)}", total=1.0, count=""
                    )
                    status.watch(_MoveWatcher(self, task))
                else:
                    task = self._bars().add_task(f"waiting for {name}", total=None, count="")
                self._waits.append(task)

    def _end_waits(self) -> None:
        for task in self._waits:
            self._progress.remove_task(task)
        self._waits.clear()
        self._stop_if_idle()

    # -- the display ----------------------------------------------------------
    def _bars(self) -> Any:
        if self._progress is None:
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[count]}"),
                TextColumn("elapsed"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
                disable=not self.enabled,
            )
            self._progress.start()
        return self._progress

    def _stop_if_idle(self) -> None:
        if self._progress is not None and not self._runs and not self._waits:
            self._progress.stop()
            self._progress = None

    def close(self) -> None:
        """Remove every bar (the display stops)."""
        with self._lock:
            if self._wait_timer is not None:
                self._wait_timer.cancel()
            self._runs.clear()
            self._waits.clear()
            self._stop_if_idle()


class _Run:
    __slots__ = ("began", "done", "label", "task", "total")

    def __init__(self, label: str, total: int | None) -> None:
        self.label, self.total = label, total
        self.began = time.monotonic()
        self.done = 0
        self.task: Any = None


class _MoveWatcher:
    """Feeds a move's progress (``fraction``, ``current``) into its bar."""

    def __init__(self, owner: LiveProgress, task: Any) -> None:
        self.owner, self.task = owner, task

    def __call__(self, **progress: Any) -> None:
        with self.owner._lock:
            if self.task in self.owner._waits and self.owner._progress is not None:
                fraction = progress.get("fraction")
                unit = progress.get("unit") or ""
                self.owner._progress.update(
                    self.task,
                    completed=fraction if isinstance(fraction, float) else None,
                    description=f"moving {progress.get('name')} to {_num(progress.get('target'))}"
                    f" {unit}, at {_num(progress.get('current'))}",
                )


def _num(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, int | float) else str(value)
