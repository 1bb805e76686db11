"""Factories of the ``sim.*`` device types: ``factory(name=NAME, **params)``.

Each factory's typed signature is how a profile's parameters are checked; parameters
annotated with a device protocol receive devices (the profile names them).
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

from cielo.core import Range, Units
from cielo.core.paths import data_dir
from cielo.core.protocols import Readable
from cielo.devices import Positioner
from cielo.devices.sim import (
    SimAreaDetector,
    SimBeamCurrent,
    SimFlyer,
    SimMotor,
    SimPeakDetector,
    SimShutter,
    SimTemperature,
    Slit,
)

__all__ = [
    "motor",
    "peak_detector",
    "area_detector",
    "shutter",
    "beam_current",
    "flyer",
    "slit",
    "temperature",
]

#: Numbers that must be above zero (speeds, widths, periods) or not below it (delays, times).
Positive = Annotated[float, Range(gt=0)]
NonNegative = Annotated[float, Range(ge=0)]
Count = Annotated[int, Range(ge=1)]
#: Times, in seconds (a form shows "exposure (s)").
PositiveSeconds = Annotated[float, Range(gt=0), Units("s")]
Seconds = Annotated[float, Range(ge=0), Units("s")]


def motor(
    name: str,
    initial: float = 0.0,
    velocity: Positive | None = None,
    acceleration: Positive | None = None,
    units: str = "mm",
    precision: Annotated[int, Range(ge=0, le=15)] = 3,
    limits: tuple[float, float] | None = None,
    timeout: PositiveSeconds | None = None,
    settle_time: Seconds = 0.0,
) -> SimMotor:
    """A simulated motor: instant unless given a ``velocity`` (units/s) and
    ``acceleration`` (units/s²); ``limits`` are soft limits ``[low, high]``."""

    return SimMotor(
        name=name,
        initial=initial,
        velocity=velocity,
        acceleration=acceleration,
        units=units,
        precision=precision,
        limits=tuple(limits) if limits is not None else None,  # type: ignore[arg-type]
        timeout=timeout,
        settle_time=settle_time,
    )


def peak_detector(
    name: str,
    motors: list[Readable],
    center: float | list[float] = 0.0,
    sigma: Positive | list[Positive] = 1.0,
    amplitude: float = 1.0,
    background: float = 0.0,
    noise: Literal["none", "gaussian", "poisson", "uniform"] = "none",
    noise_level: NonNegative = 1.0,
    seed: int | None = None,
    count_time: Seconds = 0.0,
) -> SimPeakDetector:
    """A point detector reading a Gaussian peak over the positions of ``motors``."""

    return SimPeakDetector(
        motors,
        name=name,
        center=center,
        sigma=sigma,
        amplitude=amplitude,
        background=background,
        noise=noise,
        noise_level=noise_level,
        seed=seed,
        count_time=count_time,
    )


def area_detector(
    name: str,
    directory: str | None = None,
    width: Annotated[int, Range(ge=1, le=65536)] = 64,
    height: Annotated[int, Range(ge=1, le=65536)] = 48,
    exposure: Seconds = 0.0,
    motors: list[Readable] | None = None,
    center: float = 0.0,
    sigma: Positive = 1.0,
    amplitude: float = 1000.0,
    seed: int | None = None,
) -> SimAreaDetector:
    """A camera writing ``height × width`` frames to HDF5 files in ``directory``.

    ``directory`` may start with ``~``; by default frames go to ``frames/NAME`` in the
    user data directory (:func:`cielo.core.paths.data_dir`), beside the default catalog,
    so stored runs can still read their frames later (a temporary directory would not).
    """
    if directory is None:
        directory = str(data_dir() / "frames" / name)
    return SimAreaDetector(
        name=name,
        directory=os.path.expanduser(directory),
        width=width,
        height=height,
        exposure=exposure,
        motors=motors or (),
        center=center,
        sigma=sigma,
        amplitude=amplitude,
        seed=seed,
    )


def shutter(
    name: str, delay: Seconds = 0.05, initial: Literal["open", "closed"] = "closed"
) -> SimShutter:
    """A shutter that opens or closes ``delay`` seconds after being asked."""

    return SimShutter(name=name, delay=delay, initial=initial)


def beam_current(name: str, nominal: NonNegative = 500.0, units: str = "mA") -> SimBeamCurrent:
    """A beam current signal, changed from outside (``drop()``/``restore()``/``program()``)."""

    return SimBeamCurrent(name=name, nominal=nominal, units=units)


def flyer(
    name: str,
    num: Count = 10,
    period: PositiveSeconds = 0.01,
    start: float = -1.0,
    stop: float = 1.0,
    center: float = 0.0,
    sigma: Positive = 0.3,
    amplitude: float = 1.0,
    noise_level: NonNegative = 0.0,
    seed: int | None = None,
) -> SimFlyer:
    """A flyer sweeping ``num`` points from ``start`` to ``stop``, one every ``period`` s."""

    return SimFlyer(
        name=name,
        num=num,
        period=period,
        start=start,
        stop=stop,
        center=center,
        sigma=sigma,
        amplitude=amplitude,
        noise_level=noise_level,
        seed=seed,
    )


def slit(
    name: str,
    top: Positioner,
    bottom: Positioner,
    gap_limits: tuple[float, float] | None = None,
) -> Slit:
    """A slit whose ``gap`` and ``center`` move the ``top`` and ``bottom`` blades."""

    limits = {"gap": (float(gap_limits[0]), float(gap_limits[1]))} if gap_limits else None
    return Slit(name=name, reals={"top": top, "bottom": bottom}, limits=limits)


def temperature(
    name: str,
    initial: float = 295.0,
    tau: Seconds = 0.0,
    tolerance: Positive = 0.1,
    units: str = "K",
    limits: tuple[float, float] | None = (0.0, 1000.0),
    timeout: PositiveSeconds | None = None,
) -> SimTemperature:
    """A temperature controller approaching its setpoint with time constant ``tau`` (s),
    done within ``tolerance``."""
    return SimTemperature(
        name=name,
        initial=initial,
        tau=tau,
        tolerance=tolerance,
        units=units,
        limits=tuple(limits) if limits is not None else None,  # type: ignore[arg-type]
        timeout=timeout,
    )
