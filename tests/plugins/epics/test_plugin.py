"""The epics plugin registers and lists its types without pyepics; profiles build its devices."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import cielo
from cielo import load_profile
from cielo.core import signature_schema
from cielo.plugins.epics import DEVICE_TYPES, EpicsMotor, EpicsScaler, EpicsSignal, EpicsSignalRO


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_registers_and_lists_types_without_pyepics():
    result = run_python(
        "import sys\n"
        "sys.modules['epics'] = None  # as if pyepics were not installed\n"
        "sys.modules['softioc'] = None\n"
        "from cielo.core import load_profile\n"
        "from cielo.core.plugins import make_plugin_manager\n"
        "import cielo.plugins.epics as plugin\n"
        "print(sorted(plugin.cielo_device_types()))\n"
        "try:\n"
        "    plugin.DEVICE_TYPES['epics.signal'](name='x', pv='X:Y')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == str(sorted(["epics.device", "epics.motor", "epics.scaler", "epics.signal"]))
    assert lines[1].startswith("DeviceError") and "pip install 'cielo[epics]'" in lines[1]


def test_importing_the_plugin_imports_no_pyepics():
    result = run_python(
        "import sys, cielo.plugins.epics\nprint('epics' in sys.modules, 'softioc' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_factories_have_typed_signatures():
    for type_name, factory in DEVICE_TYPES.items():
        schema = signature_schema(factory)
        props = schema["properties"]
        if type_name == "epics.signal":
            assert props["pv"]["type"] == "string"
            assert {"pv"} <= set(schema["required"])
        if type_name in ("epics.motor", "epics.scaler", "epics.device"):
            assert "prefix" in schema["required"]


@pytest.mark.epics
@pytest.mark.parametrize("how", ["name", "path"])
def test_epics_profile_builds_connected_devices(ioc, how):
    path = Path(cielo.__file__).parent / "plugins" / "epics" / "profiles" / "epics.toml"
    env = load_profile("epics" if how == "name" else path)
    assert env.profile.path == path
    devices = env.devices
    assert isinstance(devices["motor"], EpicsMotor) and isinstance(devices["scaler"], EpicsScaler)
    assert isinstance(devices["det"], EpicsSignalRO) and isinstance(devices["voltage"], EpicsSignal)
    motor = devices["motor"]
    assert motor.user_readback.pvname == "CIELO:m1:RBV"
    motor.move(0.25, timeout=5)
    assert motor.read()["motor"]["value"] == pytest.approx(0.25)
    assert devices["det"].read()["det"]["value"] > 0
    scaler = devices["scaler"]
    scaler.stage()
    scaler.trigger().wait(5)
    assert scaler.read()["scaler_clock"]["value"] == 500_000  # preset_time = 0.05 s
    assert devices["box"].switch.pvname == "CIELO:bi"
    assert devices["counter"].get() >= 0
    motor.move(0.0, timeout=5)
