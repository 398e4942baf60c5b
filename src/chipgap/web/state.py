"""What one workbench process holds: its settings, the catalog, a bounded pool of worker threads,
and the reports built for each set of changed assumptions.

Every computation runs in the pool, never on the event loop, under a time limit; a request that
would wait behind too many others is refused at once. Reports are built one at a time (their
charts use matplotlib, which is not thread-safe) and kept, a few, by their set of changes.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import HTTPException


@dataclass(frozen=True)
class Settings:
    """A workbench's settings (``chipgap serve`` options).

    Attributes
    ----------
    catalog_dir : Path or None
        A user catalog folder read on top of the bundled one.
    samples, seed : int
        Monte-Carlo draws of the report behind the overview (the report's defaults, so a
        downloaded scenario gives the same numbers in ``chipgap report --scenario``).
    timeout_s : float
        Longest a request waits for its computation (a report takes ~7 s on 2 cores).
    workers : int
        Threads that compute; ``max_pending`` requests may wait for one.
    max_configs : int
        Most configurations one train or serve question may search.
    max_samples : int
        Most Monte-Carlo samples one question may ask.
    max_upload_bytes : int
        Largest scenario file accepted.
    reports_kept : int
        Reports kept, by set of changes.
    """

    catalog_dir: Path | None = None
    samples: int = 2000
    seed: int = 0
    timeout_s: float = 120.0
    workers: int = 2
    max_pending: int = 16
    max_configs: int = 2_000_000
    max_samples: int = 20_000
    max_upload_bytes: int = 256_000
    reports_kept: int = 8


@dataclass
class Built:
    """A report and what it needed: its changes, the scenario they make (None without changes)."""

    report: Any
    changes: tuple = ()
    scenario: dict | None = None


@dataclass
class Workbench:
    settings: Settings = field(default_factory=Settings)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.settings.workers, thread_name_prefix="chipgap")
        self._pending = 0
        self._lock = threading.Lock()
        self._catalog: Any = None
        self._reports: OrderedDict[str, Future] = OrderedDict()
        self._report_lock = threading.Lock()

    # -- the catalog -----------------------------------------------------------------------------
    def catalog(self) -> Any:
        """The catalog (bundled plus ``catalog_dir``), loaded on first use."""
        with self._lock:
            if self._catalog is None:
                from chipgap.catalog import load_catalog

                self._catalog = load_catalog(self.settings.catalog_dir)
            return self._catalog

    # -- bounded work ----------------------------------------------------------------------------
    async def run(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """``fn(*args)`` in the pool, awaited at most ``timeout`` seconds (default the setting's).

        Raises
        ------
        HTTPException
            503 when too many requests already wait; 504 when the time runs out (the work goes
            on, and a report it was building is kept for the next request).
        """
        return await self.wait(self.submit(fn, *args), timeout)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        with self._lock:
            if self._pending >= self.settings.max_pending:
                raise HTTPException(503, f"the workbench is busy ({self._pending} computations waiting); "
                                         "try again in a few seconds")
            self._pending += 1
        fut = self._pool.submit(fn, *args)
        fut.add_done_callback(self._done)
        return fut

    def _done(self, _: Future) -> None:
        with self._lock:
            self._pending -= 1

    async def wait(self, fut: Future, timeout: float | None = None) -> Any:
        limit = self.settings.timeout_s if timeout is None else timeout
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(fut)), limit)
        except TimeoutError:
            raise HTTPException(504, f"the computation took longer than {limit:g} s; it goes on in the "
                                     "background: reload in a while, or ask a smaller question") from None

    # -- reports by set of changes ---------------------------------------------------------------
    def report_future(self, changes: Sequence[Any] = ()) -> Future:
        """The report under ``changes`` (`chipgap.analyses.assumptions.Change`), built once."""
        key = json.dumps([c.to_dict() for c in changes], sort_keys=True)
        with self._lock:
            fut = self._reports.get(key)
            if fut is not None and not (fut.done() and fut.exception() is not None):
                self._reports.move_to_end(key)
                return fut
        fut = self.submit(self._build, tuple(changes))
        with self._lock:
            self._reports[key] = fut
            while len(self._reports) > self.settings.reports_kept:
                self._reports.popitem(last=False)
        return fut

    def report_ready(self, changes: Sequence[Any] = ()) -> Built | None:
        """The report under ``changes`` if it is already built, else None (without starting it)."""
        key = json.dumps([c.to_dict() for c in changes], sort_keys=True)
        with self._lock:
            fut = self._reports.get(key)
        return fut.result() if fut is not None and fut.done() and fut.exception() is None else None

    def _build(self, changes: tuple) -> Built:
        import matplotlib

        matplotlib.use("Agg")
        from chipgap.analyses.assumptions import scenario_document, write_scenario
        from chipgap.report.build import build_report

        s = self.settings
        with self._report_lock:
            if not changes:
                return Built(build_report(s.catalog_dir, samples=s.samples, seed=s.seed))
            doc = scenario_document(self.catalog(), changes)
            with tempfile.TemporaryDirectory(prefix="chipgap-serve-") as tmp:
                path = write_scenario(doc, Path(tmp) / "workbench.yaml")
                report = build_report(s.catalog_dir, scenario=path, samples=s.samples, seed=s.seed)
            return Built(report, changes, doc)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
