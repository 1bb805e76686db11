"""The bundled sim plugin: its device types, factories and the sim profile."""

from __future__ import annotations

import pytest

import cielo
from cielo.core import ProfileError, signature_schema
from cielo.core import protocols as P
from cielo.devices import connect_all
from cielo.plugins import sim as sim_plugin

TYPES = {
    "sim.motor", "sim.peak_detector", "sim.area_detector", "sim.shutter",
    "sim.beam_current", "sim.flyer", "sim.slit", "sim.temperature",
}  # fmt: skip


def test_hookimpl_offers_every_type_with_a_schema():
    types = sim_plugin.cielo_device_types()
    assert set(types) == TYPES
    for name, factory in types.items():
        schema = signature_schema(factory)
        assert "name" in schema["properties"], name
    det_schema = signature_schema(types["sim.peak_detector"])
    assert "motors" in det_schema["properties"]
    assert "motors" in det_schema.get("required", [])


def test_factories_build_devices_directly(tmp_path):
    types = sim_plugin.cielo_device_types()
    motor = types["sim.motor"](name="m", velocity=10.0, limits=[-1, 1])
    assert motor.name == "m" and motor.limits == (-1.0, 1.0)
    det = types["sim.peak_detector"](name="d", motors=[motor], center=0.5)
    assert det.center == [0.5]
    cam = types["sim.area_detector"](name="cam", directory=str(tmp_path), width=8, height=8)
    cam.trigger()
    cam.unstage()
    assert cam.path is not None and cam.path.parent == tmp_path
    slit = types["sim.slit"](
        name="slit", top=types["sim.motor"](name="t"), bottom=types["sim.motor"](name="b")
    )
    slit.gap.set(2.0).wait(1)
    assert slit.position == (2.0, 0.0)


def test_the_profile_camera_writes_beside_the_catalog_in_the_user_data_dir(tmp_path, monkeypatch):
    # stored runs must still find their frames later: not a temporary directory
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    cam = sim_plugin.cielo_device_types()["sim.area_detector"](name="cam", width=4, height=4)
    cam.stage()
    cam.trigger().wait(5)
    cam.unstage()
    assert cam.path is not None
    assert cam.path.parent == tmp_path / "data" / "cielo" / "frames" / "cam"


def test_sim_profile_builds_the_beamline():
    env = cielo.load_profile("sim")
    devices = env.devices
    for name in (
        "motor",
        "motor1",
        "motor2",
        "det",
        "det2",
        "camera",
        "beam_current",
        "shutter",
        "flyer",
    ):
        assert devices[name].name == name
    assert devices["det"].motors == [devices["motor"]]
    assert devices["det2"].motors == [devices["motor1"], devices["motor2"]]
    assert env.profile.metadata["beamline_id"] == "sim"
    for name in ("motor", "motor1", "motor2"):
        assert isinstance(devices[name], P.Movable) and isinstance(devices[name], P.Locatable)
        assert devices[name].velocity.get() == 0.0  # instant
    for name in ("det", "det2", "camera"):
        assert isinstance(devices[name], P.Readable) and isinstance(devices[name], P.Triggerable)
    assert isinstance(devices["camera"], P.WritesStreamAssets)
    assert isinstance(devices["beam_current"], P.Subscribable)
    assert isinstance(devices["flyer"], P.Flyable) and isinstance(devices["flyer"], P.Collectable)
    connect_all(devices, timeout=1.0)


def test_det_follows_motor_in_profile():
    env = cielo.load_profile("sim")
    motor, det = env.devices["motor"], env.devices["det"]
    motor.set(0.0).wait(1)
    det.trigger().wait(1)
    top = det.read()["det"]["value"]
    motor.set(2.0).wait(1)
    det.trigger().wait(1)
    assert det.read()["det"]["value"] < top


def test_profile_with_unknown_motor_is_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        '[devices.m]\ntype = "sim.motor"\n\n'
        '[devices.d]\ntype = "sim.peak_detector"\nmotors = ["nope"]\n'
    )
    with pytest.raises(ProfileError, match="nope"):
        cielo.load_profile(path)


