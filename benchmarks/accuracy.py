"""The performance model against every published run in the catalog: the cross-validated error
by chip family, workload class and engine, against the targets, and each run's prediction.

    python benchmarks/accuracy.py            # calibration and validation runs, cross-validated
    python benchmarks/accuracy.py --runs     # and every run's row
    python benchmarks/accuracy.py --test     # the test runs alone (never fitted, never developed on)

A run is predicted by the fit that left its source group out (``data/model/fit.yaml``, written by
benchmarks/calibrate.py): that is the error on work the model never saw, by source. Settings a
source left unstated are scored at the framework's documented default; ``low``/``high`` is the
spread over every other valid setting. Where a run reports a range (a FLOP convention the paper
does not publish), the error is against its point and ``in_range`` says whether the prediction
falls inside.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

import chipgap
from chipgap.analyses.accuracy import kind_of, predictions, summary

COLUMNS = ["run", "split", "group", "chip", "metric", "measured", "predicted", "error_pct", "low", "high",
           "fits", "defaulted", "fit"]


def _print(title: str, df: pd.DataFrame) -> None:
    print(f"\n{title}")
    print(df.to_string(float_format=lambda x: f"{x:,.1f}"))


def report(cat: chipgap.Catalog, df: pd.DataFrame, runs: bool) -> None:
    targets = cat.all("target")
    for kind in ("training", "serving"):
        part = kind_of(df, kind)
        if part.empty:
            continue
        t = targets.get(kind)
        s = summary(part, "split")
        head = f"=== {kind}: {len(part)} runs"
        if t is not None:
            head += f"; targets median <= {t.median_abs_error_pct:g}%, P90 <= {t.p90_abs_error_pct:g}%"
        print(f"\n{head} ===")
        _print("by split (absolute percentage error; median_error_pct signed)", s)
        _print("all runs", summary(part.assign(all="all"), "all"))
        for by in ("family", "workload_class", "engine"):
            _print(f"by {by.replace('_', ' ')}", summary(part, by))
        if runs:
            _print("runs", part[COLUMNS].sort_values(["split", "error_pct"]).set_index("run"))
    misfits = df[~df.fits].run.tolist()
    if misfits:
        print(f"\nthe memory model rejects the published layout of {len(misfits)} runs "
              f"(it over-counts their memory): {', '.join(misfits)}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", action="store_true", help="print every run's row too")
    p.add_argument("--test", action="store_true", help="the test runs alone, predicted by the full fit")
    args = p.parse_args(argv)
    pd.set_option("display.width", 220)
    pd.set_option("display.max_rows", 1000)
    cat = chipgap.load_catalog()
    if args.test:
        df = predictions(cat, splits=("test",), cross_validated=False)
        print("TEST runs: groups never fitted and never read while the model was developed")
    else:
        df = predictions(cat)
        print("cross-validated: each run predicted by the fit without its source group")
    report(cat, df, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
