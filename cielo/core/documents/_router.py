"""Give each run its own callbacks: several runs at once, nested runs, isolated failures."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._dispatch import DOCUMENT_NAMES

__all__ = ["CallbackFailure", "RunRouter", "callback_name", "per_run"]

# The failures a router isolates are its callbacks' failures: log them where callbacks log.
logger = logging.getLogger("cielo.callbacks")

Document = dict[str, Any]
DocumentCallback = Callable[[str, Document], Any]
#: ``factory(start_doc)`` returns a callback, an iterable of callbacks, or ``None``.
RunFactory = Callable[[Document], "DocumentCallback | Iterable[DocumentCallback] | None"]

_BY_DESCRIPTOR = frozenset(("event", "event_page", "stream_datum"))
_BY_RESOURCE = frozenset(("datum", "datum_page"))
_LINKING = frozenset(("descriptor", "resource", "stream_resource"))


def callback_name(callback: Any) -> str:
    """A readable name for a callback: its ``name`` attribute, function or class name."""
    name = getattr(callback, "name", None)
    if isinstance(name, str):
        return name
    return getattr(callback, "__qualname__", None) or type(callback).__qualname__


@dataclass(frozen=True)
class CallbackFailure:
    """A callback raised while handling a document; the other callbacks went on."""

    callback: str
    document_name: str
    document_uid: str | None
    run_uid: str | None
    error: BaseException = field(repr=False)

    def __str__(self) -> str:
        return (
            f"callback {self.callback!r} raised {type(self.error).__name__}: {self.error} "
            f"on {self.document_name} document {self.document_uid!r} (run {self.run_uid!r})"
        )


def _document_uid(name: str, doc: Document) -> str | None:
    uid = doc.get("uid") if name != "datum" else doc.get("datum_id")
    if isinstance(uid, list):  # pages
        return uid[0] if uid else None
    return uid if isinstance(uid, str) else None


class RunRouter:
    """Build callbacks per run from factories and route every document to its run.

    ``RunRouter([factory, ...])`` is itself a ``callback(name, doc)``. On each run start
    every factory is called with the start document and returns the callbacks for that
    run (one, several, or ``None`` to skip it). Later documents reach the callbacks of
    the run they belong to, found through ``run_start``, ``descriptor`` and ``resource``
    links, so interleaved and nested runs stay apart. The run's callbacks are dropped
    after its stop document.

    ``unlinked`` says where a descriptor, resource or stream resource goes whose
    ``run_start`` is missing or names no open run: ``"all"`` (the default) sends such a
    resource or stream resource (older documents carry no ``run_start``) to every open
    run and ignores a descriptor; ``"latest"`` sends any of them to the most recently
    started run, if it is still open.

    ``orphans="warn"`` logs a warning (once per descriptor or run) for documents of a
    run whose start the router never saw, which it drops; :attr:`orphaned` counts them.

    With ``isolate=True`` (the default) a callback that raises does not stop the
    others: the failure is logged with the callback's name and the document, and kept
    in :attr:`failures` (most recent last, at most ``max_failures``); with
    ``fatal=True`` the first failure is re-raised after the other callbacks have seen
    the document. With ``isolate=False`` an exception of a factory or callback goes
    straight up to the caller, unlogged: for consumers that own their errors.
    """

    def __init__(
        self,
        factories: Sequence[RunFactory],
        *,
        fatal: bool = False,
        max_failures: int = 100,
        name: str | None = None,
        unlinked: Literal["all", "latest"] = "all",
        isolate: bool = True,
        orphans: Literal["ignore", "warn"] = "ignore",
    ) -> None:
        if unlinked not in ("all", "latest"):
            raise ValueError(f"unlinked must be 'all' or 'latest', not {unlinked!r}")
        self.factories = list(factories)
        self.fatal = fatal
        self.max_failures = max_failures
        self.name = name or "RunRouter"
        self.unlinked = unlinked
        self.isolate = isolate
        self.orphans = orphans
        #: Documents dropped because their run's start was never seen (``orphans``).
        self.orphaned = 0
        self._orphan_warned: set[str] = set()
        self.failures: list[CallbackFailure] = []
        #: The callbacks of the most recently finished run (to look at its plots, stats).
        self.last_run: list[DocumentCallback] = []
        self._runs: dict[str, list[DocumentCallback]] = {}
        self._run_of: dict[str, str] = {}  # descriptor/resource/stream_resource uid -> run uid
        self._owned: dict[str, list[str]] = {}  # run uid -> uids registered in _run_of
        self._latest: str | None = None  # the most recently started run

    def __repr__(self) -> str:  # how the engine names it in RE.callback_errors and logs
        return f"{type(self).__name__}({self.name!r})"

    @property
    def open_runs(self) -> tuple[str, ...]:
        """Uids of the runs started and not yet stopped."""
        return tuple(self._runs)

    def __call__(self, name: str, doc: Document) -> None:
        if name in _BY_DESCRIPTOR:  # the per-event path first: it is the busy one
            run = self._run_of.get(doc["descriptor"])
            if run is not None:
                self._deliver(run, self._runs[run], name, doc)
            else:
                self._orphan(name, doc["descriptor"])
            return
        if name == "start":
            self._start(doc)
            return
        run = self._find_run(name, doc)
        if run is None:
            if name not in DOCUMENT_NAMES:
                raise ValueError(
                    f"{self.name}: unknown document name {name!r}; "
                    f"expected one of {sorted(DOCUMENT_NAMES)}"
                )
            self._orphan(name, doc.get("run_start") or doc.get("resource") or "?")
            return
        runs = self._runs if run == "*" else {run: self._runs[run]}
        try:
            for run_uid, callbacks in list(runs.items()):
                if name in _LINKING:
                    self._link(run_uid, doc["uid"])
                self._deliver(run_uid, callbacks, name, doc)
        finally:
            if name == "stop":
                self._forget(doc["run_start"])

    def _orphan(self, name: str, link: str) -> None:
        """A document of a run whose start this router never saw: dropped (and said so)."""
        self.orphaned += 1
        if self.orphans != "warn" or link in self._orphan_warned:
            logger.debug("%s: %s document of an unknown run ignored", self.name, name)
            return
        if len(self._orphan_warned) < 1000:
            self._orphan_warned.add(link)
        logger.warning(
            "%s: dropped a %s document (and any more that link to %s) of a run whose start "
            "document it never saw; subscribe before the run starts",
            self.name, name, link,
        )  # fmt: skip

    def _start(self, doc: Document) -> None:
        uid = doc["uid"]
        callbacks: list[DocumentCallback] = []
        for factory in self.factories:
            if not self.isolate:
                made = factory(doc)
            else:
                try:
                    made = factory(doc)
                except Exception as exc:  # a broken factory skips only itself
                    self._report(callback_name(factory), "start", doc, uid, exc)
                    if self.fatal:
                        raise
                    continue
            if made is None:
                continue
            if callable(made):
                callbacks.append(made)
            else:
                callbacks.extend(made)
        self._runs[uid] = callbacks
        self._owned[uid] = []
        self._latest = uid
        self._deliver(uid, callbacks, "start", doc)

    def _find_run(self, name: str, doc: Document) -> str | None:
        """The open run ``doc`` belongs to, ``"*"`` for every open run, or ``None``."""
        runs = self._runs
        if name in _BY_RESOURCE:
            return self._run_of.get(doc["resource"])
        if name == "stop":
            run = doc["run_start"]
            return run if run in runs else None
        if name not in _LINKING:
            return None
        if self.unlinked == "latest":
            run = doc.get("run_start")
            if run in runs:
                return run  # type: ignore[no-any-return]
            return self._latest if self._latest in runs else None
        if name == "descriptor":
            run = doc["run_start"]
            return run if run in runs else None
        run = doc.get("run_start")
        if run is None:  # older documents carry no run_start: every open run gets it
            return "*" if runs else None
        return run if run in runs else None  # type: ignore[no-any-return]

    def _link(self, run_uid: str, uid: str) -> None:
        self._run_of[uid] = run_uid
        self._owned[run_uid].append(uid)

    def _forget(self, run_uid: str) -> None:
        self.last_run = self._runs.pop(run_uid, [])
        for uid in self._owned.pop(run_uid, ()):
            self._run_of.pop(uid, None)

    def _deliver(
        self, run_uid: str, callbacks: list[DocumentCallback], name: str, doc: Document
    ) -> None:
        if not self.isolate:
            for callback in callbacks:
                callback(name, doc)
            return
        first: BaseException | None = None
        for callback in callbacks:
            try:
                callback(name, doc)
            except Exception as exc:
                self._report(callback_name(callback), name, doc, run_uid, exc)
                first = first or exc
        if first is not None and self.fatal:
            raise first

    def _report(
        self, callback: str, name: str, doc: Document, run_uid: str | None, exc: Exception
    ) -> None:
        failure = CallbackFailure(callback, name, _document_uid(name, doc), run_uid, exc)
        self.failures.append(failure)
        del self.failures[: -self.max_failures]
        logger.error("%s: %s", self.name, failure, exc_info=exc)


def per_run(factory: Callable[[], DocumentCallback], **router_options: Any) -> RunRouter:
    """A :class:`RunRouter` giving every run a fresh ``factory()`` callback.

    ``per_run(lambda: LiveTable(out=f))`` follows interleaved runs, each in its own table.
    """
    name = router_options.pop("name", None) or f"per_run({callback_name(factory)})"
    return RunRouter([lambda start: factory()], name=name, **router_options)
