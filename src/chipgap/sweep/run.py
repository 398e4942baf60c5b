"""Running a sweep: plan it, skip the chunks already done, evaluate the rest, write each once.

Backends: ``local`` evaluates chunks in this process (one worker) or in a process pool (each
worker loads the catalog once, then receives only chunk numbers and writes its chunk files
itself); ``ray`` sends the same chunks to Ray tasks (`chipgap.sweep.ray_backend`). Either way a
chunk's content depends only on the spec and its number, and each file is written atomically,
so an interrupted sweep resumes where it stopped and a chunk run twice is written identically.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from chipgap.catalog import Catalog, load_catalog
from chipgap.errors import InputError
from chipgap.sweep import store
from chipgap.sweep.evaluate import evaluate_chunk
from chipgap.sweep.grid import CaseGrid
from chipgap.sweep.plan import Plan, build_plan
from chipgap.sweep.spec import Spec, load_spec

BACKENDS = ("local", "ray")
POOL_RETRIES = 3
"""Times a local process pool is rebuilt after a worker dies before the sweep gives up."""
MANIFEST_EVERY_S = 2.0


@dataclass(frozen=True)
class SweepSummary:
    """What a run did.

    Attributes
    ----------
    out : str
        The sweep folder.
    chunks, rows : int
        Chunks and rows (configurations x samples) of the whole sweep.
    done_before, done_now : int
        Chunks found complete on start, and chunks written by this run.
    seconds : float
        Wall time of this run.
    complete : bool
        Whether every chunk is now done.
    """

    out: str
    chunks: int
    rows: int
    done_before: int
    done_now: int
    seconds: float
    complete: bool

    def to_dict(self) -> dict:
        return asdict(self)


def crash_once(chunk: int, hook: tuple[int, str] | None) -> None:
    """Test hook: kill this process the first time chunk ``hook[0]`` runs (marker file ``hook[1]``)."""
    if hook is not None and chunk == hook[0] and not Path(hook[1]).exists():
        Path(hook[1]).touch()
        os._exit(1)


class ChunkRunner:
    """Evaluates chunks of one plan and writes their files (one per process)."""

    def __init__(self, plan: Plan, grid: CaseGrid, out: Path, hook: tuple[int, str] | None = None):
        self.plan, self.grid, self.out, self.hook = plan, grid, Path(out), hook

    def __call__(self, chunk: int) -> tuple[int, int]:
        crash_once(chunk, self.hook)
        table = evaluate_chunk(self.plan, self.grid, chunk)
        store.write_chunk(self.out, chunk, table)
        return chunk, table.num_rows


_RUNNER: ChunkRunner | None = None


def _init_worker(plan: Plan, catalog_dir: str | None, out: str, hook: tuple[int, str] | None) -> None:
    """Pool initializer: load the catalog once per worker process."""
    global _RUNNER
    grid = CaseGrid(plan.spec, load_catalog(catalog_dir), plan.pairs, plan.models)
    _RUNNER = ChunkRunner(plan, grid, Path(out), hook)


def _pool_chunk(chunk: int) -> tuple[int, int]:
    return _RUNNER(chunk)


def _run_pool(plan: Plan, out: Path, pending: list[int], workers: int, catalog_dir: str | None,
              on_done: Callable[[int, int], None], hook: tuple[int, str] | None) -> None:
    """Chunks on a spawned process pool, at most ``2 x workers`` in flight; a pool whose worker
    died is rebuilt and its unfinished chunks run again."""
    finished: set[int] = set()
    for attempt in range(POOL_RETRIES + 1):
        todo = iter([c for c in pending if c not in finished])
        try:
            with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                                     initargs=(plan, catalog_dir, str(out), hook)) as pool:
                flight = {}
                for c in todo:
                    flight[pool.submit(_pool_chunk, c)] = c
                    if len(flight) >= 2 * workers:
                        break
                while flight:
                    done, _ = wait(flight, return_when=FIRST_COMPLETED)
                    for f in done:
                        flight.pop(f)
                        chunk, rows = f.result()
                        finished.add(chunk)
                        on_done(chunk, rows)
                        nxt = next(todo, None)
                        if nxt is not None:
                            flight[pool.submit(_pool_chunk, nxt)] = nxt
            return
        except BrokenProcessPool:
            if attempt == POOL_RETRIES:
                raise


def _progress(enabled: bool) -> Progress:
    return Progress(TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("left"),
                    TimeRemainingColumn(), console=Console(stderr=True), disable=not enabled)


def run_sweep(spec: Spec | str | Path, out: str | Path, backend: str = "local", workers: int = 1,
              address: str | None = None, catalog_dir: str | Path | None = None,
              catalog: Catalog | None = None, progress: bool = False,
              max_chunks: int | None = None, _crash_once: tuple[int, str] | None = None) -> SweepSummary:
    """Run (or resume) a sweep into the folder ``out``.

    Parameters
    ----------
    spec : TrainSpec, ServeSpec, str or Path
        The spec, or the YAML file holding it.
    out : str or Path
        The sweep folder: new, empty, or holding this same sweep (which then resumes).
    backend : {'local', 'ray'}, default='local'
    workers : int, default=1
        Local: 1 evaluates in this process, more use a process pool. Ray: CPUs of a local Ray
        (ignored with ``address``).
    address : str, optional
        A Ray cluster to join (``auto``, ``ray://host:10001``); default: start a local one.
    catalog_dir : str or Path, optional
        A folder of YAML read on top of the bundled catalog, in this process and every worker.
    catalog : Catalog, optional
        The catalog already loaded from ``catalog_dir`` (saves loading it again here).
    progress : bool, default=False
        Show a progress bar on stderr.
    max_chunks : int, optional
        Stop after writing this many chunks (the rest are left for a later run).
    _crash_once : (int, str), optional
        Test hook: the worker running this chunk dies the first time (see `crash_once`).

    Returns
    -------
    SweepSummary

    Raises
    ------
    CatalogError
        A malformed spec (naming its file and field).
    InputError
        ``out`` holds another sweep or other files; an unknown backend.
    """
    t0 = time.perf_counter()
    if backend not in BACKENDS:
        raise InputError("backend", "local or ray", backend)
    if not workers >= 1:
        raise InputError("workers", "a whole number of at least 1", workers)
    label = str(spec) if isinstance(spec, (str, Path)) else "<spec>"
    spec = load_spec(spec) if isinstance(spec, (str, Path)) else spec
    cdir = str(Path(catalog_dir).resolve()) if catalog_dir is not None else None
    plan, grid = build_plan(spec, catalog or load_catalog(cdir), label)
    out = Path(out)
    done = set(store.open_folder(out, plan, cdir))
    pending = [c for c in range(plan.n_chunks) if c not in done][:max_chunks]
    before, state = len(done), {"rows": 0, "saved": time.monotonic()}

    def save() -> None:
        store.write_manifest(out, store.manifest(plan, sorted(done), cdir))
        state["saved"] = time.monotonic()

    with _progress(progress) as bar:
        task = bar.add_task("sweep", total=plan.n_chunks, completed=before, rate="")

        def on_done(chunk: int, rows: int) -> None:
            done.add(chunk)
            state["rows"] += rows
            rate = state["rows"] / max(time.perf_counter() - t0, 1e-9)
            bar.update(task, advance=1, rate=f"{rate:,.0f} configs/s")
            if time.monotonic() - state["saved"] > MANIFEST_EVERY_S:
                save()

        try:
            _dispatch(plan, grid, out, pending, backend, workers, address, cdir, on_done, _crash_once)
        finally:
            save()
    return SweepSummary(str(out), plan.n_chunks, plan.n_rows, before, len(done) - before,
                        time.perf_counter() - t0, len(done) == plan.n_chunks)


def _dispatch(plan: Plan, grid: CaseGrid, out: Path, pending: list[int], backend: str, workers: int,
              address: str | None, cdir: str | None, on_done: Callable[[int, int], None],
              hook: tuple[int, str] | None) -> None:
    if not pending:
        return
    if backend == "ray":
        from chipgap.sweep.ray_backend import run_ray

        return run_ray(plan, out, pending, workers, address, cdir, on_done, hook)
    if workers == 1:
        runner = ChunkRunner(plan, grid, out, hook)
        for chunk in pending:
            on_done(*runner(chunk))
        return
    _run_pool(plan, out, pending, workers, cdir, on_done, hook)
