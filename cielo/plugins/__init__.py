"""Bundled plugins: ordinary plugins registered through the same path as third-party ones."""

#: Module names of the bundled plugins, registered in this order before any
#: third-party plugin; the plugin's name is the last dotted part ("sim", "scans", ...).
BUNDLED_PLUGINS: tuple[str, ...] = (
    "cielo.plugins.sim",
    "cielo.plugins.epics",
    "cielo.plugins.scans",
    "cielo.plugins.fly",
    "cielo.plugins.callbacks",
    "cielo.plugins.fitting",
    "cielo.plugins.suitcases",
    "cielo.plugins.catalog",
    "cielo.plugins.bus",
    "cielo.plugins.agents",
)

__all__ = ["BUNDLED_PLUGINS"]
