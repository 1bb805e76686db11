"""Bundled plugins: ordinary plugins, each an entry point of the group ``cielo.plugins``.

They are declared in cielo's ``pyproject.toml`` (``[project.entry-points."cielo.plugins"]``)
and found the way a facility's own plugins are; the core names none of them, and each
could be published on its own. This package holds them and exports nothing.
"""

__all__: list[str] = []
