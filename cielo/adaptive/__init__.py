"""Adaptive agents (tell/ask/report) and adaptive plan helpers."""
