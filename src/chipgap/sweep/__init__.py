"""Sweeps: a grid of chips x models x chip counts x shapes x layouts x samples, in chunks.

A spec YAML (`chipgap.sweep.spec`) names the axes; the plan (`chipgap.sweep.plan`) counts the
rows and splits them into deterministic chunks; each chunk is one array evaluation per case
(`chipgap.sweep.evaluate`) written to its own Parquet file (`chipgap.sweep.store`), locally or
on Ray (`chipgap.sweep.run`, `chipgap.sweep.ray_backend`); DuckDB queries the files
(`chipgap.sweep.query`).
"""

from chipgap.sweep.plan import Plan, build_plan
from chipgap.sweep.query import query, read_results
from chipgap.sweep.run import SweepSummary, run_sweep
from chipgap.sweep.spec import ServeSpec, TrainSpec, load_spec, parse_spec

__all__ = ["Plan", "ServeSpec", "SweepSummary", "TrainSpec", "build_plan", "load_spec",
           "parse_spec", "query", "read_results", "run_sweep"]
