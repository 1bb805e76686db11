"""fly on the sim beamline's flyer, and with ophyd's simulated flyer-style objects."""

from __future__ import annotations

import pytest

from cielo.core import PlanParameterError, signature_schema
from cielo.plans import summarize_plan
from cielo.plugins.fly import flat_collect_keys, fly


def test_fly_messages_without_hardware(env):
    flyer = env.devices["flyer"]
    summary = summarize_plan(fly([flyer]))
    commands = [m.command for m in summary.messages]
    assert commands[:2] == ["open_run", "kickoff"] and commands[-1] == "close_run"
    for earlier, later in [
        ("kickoff", "declare_stream"),
        ("declare_stream", "complete"),
        ("complete", "collect"),
    ]:
        assert commands.index(earlier) < commands.index(later)
    (run,) = summary.runs
    assert run["plan_name"] == "fly" and run["detectors"] == ["flyer"]
    assert flat_collect_keys(flyer)


def test_fly_schema_and_refusal():
    schema = signature_schema(fly)
    assert schema["properties"]["flyers"]["items"]["x-cielo-device"] == "Flyable"
    with pytest.raises(PlanParameterError, match="at least one flyer"):
        list(fly([]))
    with pytest.raises(PlanParameterError, match=r"'flyers\[0\]' got 'flyer'.*itself \(flyer\)"):
        fly(["flyer"])  # refused at the call, before a RunEngine sees it


def test_fly_the_sim_flyer(env, RE, docs):
    flyer = env.devices["flyer"]
    RE(env.plans["fly"]([flyer]))
    (descriptor,) = docs.of("descriptor")
    assert descriptor["name"] == "flyer"
    assert docs.stop["exit_status"] == "success"
    assert docs.stop["num_events"]["flyer"] > 0
