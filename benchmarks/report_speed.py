"""Time to build the report with its defaults, as `chipgap report` does (the README's main job).

Run: ``python benchmarks/report_speed.py``. Prints the time of each stage (the model, then rendering) and the total; the
target is under 30 seconds on 2 cores.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from chipgap.report.build import build_report
from chipgap.report.render import write_report


def main() -> None:
    start = time.perf_counter()
    marks: list[tuple[str, float]] = []
    report = build_report(progress=lambda key: marks.append((key, time.perf_counter())))
    built = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        path = write_report(report, Path(d) / "report.html")
        size = path.stat().st_size
    done = time.perf_counter()
    ends = [t for _, t in marks[1:]] + [built]
    for (key, t0), t1 in zip(marks, ends):
        print(f"{key:18s} {t1 - t0:6.2f} s")
    print(f"{'write html':18s} {done - built:6.2f} s  ({size / 1e3:,.0f} kB)")
    print(f"{'total':18s} {done - start:6.2f} s  (target < 30 s on 2 cores)")


if __name__ == "__main__":
    main()
