"""The XAFS scan's web form: BMM's layout (element and edge, sample, preparation,
comment, number of scans, start, mode, then the regions relative to E0), checked by
the plan's own rules (:func:`~cielo_example_beamline.xafs.xafs_summary`)."""

from __future__ import annotations

from cielo.hookspecs import PlanForm

from .xafs import xafs_summary

__all__ = ["xafs_form"]


def xafs_form() -> PlanForm:
    """The form ``cielo serve``'s web application draws for ``xafs_scan``."""
    return PlanForm(
        ui={
            "ui:title": "XAFS scan",
            "ui:layout": [
                ["element", "edge", "e0"],
                ["sample", "preparation"],
                ["comment"],
                ["repeats", "start"],
                ["mode"],
                {
                    "intervals": {
                        "title": "Regions relative to E0 (eV; a value ending in k is in "
                        "k-space: Å⁻¹ for bounds and steps, seconds × k for times)",
                        "bounds": "bounds",
                        "between": ["steps", "times"],
                    }
                },
                ["detectors", "energy"],
            ],
            "element": {"ui:title": "Element", "ui:placeholder": "Fe"},
            "edge": {"ui:title": "Edge"},
            "e0": {"ui:title": "E0 (eV)"},
            "sample": {"ui:title": "Sample"},
            "preparation": {"ui:title": "Preparation"},
            "comment": {"ui:title": "Comment", "ui:widget": "textarea", "ui:options": {"rows": 2}},
            "repeats": {"ui:title": "Number of scans"},
            "start": {"ui:title": "Start (number of the first scan)"},
            "mode": {"ui:title": "Mode", "ui:widget": "radio", "ui:options": {"inline": True}},
            "detectors": {"ui:title": "Detectors"},
            "energy": {"ui:title": "Energy (monochromator)"},
        },
        check=xafs_summary,
    )
