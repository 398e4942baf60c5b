"""Speed of sweeps: configurations per second with 1 and 2 local workers and on a local Ray,
and Monte Carlo of 10,000 samples of a training and a serving question (`chipgap.analyses.answer`).

    python benchmarks/sweep_speed.py

Prints figures; it asserts nothing (tests check correctness, not time). Each sweep writes its
Parquet files to a temporary folder, so the rates include evaluation, encoding and writing.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import chipgap  # noqa: E402
from chipgap.analyses.answer import answer  # noqa: E402
from chipgap.catalog.question import ServeQuestion, TrainQuestion  # noqa: E402
from chipgap.sweep import build_plan, parse_spec, run_sweep  # noqa: E402

SPEC = {"kind": "train", "chips": ["nvidia-h100-sxm", "nvidia-b200", "huawei-ascend-910c"],
        "models": ["llama-3.1-70b", "llama-3.1-405b"], "chip_counts": [1024, 2048, 4096, 8192],
        "shapes": [{"seq_len": 4096, "global_batch": 1024}], "layouts": "search"}
"""24 cases, about 3.7 million layouts: big enough that pool and Ray start-up (included in the
rates) matter little."""


TINY = {**SPEC, "chips": ["nvidia-h100-sxm"], "models": ["llama-3.1-70b"], "chip_counts": [1024],
        "layouts": [{"tp": 8}]}
"""One row: the time of a run of it is the backend's start-up (workers, imports, catalog)."""


def sweep_rate(label: str, tmp: Path, **kw) -> None:  # noqa: ANN003
    out = tmp / label.replace(" ", "-")
    start = run_sweep(parse_spec(TINY), out.with_name(out.name + "-tiny"), **kw).seconds
    s = run_sweep(parse_spec(SPEC), out, **kw)
    size = sum(f.stat().st_size for f in out.glob("chunk-*.parquet")) / 1e6
    print(f"{label:>18}: {s.rows:,} configurations in {s.chunks} chunks, {s.seconds:.2f} s, "
          f"{s.rows / s.seconds:,.0f} configurations/s ({size:.0f} MB of Parquet); start-up "
          f"{start:.2f} s, {s.rows / max(s.seconds - start, 1e-9):,.0f} configurations/s after it")


def ray_rate(tmp: Path) -> None:
    try:
        import ray
    except ImportError:
        print("               ray: not installed (pip install 'chipgap[ray]')")
        return
    t = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    print(f"  ray start (local): {time.perf_counter() - t:.1f} s")
    try:
        sweep_rate("ray, 2 CPUs", tmp, backend="ray", workers=2)
    finally:
        ray.shutdown()


def monte_carlo(cat: chipgap.Catalog) -> None:
    t = time.perf_counter()
    df = answer(cat, TrainQuestion(model="llama-3.1-70b", chip="huawei-ascend-910c", chips=1024, seq_len=4096,
                                   global_batch=1024, samples=10_000)).samples
    print(f"training question, 10,000 samples (70B on 1,024 x 910C): {time.perf_counter() - t:.2f} s, "
          f"P50 {df.tokens_per_s.median():,.0f} tokens/s")
    t = time.perf_counter()
    df = answer(cat, ServeQuestion(model="llama-3.1-70b", chip="huawei-ascend-910c", chips=8, input_len=2048,
                                   output_len=512, tpot_ms=50, samples=10_000)).samples
    print(f"serving question, 10,000 samples (70B on 8 x 910C, TPOT 50 ms): {time.perf_counter() - t:.2f} s, "
          f"P50 {df.tokens_per_s_per_chip.median():,.0f} tokens/s/chip")


def main() -> None:
    cat = chipgap.load_catalog()
    plan, _ = build_plan(parse_spec(SPEC), cat)
    print(f"sweep: {plan.n_cases} cases, {plan.n_rows:,} configurations, {plan.n_chunks} chunks "
          f"on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sweep_rate("local, 1 worker", tmp, catalog=cat)
        sweep_rate("local, 2 workers", tmp, workers=2)
        ray_rate(tmp)
    t = time.perf_counter()
    large, _ = build_plan(parse_spec(__import__("yaml").safe_load(
        (Path(__file__).parents[1] / "examples" / "sweep-large.yaml").read_text())), cat)
    print(f"examples/sweep-large.yaml: {large.n_rows:,} configurations in {large.n_chunks} chunks, "
          f"counted in {time.perf_counter() - t:.1f} s")
    monte_carlo(cat)


if __name__ == "__main__":
    main()
