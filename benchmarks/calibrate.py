"""Fit the performance model's fitted constants on the calibration runs, and again without each
run group, and write them to the catalog.

    python benchmarks/calibrate.py            # writes src/chipgap/catalog/data/model/fit.yaml
    python benchmarks/calibrate.py --check    # refits and says whether the shipped file matches

Only runs of split ``calibration`` are fitted; ``validation`` and ``test`` runs never reach the
fit. The full fit starts from the priors' medians; each fold (one run group left out) starts
from the full fit, in ``--workers`` processes. Deterministic: the same runs give the same file.
Takes a few minutes.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor

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
            "stacks": {k: {f: float(f"{x:.4g}") for f, x in sorted(d.items())} for k, d in sorted(v.stacks.items())}}


def _fold(group: str, start: FitValues) -> tuple[str, FitValues, float]:
    """The fit without ``group``'s runs (in a worker process: its own catalog)."""
    t = time.perf_counter()
    cat = chipgap.load_catalog()
    cases = [c for c in prepare(cat, runs_of(cat, ("calibration",))) if c.group != group]
    values, _ = fit(cat, cases, RESIDUAL_SD, start=start)
    return group, values, time.perf_counter() - t


def compute(cat: chipgap.Catalog, workers: int = 2, log=print) -> dict:  # noqa: ANN001
    """The fit file's content for ``cat`` (the bundled catalog: workers load it again)."""
    cases = prepare(cat, runs_of(cat, ("calibration",)))
    t = time.perf_counter()
    full, rms = fit(cat, cases, RESIDUAL_SD)
    log(f"full fit on {len(cases)} calibration runs: rms log error {rms:.3f} ({time.perf_counter() - t:.0f} s)")
    folds = {}
    groups = sorted({c.group for c in cases})
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for group, values, seconds in pool.map(_fold, groups, [full] * len(groups)):
            folds[group] = values
            log(f"  without {group}: {seconds:.0f} s")
    return {"model_fit": [{"id": "fit", "values": _plain(full),
                           "folds": {g: _plain(v) for g, v in folds.items()},
                           "fitted_on": [c.run.id for c in cases], "residual_sd": RESIDUAL_SD,
                           "rms_log_error": float(f"{rms:.4g}")}]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="refit and compare with the shipped file")
    p.add_argument("--workers", type=int, default=2, help="processes fitting the folds")
    args = p.parse_args(argv)
    data = compute(chipgap.load_catalog(), args.workers)
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
