"""Simulated devices: motors, peak detectors, an HDF5 area detector, shutter, beam current,
flyer, temperature controller and a slit; the ``sim`` plugin offers them to profiles."""

from ._area import DATASET, SimAreaDetector
from ._beam import SimBeamCurrent
from ._flyer import SimFlyer
from ._motor import SimMotor, move_duration
from ._peak import SimPeakDetector, position_of
from ._shutter import SimShutter
from ._slit import Slit
from ._temperature import SimTemperature

__all__ = [
    "DATASET",
    "SimAreaDetector",
    "SimBeamCurrent",
    "SimFlyer",
    "SimMotor",
    "SimPeakDetector",
    "SimShutter",
    "SimTemperature",
    "Slit",
    "move_duration",
    "position_of",
]
