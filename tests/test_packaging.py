"""What a wheel ships: the data files the code reads at run time."""

import tomllib
from pathlib import Path

from chipgap.models.calibration import EFFICIENCY_FILE


def test_package_data_ships_the_fitted_constants():
    # A wheel without efficiency.yaml would silently fall back to physics defaults.
    conf = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    shipped = conf["tool"]["setuptools"]["package-data"]["chipgap"]
    assert EFFICIENCY_FILE.exists() and "models/efficiency.yaml" in shipped
