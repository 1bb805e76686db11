"""Bundled plugin: EPICS devices on pyepics (signals, motor record, scaler, generic devices)."""
