"""The training and inference models against every published run in the catalog: each case's
error, and the median and worst absolute percentage error, calibration and held-out apart.

    python benchmarks/accuracy.py

Uses the shipped efficiency constants (benchmarks/calibrate.py wrote them from the calibration
runs only). Where a run reports a range (a FLOP convention the paper does not publish), the
error is against its point and ``in_range`` says whether the prediction falls inside.
"""

from __future__ import annotations

import sys

import pandas as pd

import chipgap
from chipgap.analyses.accuracy import predict_runs, predict_serving_runs, summary


def report(title: str, df: pd.DataFrame) -> None:
    cols = ["run", "split", "chip", "metric", "measured", "predicted", "error_pct", "in_range",
            "fits", "efficiency_basis"]
    print(f"\n=== {title} ===")
    for split in ("calibration", "holdout"):
        part = df[df.split == split]
        print(f"\n{split} runs ({len(part)})")
        print(part[cols].to_string(index=False, float_format=lambda x: f"{x:,.4g}"))
    print("\nabsolute percentage error by split")
    print(summary(df).to_string(float_format=lambda x: f"{x:.1f}"))


def main() -> int:
    cat = chipgap.load_catalog()
    df = predict_runs(cat)
    pd.set_option("display.width", 200)
    report("training", df)
    misfits = df[~df.fits].run.tolist()
    if misfits:
        print(f"\nthe memory model rejects the published layout of {len(misfits)} runs "
              f"(it over-counts their memory): {', '.join(misfits)}")
    if cat.serving_runs:
        report("inference and serving", predict_serving_runs(cat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
