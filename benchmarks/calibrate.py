"""Fit the performance model's fitted constants on the calibration runs, and again without each
run group, and write them to the catalog.

    python benchmarks/calibrate.py            # writes src/chipgap/catalog/data/model/fit.yaml
    python benchmarks/calibrate.py --check    # refits and says whether the shipped file matches

Only runs of split ``calibration`` are fitted; ``validation`` and ``test`` runs never reach the
fit. The full fit starts from the priors' medians; each fold (one run group left out) starts
from the full fit. Deterministic: the same runs give the same file. Takes a few minutes.
"""

from __future__ import annotations

import argparse
import sys
import time

import yaml

import chipgap
from chipgap.analyses.accuracy import fit, prepare, runs_of
from chipgap.catalog.load import bundled_dir
from chipgap.catalog.model_data import FitValues

FIT_FILE = bundled_dir() / "model" / "fit.yaml"
RESIDUAL_SD = 0.15
"""The spread of log errors the fit expects of a run (about 15 %): it weighs the runs against the
priors. It is the model's stated error, not fitted; a larger value trusts the priors more."""
HEADER = ("# Written by benchmarks/calibrate.py from the calibration runs; do not edit. See\n"
          "# chipgap.catalog.model_data.ModelFit: `values` is the fit on every calibration run, `folds`\n"
          "# the fit without each run group (the cross-validated error predicts a group's runs with it).\n")


def _plain(v: FitValues) -> dict:
    return {"constants": {k: float(f"{x:.4g}") for k, x in sorted(v.constants.items())},
            "stacks": {k: float(f"{x:.4g}") for k, x in sorted(v.stacks.items())}}


def compute(cat: chipgap.Catalog, log=print) -> dict:  # noqa: ANN001
    """The fit file's content for ``cat``."""
    cases = prepare(cat, runs_of(cat, ("calibration",)))
    t = time.perf_counter()
    full, rms = fit(cat, cases, RESIDUAL_SD)
    log(f"full fit on {len(cases)} calibration runs: rms log error {rms:.3f} ({time.perf_counter() - t:.0f} s)")
    folds = {}
    for group in sorted({c.group for c in cases}):
        t = time.perf_counter()
        folds[group], _ = fit(cat, [c for c in cases if c.group != group], RESIDUAL_SD, start=full)
        log(f"  without {group}: {time.perf_counter() - t:.0f} s")
    return {"model_fit": [{"id": "fit", "values": _plain(full),
                           "folds": {g: _plain(v) for g, v in folds.items()},
                           "fitted_on": [c.run.id for c in cases], "residual_sd": RESIDUAL_SD,
                           "rms_log_error": float(f"{rms:.4g}")}]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="refit and compare with the shipped file")
    args = p.parse_args(argv)
    data = compute(chipgap.load_catalog())
    text = HEADER + yaml.safe_dump(data, sort_keys=False, width=110)
    if args.check:
        same = FIT_FILE.read_text() == text
        print("the shipped fit is what the runs give" if same else "the shipped fit differs: rerun without --check")
        return 0 if same else 1
    FIT_FILE.write_text(text)
    print(f"wrote {FIT_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
