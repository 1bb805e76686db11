"""Example beamline extension for cielo (a template for facility plugin packages).

The plugin itself is :mod:`cielo_example_beamline.plugin`, registered through the
``cielo.plugins`` entry point; :data:`PROFILE` is the path of the profile that uses it.
"""

from pathlib import Path

#: The example profile (load it with ``cielo.load_profile(PROFILE)``).
PROFILE = Path(__file__).parent / "profiles" / "example_beamline.toml"

__all__ = ["PROFILE"]
