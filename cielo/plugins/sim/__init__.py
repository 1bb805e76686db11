"""Bundled plugin: simulated devices (motors, detectors, area detector, shutter, beam current, flyer)."""
