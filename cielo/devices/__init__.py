"""Devices: signals, devices, kinds, positioners, pseudo positioners and status helpers."""
