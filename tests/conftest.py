"""Fixtures shared by every part of the test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from event_model import DocumentNames, schema_validators


def validate_document(name: str, doc: dict[str, Any]) -> None:
    """Validate one document against the event-model package's JSON schema (the oracle)."""
    schema_validators[DocumentNames[name]].validate(doc)


@pytest.fixture
def validate():
    """``validate(name, doc)`` checks a document with event-model's schemas."""
    return validate_document


@pytest.fixture(scope="session", autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the suite out of the user's home: engine state, catalog and profiles go to tmp.

    Subprocesses started by tests inherit these variables too.
    """
    base = tmp_path_factory.mktemp("user-dirs")
    names = ("CIELO_STATE_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ[name] = str(base / name.lower())
    os.environ.pop("CIELO_CATALOG", None)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
