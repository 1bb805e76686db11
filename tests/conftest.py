"""Fixtures shared by every part of the test suite."""

from __future__ import annotations

import functools
import importlib.util
import os
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
from event_model import DocumentNames, schema_validators

from cielo.testing import DocumentCollector, RedisServer, require_server


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


# The fixtures below build on cielo.testing's pytest plugin (``RE``, ``sim_env``, ...),
# shared by several test folders. A folder's conftest or a test module may override them.


@pytest.fixture(scope="module")
def env() -> Any:
    """The ``sim`` profile loaded once per test module (``sim_env`` is once per test)."""
    from cielo.core import load_profile

    return load_profile("sim")


@pytest.fixture
def docs(RE: Any) -> DocumentCollector:
    """A :class:`~cielo.testing.DocumentCollector` on ``RE`` that validates every document
    with event-model as it arrives (``docs.of``, ``.start``, ``.stop``, ``.column``)."""
    collector = DocumentCollector(validate=True)
    RE.subscribe(collector)
    return collector


@functools.cache
def _load_synthetic(folder: str) -> Any:
    """``tests/<folder>/synthetic.py``, loaded once (the test folders are not packages)."""
    path = pathlib.Path(__file__).parent / folder / "synthetic.py"
    spec = importlib.util.spec_from_file_location(f"cielo_tests_{folder}_synthetic", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def synthetic_docs() -> Any:
    """The generators of ``tests/callbacks/synthetic.py`` (``synthetic_docs.step_run(...)``);
    every document of a ``*_run`` generator is validated by event-model."""
    synthetic = _load_synthetic("callbacks")

    class _Checked:
        def __getattr__(self, name: str) -> Any:
            make = getattr(synthetic, name)

            def checked(*args: Any, **kwargs: Any) -> Any:
                stream = make(*args, **kwargs)
                for n, d in stream:
                    validate_document(n, d)
                return stream

            return checked if callable(make) and name.endswith("_run") else make

    return _Checked()


@pytest.fixture
def make_run() -> Any:
    """``make_run(n=5, **options)``: a synthetic run as ``[(name, doc), ...]``, from
    ``tests/storage/synthetic.py`` (storage and suitcase tests)."""
    return _load_synthetic("storage").synthetic_run


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real ``redis-server`` on a free loopback port for the whole session, stopped by PID.

    Tests share it: each should use its own key or stream names (e.g. from ``uuid4``).
    Skipped when it cannot start, failed under ``CI=true``.
    """
    try:
        server = RedisServer()
    except Exception as exc:  # depends on the machine
        require_server(f"cannot start redis-server: {exc}")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def zmq_proxy() -> Iterator[tuple[int, int]]:
    """Bluesky's own ``bluesky-0MQ-proxy`` on two free loopback ports: ``(in, out)``."""
    import shutil
    import subprocess
    import sys
    import time

    from cielo.testing import free_port

    pytest.importorskip("bluesky.callbacks.zmq")
    binary = shutil.which("bluesky-0MQ-proxy") or str(
        pathlib.Path(sys.executable).with_name("bluesky-0MQ-proxy")
    )
    in_port, out_port = free_port(), free_port()
    process = subprocess.Popen([binary, str(in_port), str(out_port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(0.5)
    try:
        yield in_port, out_port
    finally:
        process.terminate()
        process.wait(10)