def test_profile_parameters_reach_devices(tmp_path):
    import time

    path = tmp_path / "beamline.toml"
    path.write_text(
        '[devices.m]\ntype = "sim.motor"\nvelocity = 10.0\nlimits = [-1, 1]\nunits = "deg"\n\n'
        '[devices.top]\ntype = "sim.motor"\n\n[devices.bottom]\ntype = "sim.motor"\n\n'
        '[devices.slit]\ntype = "sim.slit"\ntop = "top"\nbottom = "bottom"\ngap_limits = [0, 5]\n\n'
        '[devices.d]\ntype = "sim.peak_detector"\nmotors = ["m"]\nnoise = "poisson"\nseed = 1\n'
    )
    env = cielo.load_profile(path)
    m = env.devices["m"]
    assert m.limits == (-1.0, 1.0) and m.egu == "deg"
    t0 = time.monotonic()
    m.set(1.0).wait(2)
    assert time.monotonic() - t0 >= 0.09  # 1 deg at 10 deg/s
    slit = env.devices["slit"]
    assert slit.reals == {"top": env.devices["top"], "bottom": env.devices["bottom"]}
    assert slit.gap.limits == (0.0, 5.0)
    assert env.devices["d"].noise == "poisson"


def test_profile_with_bad_parameter_is_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[devices.m]\ntype = "sim.motor"\nvelocity = "fast"\n')
    with pytest.raises(ProfileError, match="velocity"):
        cielo.load_profile(path)
    path.write_text('[devices.d]\ntype = "sim.shutter"\ninitial = "ajar"\n')
    with pytest.raises(ProfileError, match="ajar"):
        cielo.load_profile(path)


@pytest.mark.parametrize(
    ("table", "key", "value", "allowed"),
    [
        ('type = "sim.shutter"', "delay", "-1", ">= 0"),
        ('type = "sim.beam_current"', "nominal", "-5", ">= 0"),
        ('type = "sim.motor"', "velocity", "0", "> 0"),
        ('type = "sim.flyer"', "num", "0", ">= 1"),
        ('type = "sim.area_detector"\nwidth = 64', "height", "100000", ">= 1 and <= 65536"),
        ('type = "sim.peak_detector"\nmotors = []', "sigma", "[1.0, -2.0]", "> 0"),
        ('type = "sim.peak_detector"\nmotors = []', "count_time", "nan", ">= 0"),
    ],
)
def test_profile_values_out_of_range_are_refused_naming_file_table_key_range(
    tmp_path, table, key, value, allowed
):
    path = tmp_path / "ranges.toml"
    path.write_text(f"[devices.thing]\n{table}\n{key} = {value}\n")
    with pytest.raises(ProfileError) as refused:
        cielo.load_profile(path)
    message = str(refused.value)
    assert message.startswith("ranges.toml: [devices.thing]")
    assert f"'{key}" in message and f"expected a number {allowed}" in message


def test_declared_ranges_appear_in_the_schema():
    schema = signature_schema(sim_plugin.cielo_device_types()["sim.shutter"])
    assert schema["properties"]["delay"]["minimum"] == 0


def test_sim_device_times_declare_seconds():
    types = sim_plugin.cielo_device_types()
    delay = signature_schema(types["sim.shutter"])["properties"]["delay"]
    assert delay == {"type": "number", "minimum": 0.0, "units": "s", "default": 0.05}
    timeout = signature_schema(types["sim.motor"])["properties"]["timeout"]
    assert timeout["anyOf"][0] == {"type": "number", "exclusiveMinimum": 0.0, "units": "s"}
    assert "units" not in signature_schema(types["sim.motor"])["properties"]["initial"]


def test_every_sim_device_describes_what_it_reads(validate, tmp_path):
    """read()/describe() keys agree (file-held keys are external) and data keys validate."""
    from event_model import compose_run

    env = cielo.load_profile("sim")
    env.devices["camera"].directory = tmp_path
    bundle = compose_run()
    for name, device in env.devices.items():
        if not isinstance(device, P.Readable):
            continue
        if isinstance(device, P.Triggerable):
            device.trigger().wait(2)
        reading, described = device.read(), device.describe()
        extra = set(described) - set(reading)
        assert set(reading) <= set(described), name
        assert all(described[k].get("external") == "STREAM:" for k in extra), name
        config = device.read_configuration()
        assert config.keys() == device.describe_configuration().keys(), name
        desc = bundle.compose_descriptor(
            name=f"stream_{name}",
            data_keys=described,
            configuration={
                name: {
                    "data": {k: v["value"] for k, v in config.items()},
                    "timestamps": {k: v["timestamp"] for k, v in config.items()},
                    "data_keys": device.describe_configuration(),
                }
            },
            object_keys={name: list(described)},
        )
        validate("descriptor", desc.descriptor_doc)
    env.devices["camera"].unstage()
