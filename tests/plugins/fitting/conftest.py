"""Callback tests run on synthetic documents: ``docs`` is the shared ``synthetic_docs``."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def docs(synthetic_docs: Any) -> Any:
    return synthetic_docs
