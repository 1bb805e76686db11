"""Simulated devices: motors, peak detectors, an HDF5 area detector, shutter, beam current, flyer."""

from ._motor import SimMotor, move_duration

__all__ = ["SimMotor", "move_duration"]
