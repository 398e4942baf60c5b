"""The performance model's efficiency constants: physics defaults plus what the fit found.

``efficiency.yaml`` beside this module is written by ``benchmarks/calibrate.py`` from the
catalog's calibration runs only (never the held-out ones). It holds shared constants and a
``gemm_max`` per calibrated chip; chips built from the same die with the same software stack
share a calibrated value (``same_silicon``), and any other chip gets the mean of the chips
the shared constants were fitted with (``prior_from``; all calibrated chips in an older table),
a prior that the held-out report measures honestly.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from chipgap.models.training import Efficiency

EFFICIENCY_FILE = Path(__file__).with_name("efficiency.yaml")


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    if not EFFICIENCY_FILE.exists():
        return {"shared": {}, "chips": {}, "same_silicon": {}}
    return yaml.safe_load(EFFICIENCY_FILE.read_text()) or {}


def efficiency_for(chip_id: str, table: dict[str, Any] | None = None) -> tuple[Efficiency, str]:
    """The efficiency constants for ``chip_id`` and where its ``gemm_max`` comes from.

    Returns
    -------
    efficiency : Efficiency
    basis : str
        'calibrated', 'calibrated on <chip> (same silicon)', 'prior (mean of <chips>)' or
        'physics default'.
    """
    t = table if table is not None else _table()
    base = Efficiency().replace(**t.get("shared", {}))
    chips: dict[str, dict[str, float]] = t.get("chips", {})
    twin = t.get("same_silicon", {}).get(chip_id)
    if chip_id in chips:
        return base.replace(**chips[chip_id]), "calibrated"
    if twin in chips:
        return base.replace(**chips[twin]), f"calibrated on {twin} (same silicon)"
    prior = [c for c in t.get("prior_from", chips) if c in chips]
    if prior:
        mean = sum(chips[c]["gemm_max"] for c in prior) / len(prior)
        return base.replace(gemm_max=mean), f"prior (mean of {', '.join(prior)})"
    return base, "physics default"
