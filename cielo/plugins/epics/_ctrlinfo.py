"""Control information for newly connected channels, fetched in batches on one thread.

Every channel needs its control information (units, precision, limits, enum strings) and
field type before it can be described. Fetching them one blocking ``get_ctrlvars`` at a
time, on the thread that delivers monitors, made every monitor update and put completion
wait behind them, and a pool of threads each polling libca made the thread that creates
channels wait for libca's lock. Here one thread takes whatever channels connected since
its last pass and gets all their ``DBR_CTRL`` structures in one synchronous group: one
network round trip per batch, no Python callback per channel.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from . import _ca, _dbr
from ._transport import attached, epics_module

__all__ = ["request_control_info"]

logger = logging.getLogger("cielo.plugins.epics")

#: Seconds to wait for one batch's answers (each channel's, counted from the batch's send).
TIMEOUT = 2.0
#: Most channels sent in one batch.
BATCH = 2000
#: Seconds without a new connection before a batch smaller than ``BATCH`` is sent.
SETTLE = 0.01


#: ``done(md, native_type, element_count)``: ``md`` is ``None`` when no answer came.
Done = Callable[[dict[str, Any] | None, int, int], None]
Request = tuple[int, Any, Done]  # chid, context, done
DBR_CTRL, STRING = 28, 0


class _Fetcher:
    def __init__(self) -> None:
        self._queue: list[Request] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def request(self, chid: int, context: Any, done: Done) -> None:
        with self._cond:
            self._queue.append((chid, context, done))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="cielo-epics-ctrl", daemon=True
                )
                self._thread.start()
            if len(self._queue) == 1:  # while it settles, the thread looks by itself
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                # while channels keep connecting (a profile's thousands of PVs), let them:
                # one batch once they pause costs libca's lock far less than many
                while len(self._queue) < BATCH:
                    size = len(self._queue)
                    self._cond.wait(SETTLE)
                    if len(self._queue) == size:
                        break
                batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
            try:
                self._fetch(batch)
            except Exception:  # never let the thread die: report, fail the batch
                logger.exception("fetching control information failed")
                for _chid, _context, done in batch:
                    done(None, -1, 0)

    def _fetch(self, batch: list[Request]) -> None:
        ca = epics_module().ca
        by_context: dict[Any, list[Request]] = defaultdict(list)
        for request in batch:
            by_context[request[1]].append(request)
        for context, requests in by_context.items():
            with attached(ca, context):
                # the field type is -1 while libca still counts the channel unconnected
                types = [_ca.native(chid) for chid, _, _ in requests]
                asked = [
                    (chid, native + DBR_CTRL, 1)
                    for (chid, _, _), (native, _n) in zip(requests, types, strict=True)
                    if native > STRING  # a string has no control information
                ]
                answers = iter(_dbr.ctrl_values(_ca.get_many(asked, TIMEOUT)))
            for (_chid, _context, done), (native, count) in zip(requests, types, strict=True):
                if native < 0:
                    done(None, -1, 0)
                    continue
                md: dict[str, Any] | None = {}
                if native > STRING:
                    md = next(answers)
                done(md, native, count)


_fetcher = _Fetcher()


def request_control_info(chid: int, context: Any, done: Done) -> None:
    """Fetch the field type, element count and control information of channel ``chid``
    soon; ``done(md, native_type, count)`` is called on the fetch thread (``md`` ``None``
    if it did not come within the timeout, ``native_type`` -1 if it is not connected)."""
    _fetcher.request(chid, context, done)
