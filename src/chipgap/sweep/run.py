"""Running a sweep: plan it, skip the chunks already done, evaluate the rest, write each once.

Backends: ``local`` evaluates chunks in this process (one worker) or in a process pool (each
worker loads the catalog once, then receives only chunk numbers and writes its chunk files
itself); ``ray`` sends the same chunks to Ray tasks (`chipgap.sweep.ray_backend`). Either way a
chunk's content depends only on the spec, the input files and its number, and each file is
written atomically, so an interrupted sweep resumes where it stopped and a chunk run twice is
written identically. One run writes a folder at a time (`chipgap.sweep.lock`); the manifest
records each chunk's checksum as it lands, and a run says complete only once every chunk's file
has been checked against it (`chipgap.sweep.store`). Every worker checks, before its first
chunk, that the catalog it loaded is the one the manifest records
(`chipgap.sweep.provenance`).
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
from chipgap.catalog.load import ENV_VAR
from chipgap.errors import InputError, RunError
from chipgap.sweep import store
from chipgap.sweep.evaluate import evaluate_chunk
from chipgap.sweep.grid import CaseGrid
from chipgap.sweep.lock import FolderLock
from chipgap.sweep.plan import Plan, build_plan
from chipgap.sweep.provenance import combined, input_hashes
from chipgap.sweep.spec import Spec, load_spec

BACKENDS = ("local", "ray")
POOL_RETRIES = 3
"""Times a local process pool is rebuilt after a worker dies before the sweep gives up."""
MANIFEST_EVERY_S = 2.0
MAX_WORKERS = 1024
MP_START = "spawn"
"""How the local pool starts its workers (a fresh interpreter each: nothing inherited)."""


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
        Chunks found complete (checksums verified) on start, and chunks written by this run.
    seconds : float
        Wall time of this run.
    complete : bool
        Whether every chunk is now done, each file checked against its recorded checksum.
    notes : tuple of str
        What the run found and did about it: a stale lock taken over, damaged or stray chunk
        files (recomputed or ignored).
    """

    out: str
    chunks: int
    rows: int
    done_before: int
    done_now: int
    seconds: float
    complete: bool
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d


@dataclass(frozen=True)
class Inputs:
    """Where a worker reads the sweep's inputs, and the hash they must have (picklable)."""

    catalog_dir: str | None
    configs: tuple[tuple[str, str], ...]
    catalog_sha256: str

    def hashes(self) -> dict[str, str]:
        return input_hashes(self.catalog_dir, dict(self.configs))

    def check(self) -> None:
        """Refuse to compute when the input files are no longer those the manifest records."""
        now = self.hashes()
        if combined(now) != self.catalog_sha256:
            raise RunError("sweep", "the catalog files changed after the run started; start the run "
                                    "again (the folder then names what differs)")


class ChunkRunner:
    """Evaluates chunks of one plan and writes their files (one per process)."""

    def __init__(self, plan: Plan, grid: CaseGrid, out: Path, inputs: Inputs | None = None):
        self.plan, self.grid, self.out, self.inputs = plan, grid, Path(out), inputs

    def __call__(self, chunk: int) -> store.Written:
        if self.inputs is not None:  # once per process, before its first chunk
            self.inputs.check()
            self.inputs = None
        table = evaluate_chunk(self.plan, self.grid, chunk)
        return store.write_chunk(self.out, chunk, table)


_RUNNER: ChunkRunner | None = None


def _init_worker(plan: Plan, out: str, inputs: Inputs) -> None:
    """Pool initializer: load the catalog once per worker process."""
    global _RUNNER
    grid = CaseGrid(plan.spec, load_catalog(inputs.catalog_dir), plan.pairs, plan.models)
    _RUNNER = ChunkRunner(plan, grid, Path(out), inputs)


def _pool_chunk(chunk: int) -> store.Written:
    return _RUNNER(chunk)


def _run_pool(plan: Plan, out: Path, pending: list[int], workers: int, inputs: Inputs,
              on_done: Callable[[store.Written], None]) -> None:
    """Chunks on a process pool, at most ``2 x workers`` in flight; a pool whose worker died is
    rebuilt and its unfinished chunks run again."""
    finished: set[int] = set()
    for attempt in range(POOL_RETRIES + 1):
        todo = iter([c for c in pending if c not in finished])
        try:
            with ProcessPoolExecutor(workers, mp_context=mp.get_context(MP_START), initializer=_init_worker,
                                     initargs=(plan, str(out), inputs)) as pool:
                flight = {}
                for c in todo:
                    flight[pool.submit(_pool_chunk, c)] = c
                    if len(flight) >= 2 * workers:
                        break
                while flight:
                    done, _ = wait(flight, return_when=FIRST_COMPLETED)
                    for f in done:
                        flight.pop(f)
                        written = f.result()
                        finished.add(written.chunk)
                        on_done(written)
                        nxt = next(todo, None)
                        if nxt is not None:
                            flight[pool.submit(_pool_chunk, nxt)] = nxt
            return
        except BrokenProcessPool:
            if attempt == POOL_RETRIES:
                raise RunError(f"sweep into {out}", f"a worker process died {POOL_RETRIES + 1} times "
                                                    "(out of memory?); the chunks written are kept: run "
                                                    "the same command to resume") from None


