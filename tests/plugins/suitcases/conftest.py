"""Fixtures for the suitcase tests: synthetic runs (shared with tests/storage)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_path = Path(__file__).parents[2] / "storage" / "synthetic.py"
_spec = importlib.util.spec_from_file_location("cielo_storage_synthetic", _path)
synthetic = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(synthetic)  # type: ignore[union-attr]


@pytest.fixture
def make_run():
    """``make_run(n=5, **options)``: a synthetic run as ``[(name, doc), ...]``."""
    return synthetic.synthetic_run


@pytest.fixture
def suitcases():
    """The suitcase factories as the plugin offers them through its hook."""
    from cielo.plugins.suitcases import cielo_suitcases

    return cielo_suitcases()


def feed(callback, *runs):
    for docs in runs:
        for name, doc in docs:
            callback(name, doc)
    return callback
