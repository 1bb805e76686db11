"""Hooks that add to and check every run-start document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cielo.core.plugins import hookspec

__all__ = ["cielo_run_metadata", "cielo_check_run_metadata"]


@hookspec
def cielo_run_metadata(plan_name: str | None, md: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Add metadata to a run-start document (facility, beamline, proposal, ...).

    Fires at every ``open_run``, before the run-start document is composed.

    :param plan_name: the plan's name, when the plan gave one.
    :param md: the metadata gathered so far (read-only): engine metadata, the profile's
        ``[metadata]``, the plan's and the caller's metadata.
    :returns: keys to add; the caller's and the plan's own keys win over them. ``None``
        adds nothing. Results of all plugins are merged in registration order.
    """


@hookspec
def cielo_check_run_metadata(md: dict[str, Any]) -> None:
    """Check and normalise run-start metadata before the run starts.

    Fires at every ``open_run``, after :func:`cielo_run_metadata`, before the document
    is emitted.

    :param md: the complete metadata; a plugin may change values in place (normalise
        a sample name, fill a default).
    :returns: nothing. To refuse the run, raise an exception whose message names the
        key, the bad value and the fix; the plan fails before anything is emitted.
    """
