"""Fixtures for the suitcase tests (``make_run``, the synthetic runs, comes from
tests/conftest.py, shared with tests/storage)."""

from __future__ import annotations

import pytest


@pytest.fixture
def suitcases():
    """The suitcase factories as the plugin offers them through its hook."""
    from cielo.plugins.suitcases import cielo_suitcases

    return cielo_suitcases()
