"""Bundled plugin: catalog backends (sqlite, postgresql) and readers of external data (HDF5, TIFF)."""
