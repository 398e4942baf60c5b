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

from chipgap.errors import ChipgapError, InputError, RunError
from chipgap.sweep import store
from chipgap.sweep.plan import Plan

MAX_RETRIES = 3
"""Times Ray reruns a chunk whose worker died."""
_GRIDS: dict = {}


def _chunk_table(plan: Plan, inputs, chunk: int) -> tuple[bytes, int]:  # noqa: ANN001
    """The Ray task: one chunk's Parquet bytes and row count. The catalog is loaded once per
    worker process, after checking its files are those the manifest records (a node with
    another chipgap or another catalog refuses instead of computing other rows)."""
    from chipgap.catalog import load_catalog
    from chipgap.sweep.evaluate import evaluate_chunk
    from chipgap.sweep.grid import CaseGrid
    from chipgap.sweep.spec import spec_hash

    key = (spec_hash(plan.spec), plan.pairs, plan.models, inputs.catalog_sha256)
    if key not in _GRIDS:
        inputs.check()
        _GRIDS.clear()
        _GRIDS[key] = CaseGrid(plan.spec, load_catalog(inputs.catalog_dir), plan.pairs, plan.models)
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
            inputs, on_done: Callable[[store.Written], None]) -> None:  # noqa: ANN001
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
    inputs : chipgap.sweep.run.Inputs
        The ``--catalog`` folder as every worker will read it, and the hash its files must have.
    on_done : callable
        Called with each chunk's `chipgap.sweep.store.Written` after its file is written.

    Raises
    ------
    ChipgapError
        A task's own error (a worker whose catalog differs), as raised.
    RunError
        A chunk whose task failed on every retry (its worker kept dying), or a lost cluster.
    """
    ray = _ray()
    from ray.exceptions import RayError, RayTaskError

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
                flight[task.remote(plan_ref, inputs, c)] = c

        for _ in range(window):
            submit()
        while flight:
            ready, _ = ray.wait(list(flight), num_returns=1)
            for ref in ready:
                chunk = flight.pop(ref)
                try:
                    data, rows = ray.get(ref)
                except RayTaskError as e:
                    if isinstance(e.cause, ChipgapError):
                        raise e.cause from None
                    raise RunError(f"sweep into {out}", f"chunk {chunk} failed on Ray: "
                                                        f"{_first_line(e.cause or e)}") from None
                except RayError as e:
                    raise RunError(f"sweep into {out}", f"chunk {chunk} failed on Ray after {MAX_RETRIES} "
                                                        f"retries ({type(e).__name__}: {_first_line(e)}); the "
                                                        "chunks written are kept: run again to resume") from None
                on_done(store.write_chunk(out, chunk, data, rows))
                submit()
    finally:
        if own:
            ray.shutdown()


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:200]
