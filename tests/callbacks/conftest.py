"""Fixtures for callback tests: synthetic, schema-valid document streams."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

_spec = importlib.util.spec_from_file_location(
    "cielo_tests_synthetic", pathlib.Path(__file__).with_name("synthetic.py")
)
synthetic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic)


@pytest.fixture
def docs(validate):
    """The synthetic document generators, with every document validated by event-model."""

    class _Docs:
        def __getattr__(self, name):
            make = getattr(synthetic, name)

            def checked(*args, **kwargs):
                stream = make(*args, **kwargs)
                for n, d in stream:
                    validate(n, d)
                return stream

            return checked if callable(make) and name.endswith("_run") else make

    return _Docs()
