"""The RunEngine's subscribers: subscribe, flush, and the errors subscribers raise."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .._errors import RunEngineError
from ..documents import CallbackError
from ._bluesky import warn_old_subscribe_order
from ._parts import EnginePart

__all__ = ["Subscriptions"]

logger = logging.getLogger("cielo.engine")


class Subscriptions(EnginePart):
    """Document subscriptions of the RunEngine and what it does when a subscriber fails."""

    def subscribe(
        self,
        func: Callable[[str, dict[str, Any]], Any],
        name: str = "all",
        *,
        buffered: bool = True,
        group: str | None = None,
        fatal: bool = False,
    ) -> int:
        """Send documents to ``func(name, doc)``: all of them, or those called ``name``.

        Buffered subscribers run in their own thread and never stall the engine;
        subscribers with the same ``group`` share one thread and see each document in
        subscription order; ``buffered=False`` calls ``func`` on the engine's thread, in
        step with the plan. ``fatal=True``: this subscriber's errors fail the run, as
        ``fatal_callback_errors`` does for all of them (e.g. what stores the run).
        Returns a token for :meth:`unsubscribe`.
        """
        if isinstance(func, str) and callable(name):  # Bluesky's old argument order
            func, name = name, func  # type: ignore[assignment]
            warn_old_subscribe_order()
        return self._dispatcher.subscribe(func, name, buffered=buffered, group=group, fatal=fatal)

    def unsubscribe(self, token: int) -> None:
        self._dispatcher.unsubscribe(token)

    @property
    def callback_errors(self) -> list[CallbackError]:
        """Every subscriber exception so far (newest last; bounded)."""
        return list(self._dispatcher.errors)

    @property
    def callback_error_counts(self) -> dict[str, int]:
        """How often each subscriber failed during the running plan, or the last one (by
        the subscriber's name; only its first failure is logged with a traceback)."""
        if self._runner is not None:
            return dict(self._dispatcher.error_counts)
        return dict(self._last_error_counts)

    def _report_callback_errors(self) -> None:
        counts = self._last_error_counts = self._dispatcher.take_error_counts()
        if counts:
            logger.error(
                "callbacks failed during this plan: %s (RE.callback_errors has the latest)",
                "; ".join(f"{label} {n} time(s)" for label, n in counts.items()),
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every subscriber has handled the documents emitted so far."""
        return self._dispatcher.flush(timeout)

    @property
    def _errors_fail_runs(self) -> bool:
        """Some subscriber's errors fail the run (``fatal_callback_errors`` or ``fatal=True``)."""
        return self.fatal_callback_errors or self._dispatcher.has_fatal

    def _on_callback_error(self, error: CallbackError) -> None:
        if not (self.fatal_callback_errors or error.fatal):
            return
        if self._fatal_error is None:
            self._fatal_error = error
        if self._runner is not None:
            exc = RunEngineError(str(error))
            exc.__cause__ = error.exception
            self._request("fail", str(error), exc)
