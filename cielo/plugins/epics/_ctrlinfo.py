"""Control information for newly connected channels, fetched in batches on one thread.

Every channel needs its control information (units, precision, limits, enum strings) and
field type before it can be described. Fetching them one blocking ``get_ctrlvars`` at a
time, on the thread that delivers monitors, made every monitor update and put completion
wait behind them, and a pool of threads each polling libca made the thread that creates
channels wait for libca's lock. Here one thread takes whatever channels connected since
its last pass, sends every request, then collects the answers: one network round trip
per batch.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol

from ._transport import attached, epics_module

__all__ = ["request_control_info"]

logger = logging.getLogger("cielo.plugins.epics")

#: Seconds to wait for one batch's answers (each channel's, counted from the batch's send).
TIMEOUT = 2.0
#: Most channels sent in one batch.
BATCH = 2000
#: Seconds without a new connection before a batch smaller than ``BATCH`` is sent.
SETTLE = 0.01


class _Channel(Protocol):
    pvname: str
    pv: Any


#: ``done(md, native_type)``: ``md`` is ``None`` when no answer came.
Done = Callable[[dict[str, Any] | None, int], None]


class _Fetcher:
    def __init__(self) -> None:
        self._queue: list[tuple[_Channel, Done]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def request(self, channel: _Channel, done: Done) -> None:
        with self._cond:
            self._queue.append((channel, done))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="cielo-epics-ctrl", daemon=True
                )
                self._thread.start()
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
                for _channel, done in batch:
                    done(None, -1)

    def _fetch(self, batch: list[tuple[_Channel, Done]]) -> None:
        ca = epics_module().ca
        # one request per channel id: signals sharing a PV share pyepics' channel
        by_context: dict[Any, dict[int, tuple[Any, int, list[Done]]]] = defaultdict(dict)
        for channel, done in batch:
            pv = channel.pv
            chid = None if pv is None else pv.chid
            if chid is None or not ca.isConnected(chid):
                done(None, -1)
                continue
            key = int(chid.value) if hasattr(chid, "value") else int(chid)
            entry = by_context[pv.context].get(key)
            if entry is None:
                by_context[pv.context][key] = (chid, ca.promote_type(chid, use_ctrl=True), [done])
            else:
                entry[2].append(done)
        for context, items in by_context.items():
            with attached(ca, context):
                for chid, ftype, _dones in items.values():
                    ca.get_with_metadata(chid, ftype=ftype, wait=False)
                for chid, ftype, dones in items.values():
                    try:
                        md = ca.get_complete_with_metadata(chid, ftype=ftype, timeout=TIMEOUT)
                    except Exception:
                        md = None
                    if md is None:  # another thread's request of the same channel took the
                        # answer from pyepics' shared cache ("without initial get"): ask alone
                        md = ca.get_ctrlvars(chid, timeout=TIMEOUT, warn=False)
                    native = ca.field_type(chid)
                    for done in dones:
                        done(None if md is None else dict(md), native)


_fetcher = _Fetcher()


def request_control_info(channel: _Channel, done: Done) -> None:
    """Fetch ``channel``'s control information soon; ``done(md, native_type)`` is called
    on the fetch thread (``md`` ``None`` if it did not come within the timeout)."""
    _fetcher.request(channel, done)
