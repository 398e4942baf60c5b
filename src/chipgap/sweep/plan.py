"""The plan of a sweep: its cases, how many rows each has, and how rows split into chunks.

The grid is never built whole. Cases are decoded from their flat index on demand
(`chipgap.sweep.grid.case_at`); the plan keeps only the number of rows of each case (one
integer per case), counted once. Rows are numbered case by case, and within a case layout by
layout, then batch, then sample (the sample varies fastest). Chunk ``k`` holds rows
``[k * chunk_rows, (k + 1) * chunk_rows)``, so a chunk's content depends only on the spec and
``k``: never on how many workers run it, or in what order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from chipgap.analyses.train import resolve_workload
from chipgap.catalog.catalog import Catalog
from chipgap.errors import CatalogError, ChipgapError
from chipgap.sweep.grid import Case, CaseGrid, axis_sizes, case_at
from chipgap.sweep.spec import Spec, TrainSpec

MAX_CASES = 1_000_000
"""Cases (chips x models x counts x shapes) of one sweep: each is counted before anything runs."""
MAX_ROWS = 10**12
"""Rows of one sweep (a trillion: some 100 TB of Parquet)."""
MAX_CHUNKS = 400_000
"""Chunks of one sweep: the manifest lists each with its checksum (see `chipgap.sweep.store`)."""


@dataclass(frozen=True)
class Plan:
    """A sweep's cases and chunks; small and picklable (no catalog inside).

    Attributes
    ----------
    spec : TrainSpec or ServeSpec
    label : str
        Where the spec came from, for messages.
    pairs : tuple of (str, str or None)
        The (chip id, system id) pairs of the chip axis.
    models : tuple of str
        Workload ids or config.json paths, one per model index.
    rows_per_case : ndarray of shape (case,)
        Rows (layouts x batches x samples) of each case.
    """

    spec: Spec
    label: str
    pairs: tuple[tuple[str, str | None], ...]
    models: tuple[str, ...]
    rows_per_case: np.ndarray = field(repr=False)

    @cached_property
    def offsets(self) -> np.ndarray:
        """First row of each case, and the row count last: shape (case + 1,)."""
        return np.concatenate([[0], np.cumsum(self.rows_per_case, dtype=np.int64)])

    @property
    def n_cases(self) -> int:
        return int(self.rows_per_case.size)

    @property
    def n_rows(self) -> int:
        return int(self.offsets[-1])

    @property
    def n_chunks(self) -> int:
        return -(-self.n_rows // self.spec.chunk_rows)

    def case(self, index: int) -> Case:
        """The case with flat ``index``."""
        return case_at(self.spec, len(self.pairs), index)

    def chunk_bounds(self, chunk: int) -> tuple[int, int]:
        """Global rows ``[start, stop)`` of a chunk."""
        start = chunk * self.spec.chunk_rows
        return start, min(start + self.spec.chunk_rows, self.n_rows)

    def segments(self, chunk: int) -> Iterator[tuple[Case, int, int]]:
        """The pieces of the cases a chunk covers: ``(case, first, stop)`` in rows of that case."""
        start, stop = self.chunk_bounds(chunk)
        i = int(np.searchsorted(self.offsets, start, side="right")) - 1
        while start < stop:
            lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
            if hi > start:
                yield self.case(i), start - lo, min(stop, hi) - lo
                start = min(stop, hi)
            i += 1


def _resolved(catalog: Catalog, kind: str, names: list[str], label: str, field_name: str) -> list[str]:
    out = []
    for i, name in enumerate(names):
        try:
            rid = catalog.resolve(kind, name)
        except ChipgapError as e:
            raise CatalogError(label, str(e).rstrip("."), field=f"{field_name}.{i}") from None
        if rid in out:
            raise CatalogError(label, f"lists {rid} twice", field=f"{field_name}.{i}")
        out.append(rid)
    return out


def _models(catalog: Catalog, spec: Spec, label: str) -> list[str]:
    """Workload ids, or config.json paths made absolute (relative ones from the spec's folder)."""
    out = []
    for i, m in enumerate(spec.models):
        if m.endswith(".json"):
            p = Path(m)
            m = str(p if p.is_absolute() else (Path(label).parent / p).resolve())
        try:
            w = resolve_workload(catalog, m)
        except ChipgapError as e:
            raise CatalogError(label, str(e).rstrip("."), field=f"models.{i}") from None
        key = m if m.endswith(".json") else w.id
        if key in out:
            raise CatalogError(label, f"lists {key} twice", field=f"models.{i}")
        out.append(key)
    return out


def _pairs(catalog: Catalog, spec: Spec, label: str) -> list[tuple[str, str | None, int]]:
    """(chip, system, index in ``chips``): each chip in the listed systems that hold it, or in
    its usual system when none does."""
    chips = _resolved(catalog, "chip", spec.chips, label, "chips")
    systems = _resolved(catalog, "system", spec.systems or [], label, "systems")
    holds = {s: catalog.system(s).chip for s in systems}
    for i, s in enumerate(systems):
        if holds[s] not in chips:
            raise CatalogError(label, f"{s} holds {holds[s]}, which 'chips' does not list",
                               field=f"systems.{i}")
    pairs = []
    for i, c in enumerate(chips):
        default = catalog.default_system(c)
        for s in [s for s in systems if holds[s] == c] or [default.id if default else None]:
            pairs.append((c, s, i))
    return pairs


def build_plan(spec: Spec, catalog: Catalog, label: str = "<spec>") -> tuple[Plan, CaseGrid]:
    """Check a spec against the catalog and count its rows.

    Parameters
    ----------
    spec : TrainSpec or ServeSpec
    catalog : Catalog
    label : str, default='<spec>'
        The spec's file, named in messages (relative config.json paths start from its folder).

    Returns
    -------
    plan : Plan
    grid : CaseGrid
        The catalog-bound case builder used for counting, reusable for evaluation.

    Raises
    ------
    CatalogError
        Naming the file and field of an unknown id, a chip the model cannot run (no bf16 peak,
        no memory figure), or a grid with no rows.
    """
    pairs = _pairs(catalog, spec, label)
    models = _models(catalog, spec, label)
    grid = CaseGrid(spec, catalog, [p[:2] for p in pairs], models)
    for p, (_, _, chip_index) in enumerate(pairs):
        try:
            for m in range(len(models)):
                grid.base(p, m)
            grid.hardware(p)
        except ChipgapError as e:
            raise CatalogError(label, str(e).rstrip("."), field=f"chips.{chip_index}") from None
    n_cases = math.prod(axis_sizes(spec, len(pairs)))
    if n_cases > MAX_CASES:
        raise CatalogError(label, f"the grid has {n_cases:,} cases (chips x models x counts x shapes); "
                                  f"at most {MAX_CASES:,} are allowed: split it into several sweeps",
                           field="chips")
    rows = np.fromiter((grid.rows(case_at(spec, len(pairs), i)) for i in range(n_cases)),
                       dtype=np.int64, count=n_cases)
    total = sum(int(r) for r in rows)  # in Python integers: no silent overflow
    if total > MAX_ROWS or -(-total // spec.chunk_rows) > MAX_CHUNKS:
        raise CatalogError(label, f"the grid has {total:,} rows in {-(-total // spec.chunk_rows):,} chunks; "
                                  f"at most {MAX_ROWS:,} rows in {MAX_CHUNKS:,} chunks are allowed (fewer "
                                  "samples or axes, or more chunk_rows)", field="chunk_rows")
    plan = Plan(spec, label, tuple(p[:2] for p in pairs), tuple(models), rows)
    if plan.n_rows == 0:
        field_name = "chip_counts" if isinstance(spec, TrainSpec) else "instance_chips"
        raise CatalogError(label, "the grid is empty: no case has a valid layout to try",
                           field=field_name)
    return plan, grid

