"""Fixtures shared by every part of the test suite."""

from __future__ import annotations

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
