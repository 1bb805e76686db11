"""The base of streaming writers (suitcases): one writer per run, a factory for many runs."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from ._documents import RunRouter, pack_events, unpack_datum_page, unpack_event_page
from ._errors import SuitcaseError
from ._templates import (
    DEFAULT_TEMPLATE,
    check_template,
    path_inside,
    render_template,
    reserve_path,
    safe_name,
)

__all__ = ["Suitcase", "suitcase_factory"]

Document = dict[str, Any]


class Suitcase:
    """Write one run to files, document by document.

    Subclasses override the handlers they need (``start`` is called from ``__init__``):
    ``descriptor``, ``event`` *or* ``event_page`` (the base turns each into the other),
    ``resource``, ``datum`` *or* ``datum_page``, ``stream_resource``, ``stream_datum``,
    ``stop`` and ``close``. Files are made with :meth:`new_file`, named from
    ``file_template`` over the run-start document, never overwriting, never outside
    ``directory``.

    :param start: the run-start document.
    :param directory: where the files go (created if needed).
    :param file_template: ``str.format`` template over run-start keys, without suffix.
    """

    #: What a writer of this kind is called in error messages.
    kind: ClassVar[str] = "suitcase"

    def __init__(
        self,
        start: Document,
        *,
        directory: str | os.PathLike[str] = ".",
        file_template: str = DEFAULT_TEMPLATE,
    ) -> None:
        self.directory = Path(directory).expanduser()
        self.file_template = file_template
        self.stem = render_template(file_template, start)
        path_inside(self.directory, self.stem)  # refused before anything is written
        self.start_doc = start
        #: Every file this writer made, by label (``"stream:primary"``, ``"archive"``).
        self.artifacts: dict[str, list[Path]] = {}
        self.start(start)

    @classmethod
    def check(cls, params: dict[str, Any]) -> None:
        """Refuse parameter values that could not work, before any run (raise
        :class:`SuitcaseError`); subclasses extend it for their own parameters."""
        directory = params.get("directory", ".")
        if not isinstance(directory, (str, os.PathLike)):
            raise SuitcaseError(f"directory must be a path, not {directory!r}")
        text = os.fspath(directory)
        if "\x00" in str(text) or not str(text).strip():
            raise SuitcaseError(f"directory {text!r} is not a usable folder name")
        path = Path(text).expanduser()
        if path.exists() and not path.is_dir():
            raise SuitcaseError(f"directory {text!r} exists and is not a folder")
        check_template(params.get("file_template", DEFAULT_TEMPLATE))

    # -- files ----------------------------------------------------------------------
    def new_file(self, suffix: str, label: str, *, extra: str = "") -> Path:
        """Reserve a new file ``<stem><extra><suffix>`` and record it under ``label``."""
        path = reserve_path(self.directory, self.stem + (safe_name(extra) if extra else ""), suffix)
        self.artifacts.setdefault(label, []).append(path)
        return path

    # -- dispatch -------------------------------------------------------------------
    def __call__(self, name: str, doc: Document) -> None:
        if name == "start":
            return  # handled by __init__
        handler = getattr(self, name, None)
        if handler is None or name.startswith("_"):
            raise SuitcaseError(f"{self.kind}: unknown document name {name!r}")
        handler(doc)
        if name == "stop":
            self.close()

    # -- handlers (no-ops unless overridden) ----------------------------------------
    def start(self, doc: Document) -> None:
        pass

    def descriptor(self, doc: Document) -> None:
        pass

    def event(self, doc: Document) -> None:
        if type(self).event_page is Suitcase.event_page:
            return  # neither is overridden: this suitcase ignores events
        self.event_page(pack_events([doc]))

    def event_page(self, doc: Document) -> None:
        for event in unpack_event_page(doc):
            self.event(event)

    def resource(self, doc: Document) -> None:
        pass

    def datum(self, doc: Document) -> None:
        pass

    def datum_page(self, doc: Document) -> None:
        for datum in unpack_datum_page(doc):
            self.datum(datum)

    def stream_resource(self, doc: Document) -> None:
        pass

    def stream_datum(self, doc: Document) -> None:
        pass

    def stop(self, doc: Document) -> None:
        pass

    def close(self) -> None:
        """Release files; called after the stop document (and safe to call twice)."""


class SuitcaseCallback(RunRouter):
    """``callback(name, doc)`` writing each run it sees with a new suitcase."""

    def __init__(self, cls: type[Suitcase], params: dict[str, Any]) -> None:
        self.cls, self.params = cls, params
        #: Files written, per run uid (``{label: [paths]}``), filled as runs start.
        self.artifacts: dict[str, dict[str, list[Path]]] = {}
        super().__init__(self._make, name=f"{cls.kind} suitcase")

    def _make(self, start: Document) -> Suitcase:
        writer = self.cls(start, **self.params)
        self.artifacts[start["uid"]] = writer.artifacts
        return writer


def suitcase_factory(cls: type[Suitcase]) -> Callable[..., SuitcaseCallback]:
    """A suitcase factory for the ``cielo_suitcases`` hook: ``factory(**params)``.

    The factory's signature is the suitcase's typed keyword parameters, so a profile's
    wrong types are named when it is loaded; :meth:`Suitcase.check` then refuses bad
    values (a directory that cannot be one, a file name too long, ...).
    """
    accepted = _accepted_parameters(cls)

    def factory(**params: Any) -> SuitcaseCallback:
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            raise SuitcaseError(
                f"{cls.kind} suitcase: unknown parameter(s) {', '.join(unknown)}; "
                f"accepted: {', '.join(accepted)}"
            )
        try:
            cls.check(params)
        except SuitcaseError as exc:
            raise SuitcaseError(f"{cls.kind} suitcase: {exc}") from None
        return SuitcaseCallback(cls, params)

    factory.__name__ = f"{cls.kind}_factory"
    factory.__doc__ = cls.__doc__
    factory.__signature__ = inspect.Signature(list(accepted.values()))  # type: ignore[attr-defined]
    return factory


def _accepted_parameters(cls: type[Suitcase]) -> dict[str, inspect.Parameter]:
    """Keyword parameters of the suitcase's ``__init__`` chain (``**params`` passes up)."""
    accepted: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init, eval_str=True).parameters.values()
        for p in params:
            if p.kind is p.KEYWORD_ONLY and p.name not in accepted:
                accepted[p.name] = p
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return accepted
