"""Bundled plugin: the standard scans (count, scan, grid_scan, spiral, adaptive, ...)."""
