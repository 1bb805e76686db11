"""Test helpers for plugin authors: fresh plugin manager, simulated RunEngine, document collector."""
