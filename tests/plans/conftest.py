"""Fixtures: the sim beamline, a RunEngine, and a validated document collector."""

from __future__ import annotations

from typing import Any

import pytest

import cielo


@pytest.fixture(scope="module")
def env() -> Any:
    return cielo.load_profile("sim")


@pytest.fixture
def RE(tmp_path: Any) -> Any:
    with cielo.RunEngine(scan_id_file=tmp_path / "scan_id.json", handle_sigint=False) as engine:
        yield engine


class Docs(list):
    """Documents of the runs, validated against event-model as they arrive."""

    def of(self, name: str) -> list[dict[str, Any]]:
        return [d for n, d in self if n == name]

    @property
    def start(self) -> dict[str, Any]:
        (start,) = self.of("start")
        return start

    @property
    def stop(self) -> dict[str, Any]:
        (stop,) = self.of("stop")
        return stop

    def column(self, field: str, stream: str = "primary") -> list[Any]:
        descs = {d["uid"] for d in self.of("descriptor") if d["name"] == stream}
        out: list[Any] = []
        for n, d in self:
            if n == "event" and d["descriptor"] in descs:
                out.append(d["data"][field])
            elif n == "event_page" and d["descriptor"] in descs:
                out.extend(d["data"][field])
        return out


@pytest.fixture
def docs(RE: Any, validate: Any) -> Docs:
    collected = Docs()

    def collect(name: str, doc: dict[str, Any]) -> None:
        validate(name, doc)
        collected.append((name, doc))

    RE.subscribe(collect)
    return collected
