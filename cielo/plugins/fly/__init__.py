"""Bundled plugin: fly scanning (kickoff/complete/collect of flyers)."""
