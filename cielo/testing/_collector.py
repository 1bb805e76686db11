"""A document collector and event-model validation for tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, overload

__all__ = ["DocumentCollector", "validate_documents"]


class DocumentCollector:
    """A subscriber that keeps every ``(name, doc)`` it is given, in order.

    >>> col = DocumentCollector()
    >>> col("start", {"uid": "a", "time": 0.0})
    >>> col.names
    ['start']

    With ``validate=True`` each document is checked with event-model's schemas before it
    is kept: an invalid one raises in the callback (the RunEngine records it as a
    callback error) and is not kept.
    """

    def __init__(self, *, validate: bool = False) -> None:
        self.docs: list[tuple[str, dict[str, Any]]] = []
        self.validating = validate

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        if self.validating:
            _validate_one(name, doc)
        self.docs.append((name, doc))

    def __len__(self) -> int:
        return len(self.docs)

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return iter(self.docs)

    @overload
    def __getitem__(self, index: int) -> tuple[str, dict[str, Any]]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[str, dict[str, Any]]]: ...
    def __getitem__(self, index: int | slice) -> Any:
        """The ``(name, doc)`` pair(s) at a position: ``col[0]``, ``col[-1]``, ``col[1:3]``."""
        return self.docs[index]

    @property
    def names(self) -> list[str]:
        """Document names in the order they arrived."""
        return [name for name, _ in self.docs]

    def of(self, name: str) -> list[dict[str, Any]]:
        """The documents called ``name`` (``"event"``, ``"stop"``, ...)."""
        return [doc for n, doc in self.docs if n == name]

    @property
    def start(self) -> dict[str, Any]:
        """The only run start (an error if there were none or several)."""
        return _one(self.of("start"), "start")

    @property
    def stop(self) -> dict[str, Any]:
        """The only run stop (an error if there were none or several)."""
        return _one(self.of("stop"), "stop")

    def events(self, stream: str | None = None) -> list[dict[str, Any]]:
        """Events (event pages unpacked) in order, optionally of one stream only."""
        streams = {d["uid"]: d.get("name") for d in self.of("descriptor")}
        out: list[dict[str, Any]] = []
        for name, doc in self.docs:
            if name == "event":
                out.append(doc)
            elif name == "event_page":
                for i, seq in enumerate(doc["seq_num"]):
                    out.append(
                        {
                            "uid": doc["uid"][i],
                            "time": doc["time"][i],
                            "seq_num": seq,
                            "descriptor": doc["descriptor"],
                            "data": {k: v[i] for k, v in doc["data"].items()},
                            "timestamps": {k: v[i] for k, v in doc["timestamps"].items()},
                        }
                    )
        if stream is not None:
            out = [e for e in out if streams.get(e["descriptor"]) == stream]
        return out

    def column(self, field: str, stream: str = "primary") -> list[Any]:
        """The values of one data field in the events of ``stream``, in order."""
        return [event["data"][field] for event in self.events(stream)]

    def by_run(self) -> dict[str, list[tuple[str, dict[str, Any]]]]:
        """Documents grouped by the uid of the run they belong to."""
        runs: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        owner: dict[str, str] = {}
        for name, doc in self.docs:
            if name == "start":
                run = doc["uid"]
            elif name in ("stop", "descriptor", "resource", "stream_resource"):
                run = doc.get("run_start", "")
            elif name in ("event", "event_page", "stream_datum"):
                run = owner.get(doc["descriptor"], "")
            elif name in ("datum", "datum_page"):
                run = owner.get(doc["resource"], "")
            else:
                run = ""
            if name in ("descriptor", "resource", "stream_resource"):
                owner[doc["uid"]] = run
            runs.setdefault(run, []).append((name, doc))
        return runs

    def validate(self) -> None:
        """Check every document with event-model's schemas."""
        validate_documents(self.docs)

    def clear(self) -> None:
        """Forget the documents kept so far."""
        self.docs.clear()


def _one(docs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    if len(docs) != 1:
        raise AssertionError(f"expected exactly one {name!r} document, got {len(docs)}")
    return docs[0]


def validate_documents(docs: Iterable[tuple[str, dict[str, Any]]]) -> int:
    """Validate ``(name, doc)`` pairs with the event-model package's JSON schemas.

    :returns: how many documents were checked.
    :raises ImportError: event-model is not installed (``pip install event-model``).
    :raises jsonschema.ValidationError: a document does not match its schema; the
        message names the document kind and its position.
    """
    try:
        from event_model import DocumentNames, schema_validators
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "validate_documents needs the event-model package: pip install event-model"
        ) from exc
    count = 0
    for i, (name, doc) in enumerate(docs):
        try:
            schema_validators[DocumentNames[name]].validate(doc)
        except Exception as exc:
            exc.add_note(f"in document #{i} ({name!r}, uid {doc.get('uid')!r})")
            raise
        count += 1
    return count


def _validate_one(name: str, doc: dict[str, Any]) -> None:
    try:
        validate_documents([(name, doc)])
    except Exception as exc:
        exc.add_note("(DocumentCollector(validate=True) keeps only valid documents)")
        raise
