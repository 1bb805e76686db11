"""Bundled plugin: live fitting on lmfit (live_fit) and align-on-peak plans."""
