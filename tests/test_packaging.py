"""What a wheel ships: the data files the code reads at run time."""

import tomllib
from pathlib import Path

from chipgap.catalog.load import bundled_dir


def test_package_data_ships_the_model_constants_and_fit():
    # A wheel without data/model/*.yaml would run every chip at the physics defaults.
    conf = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    shipped = conf["tool"]["setuptools"]["package-data"]["chipgap"]
    assert "catalog/data/**/*.yaml" in shipped
    for name in ("constants", "stacks", "frameworks", "fit", "targets"):
        assert (bundled_dir() / "model" / f"{name}.yaml").is_file()
