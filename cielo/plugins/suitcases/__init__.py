"""Bundled plugin: suitcases (jsonl, msgpack, csv, tiff, spec, nexus)."""
