"""Fit the performance model's efficiency constants on the calibration runs and write them.

    python benchmarks/calibrate.py            # writes src/chipgap/models/efficiency.yaml

Only runs marked ``split: calibration`` are used; held-out runs never reach the fit. The fit is
deterministic (same runs, same constants), and tests check that the shipped file is what this
script produces.
"""

from __future__ import annotations

import sys

import yaml

import chipgap
from chipgap.analyses.accuracy import fit
from chipgap.models.calibration import EFFICIENCY_FILE

HEADER = ("# Written by benchmarks/calibrate.py from the catalog's calibration runs; do not edit.\n"
          "# gemm_max per calibrated chip; chips in same_silicon share their twin's value; any\n"
          "# other chip gets the mean of the prior_from chips (a prior). See chipgap.models.calibration.\n")


def main() -> int:
    table = fit(chipgap.load_catalog())
    rounded = {
        "shared": {k: float(f"{v:.4g}") for k, v in table["shared"].items()},
        "chips": {c: {"gemm_max": float(f"{v['gemm_max']:.4g}")} for c, v in table["chips"].items()},
        "same_silicon": table["same_silicon"],
        "prior_from": table["prior_from"],
        "fitted_on": table["fitted_on"],
        "rms_log_error": float(f"{table['rms_log_error']:.4g}"),
        "serving_fitted_on": table["serving_fitted_on"],
        "serving_rms_log_error": float(f"{table['serving_rms_log_error']:.4g}"),
    }
    EFFICIENCY_FILE.write_text(HEADER + yaml.safe_dump(rounded, sort_keys=False))
    print(f"wrote {EFFICIENCY_FILE} (rms log error {rounded['rms_log_error']:.3f} on "
          f"{len(table['fitted_on'])} training and {rounded['serving_rms_log_error']:.3f} on "
          f"{len(table['serving_fitted_on'])} serving calibration runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
