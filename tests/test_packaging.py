"""The package declares its licence the way current setuptools wants, and ships the text."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_license_is_an_spdx_expression_with_its_file():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    # a TOML table (license = {text = ...}) is deprecated: setuptools warned at every build
    assert project["project"]["license"] == "BSD-3-Clause"
    assert project["project"]["license-files"] == ["LICENSE"]
    requires = project["build-system"]["requires"]
    assert "setuptools>=77" in requires  # the first setuptools that reads SPDX expressions
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License") and "cielo developers" in text
