"""Chunks of a sweep as Ray tasks: on a local Ray, or on a cluster with ``address``.

Each task evaluates one chunk and returns it encoded as Parquet (the encoding runs in parallel
on the workers); the driver writes the file (so the cluster needs no shared file system),
atomically and once per chunk it receives. A task whose
worker dies is retried by Ray (``max_retries``); a chunk evaluated twice gives the same rows,
so nothing is lost or duplicated. Workers keep the catalog and case caches between tasks.

Ray is an optional extra (``pip install 'chipgap[ray]'``); it is imported only here, when the
ray backend runs. On a cluster every node needs chipgap installed (and ``--catalog`` readable).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from chipgap.errors import InputError
from chipgap.sweep import store
from chipgap.sweep.plan import Plan

MAX_RETRIES = 3
"""Times Ray reruns a chunk whose worker died."""
_GRIDS: dict = {}


def _chunk_table(plan: Plan, catalog_dir: str | None, chunk: int,
                 hook: tuple[int, str] | None = None) -> tuple[bytes, int]:
    """The Ray task: one chunk's Parquet bytes and row count (the catalog is loaded once per
    worker process)."""
    from chipgap.catalog import load_catalog
    from chipgap.sweep.evaluate import evaluate_chunk
    from chipgap.sweep.grid import CaseGrid
    from chipgap.sweep.run import crash_once
    from chipgap.sweep.spec import spec_hash

    crash_once(chunk, hook)
    key = (spec_hash(plan.spec), plan.pairs, plan.models, catalog_dir)
    if key not in _GRIDS:
        _GRIDS.clear()
        _GRIDS[key] = CaseGrid(plan.spec, load_catalog(catalog_dir), plan.pairs, plan.models)
    table = evaluate_chunk(plan, _GRIDS[key], chunk)
    return store.to_parquet(table), table.num_rows


def _ray():  # noqa: ANN202
    try:
        import ray
    except ImportError:
        raise InputError("--backend", "local, or ray once the extra is installed "
                                      "(pip install 'chipgap[ray]')", "ray") from None
    return ray


def run_ray(plan: Plan, out: Path, pending: list[int], workers: int, address: str | None,
            catalog_dir: str | None, on_done: Callable[[int, int], None],
            hook: tuple[int, str] | None = None) -> None:
    """Run ``pending`` chunks as Ray tasks and write each result as it arrives.

    Parameters
    ----------
    plan : Plan
    out : Path
        The sweep folder (on the driver).
    pending : list of int
        Chunks to run, in order.
    workers : int
        CPUs of the local Ray this starts (ignored with ``address``, or when Ray is running).
    address : str, optional
        The cluster to join; None starts a local Ray.
    catalog_dir : str, optional
        The ``--catalog`` folder, as every worker will read it.
    on_done : callable
        Called with (chunk, rows) after each chunk's file is written.
    hook : (int, str), optional
        Test hook passed to `chipgap.sweep.run.crash_once` in the task.
    """
    ray = _ray()
    own = not ray.is_initialized()
    if own:
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False, logging_level="ERROR")
    try:
        task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_chunk_table)
        plan_ref = ray.put(plan)
        window = 2 * max(int(ray.cluster_resources().get("CPU", workers)), 1)
        todo, flight = iter(pending), {}

        def submit() -> None:
            c = next(todo, None)
            if c is not None:
                flight[task.remote(plan_ref, catalog_dir, c, hook)] = c

        for _ in range(window):
            submit()
        while flight:
            ready, _ = ray.wait(list(flight), num_returns=1)
            for ref in ready:
                chunk = flight.pop(ref)
                data, rows = ray.get(ref)
                store.write_chunk(out, chunk, data)
                on_done(chunk, rows)
                submit()
    finally:
        if own:
            ray.shutdown()