def _progress(enabled: bool) -> Progress:
    return Progress(TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("left"),
                    TimeRemainingColumn(), console=Console(stderr=True), disable=not enabled)


def run_sweep(spec: Spec | str | Path, out: str | Path, backend: str = "local", workers: int = 1,
              address: str | None = None, catalog_dir: str | Path | None = None,
              catalog: Catalog | None = None, progress: bool = False,
              max_chunks: int | None = None) -> SweepSummary:
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
        A folder of YAML read on top of the bundled catalog, in this process and every worker
        (default: the ``CHIPGAP_CATALOG`` environment variable, if set).
    catalog : Catalog, optional
        The catalog already loaded from ``catalog_dir`` (saves loading it again here).
    progress : bool, default=False
        Show a progress bar on stderr.
    max_chunks : int, optional
        Stop after writing this many chunks (the rest are left for a later run).

    Returns
    -------
    SweepSummary

    Raises
    ------
    CatalogError
        A malformed spec (naming its file and field).
    InputError
        ``out`` holds another sweep (naming the spec fields or input files that differ), other
        files, or is being written by another run; an unknown backend.
    RunError
        Workers kept dying, or the input files changed during the run.
    """
    t0 = time.perf_counter()
    if backend not in BACKENDS:
        raise InputError("backend", "local or ray", backend)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise InputError("workers", f"a whole number from 1 to {MAX_WORKERS}", workers)
    label = str(spec) if isinstance(spec, (str, Path)) else "<spec>"
    spec = load_spec(spec) if isinstance(spec, (str, Path)) else spec
    if catalog_dir is None and os.environ.get(ENV_VAR):
        catalog_dir = os.environ[ENV_VAR]
    cdir = str(Path(catalog_dir).resolve()) if catalog_dir is not None else None
    plan, grid = build_plan(spec, catalog or load_catalog(cdir), label)
    configs = tuple((written, path) for written, path in zip(spec.models, plan.models) if path.endswith(".json"))
    hashes = input_hashes(cdir, dict(configs))
    inputs = Inputs(cdir, configs, combined(hashes))
    new = store.manifest(plan, {}, cdir, hashes, inputs.catalog_sha256)
    out = Path(out)
    store.check_new_folder(out)
    with FolderLock(out) as lock:
        opened = store.open_folder(out, new)
        notes = [n for n in (lock.note, *opened.notes) if n]
        done = dict(opened.done)
        before = len(done)
        pending = [c for c in range(plan.n_chunks) if c not in done][:max_chunks]
        state = {"rows": 0, "saved": time.monotonic()}

        def save() -> None:
            store.write_manifest(out, {**new, **store.manifest_done(new, done)})
            state["saved"] = time.monotonic()

        with _progress(progress) as bar:
            task = bar.add_task("sweep", total=plan.n_chunks, completed=before, rate="")

            def on_done(w: store.Written) -> None:
                done[w.chunk] = w.record()
                state["rows"] += w.rows
                rate = state["rows"] / max(time.perf_counter() - t0, 1e-9)
                bar.update(task, advance=1, rate=f"{rate:,.0f} configs/s")
                if time.monotonic() - state["saved"] > MANIFEST_EVERY_S:
                    save()

            try:
                _dispatch(plan, grid, out, pending, backend, workers, address, inputs, on_done)
            finally:
                save()
        if len(done) == plan.n_chunks:  # say complete only of files checked against the manifest
            try:
                _verify(out, done, notes, inputs, before_now=set(opened.done))
            finally:
                save()
    return SweepSummary(str(out), plan.n_chunks, plan.n_rows, before, len(done) - before,
                        time.perf_counter() - t0, len(done) == plan.n_chunks, tuple(notes))


def _verify(out: Path, done: dict[int, dict], notes: list[str], inputs: Inputs, before_now: set[int]) -> None:
    """Drop from ``done`` every chunk whose file no longer matches its checksum; refuse a run
    whose input files changed while it ran (the chunks it wrote are dropped)."""
    if combined(inputs.hashes()) != inputs.catalog_sha256:
        for k in set(done) - before_now:
            del done[k]
        raise RunError(f"sweep into {out}", "the catalog files changed while it ran; the chunks it "
                                            "wrote are dropped: run it again")
    for chunk, rec in sorted(done.items()):
        problem = store.check_chunk(out, chunk, rec)
        if problem:
            del done[chunk]
            notes.append(f"chunk {chunk} was {problem} at the end of the run: run again to recompute it")


def _dispatch(plan: Plan, grid: CaseGrid, out: Path, pending: list[int], backend: str, workers: int,
              address: str | None, inputs: Inputs, on_done: Callable[[store.Written], None]) -> None:
    if not pending:
        return
    if backend == "ray":
        from chipgap.sweep.ray_backend import run_ray

        return run_ray(plan, out, pending, workers, address, inputs, on_done)
    if workers == 1:
        runner = ChunkRunner(plan, grid, out)  # this process hashed the inputs it loaded
        for chunk in pending:
            on_done(runner(chunk))
        return
    _run_pool(plan, out, pending, workers, inputs, on_done)
