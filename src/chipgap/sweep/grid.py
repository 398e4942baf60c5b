"""The cases of a sweep and what each needs from the catalog: setups, layouts, samples, cost.

A *case* is one point of the outer axes (chip in a system, model, chip count, shape); its
*rows* are its layouts (x batches, when serving) x samples. `CaseGrid` builds, from a catalog,
everything a case needs, and caches what several cases share (one setup per chip, system and
model; one set of sampled hardware per chip and system; one cost per chip-hour per system), so
that a chunk of many small cases costs little more than its array evaluations.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from chipgap.analyses import infer as infer_mod
from chipgap.analyses import train as train_mod
from chipgap.analyses.econ import tco
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.serving_job import ServingJob
from chipgap.errors import ChipgapError
from chipgap.models.sampling import Sampler
from chipgap.models.training import Hardware
from chipgap.sweep.spec import ServeSpec, Spec, TrainSpec

TRAIN_LAYOUT_KEYS = train_mod.LAYOUT_KEYS
SERVE_LAYOUT_KEYS = ("tp", "pp", "ep", "dp")


class Case(NamedTuple):
    """One point of the outer axes; ``shape`` is ``(seq_len, global_batch)`` when training, the
    `ServingJob` of a request shape when serving. ``pair`` and ``model`` are axis indices."""

    index: int
    pair: int
    model: int
    chips: int
    shape: tuple[int, int] | ServingJob


def axis_sizes(spec: Spec, n_pairs: int) -> tuple[int, int, int, int]:
    """Lengths of the outer axes: (chip-system pairs, models, chip counts, shapes)."""
    if isinstance(spec, TrainSpec):
        return n_pairs, len(spec.models), len(spec.chip_counts), len(spec.shapes)
    return n_pairs, len(spec.models), len(spec.instance_chips), len(spec.lengths)


def case_at(spec: Spec, n_pairs: int, index: int) -> Case:
    """The case with flat ``index`` (C order: the chip-system pair varies slowest)."""
    p, m, c, s = (int(i) for i in np.unravel_index(index, axis_sizes(spec, n_pairs)))
    if isinstance(spec, TrainSpec):
        counts, shape = spec.chip_counts, spec.shapes[s]
        return Case(index, p, m, counts[c], (shape.seq_len, shape.global_batch))
    return Case(index, p, m, spec.instance_chips[c], spec.job(s))


class CaseGrid:
    """Per-case inputs of a sweep, built from one catalog (one per process).

    Parameters
    ----------
    spec : TrainSpec or ServeSpec
    catalog : Catalog
    pairs : sequence of (str, str or None)
        The (chip id, system id) pairs of the chip axis.
    models : sequence of str
        Workload ids (or config.json paths), one per model index.
    """

    def __init__(self, spec: Spec, catalog: Catalog, pairs, models):  # noqa: ANN001
        self.spec, self.catalog = spec, catalog
        self.pairs, self.models = tuple(pairs), tuple(models)
        self.samples = max(spec.samples, 1)
        self.batches = (np.asarray(spec.batches if spec.batches else infer_mod.BATCHES, dtype=np.int64)
                        if isinstance(spec, ServeSpec) else np.ones(1, dtype=np.int64))
        self._base: dict[tuple[int, int], object] = {}
        self._hw: dict[int, Hardware | None] = {}
        self._cost: dict[int, float] = {}
        self._layouts_of = lru_cache(maxsize=8)(self._layouts)
        self._n_layouts: dict[tuple[int, int, int, int], int] = {}
        self._canon: dict[int, int] = {}

    def base(self, pair: int, model: int):  # noqa: ANN201
        """The setup of a (chip-system pair, model) at the first chip count, built once."""
        key = (pair, model)
        if key not in self._base:
            chip, system = self.pairs[pair]
            sp, m = self.spec, self.models[model]
            if isinstance(sp, TrainSpec):
                q = sp.question(chip, system, m, sp.chip_counts[0], 0)
                self._base[key] = train_mod.setup(self.catalog, q)
            else:
                q = sp.question(chip, system, m, sp.instance_chips[0], 0)
                self._base[key] = infer_mod.serving_setup(self.catalog, q)
        return self._base[key]

    def setup(self, case: Case):  # noqa: ANN201
        """The case's `Setup` (training) or `ServingSetup`: the base with the case's question,
        counts and shape (the catalog lookups of the base are shared)."""
        b = self.base(case.pair, case.model)
        if isinstance(self.spec, TrainSpec):
            q = b.question.model_copy(update={"chips": case.chips, "seq_len": case.shape[0],
                                              "global_batch": case.shape[1]})
            job = dataclasses.replace(b.job, chips=case.chips * b.devices, seq_len=case.shape[0],
                                      global_batch=case.shape[1])
            return dataclasses.replace(b, job=job, question=q)
        q = b.question.model_copy(update={"chips": case.chips, **case.shape.model_dump()})
        return dataclasses.replace(b, serving=dataclasses.replace(b.serving, chips=case.chips * b.devices),
                                   question=q)

    def layouts(self, case: Case) -> dict[str, np.ndarray]:
        """The case's layouts as int64 arrays of shape (layout,), shared by every case with the
        same scale-up domain, model, chip count and (training) sequence length."""
        return self._layouts_of(*self._layout_key(case))

    def _layout_key(self, case: Case) -> tuple[int, int, int, int]:
        """What a case's layouts depend on; the pair stands for its scale-up domain (the first
        pair with the same domain), since the grids differ between chips only through it."""
        seq = case.shape[0] if isinstance(self.spec, TrainSpec) else 0
        return self._domain_pair(case.pair), case.model, case.chips, seq

    def _domain_pair(self, pair: int) -> int:
        if pair not in self._canon:
            domain = self.base(pair, 0).hardware.domain
            self._canon[pair] = next(p for p in range(pair + 1)
                                     if self.base(p, 0).hardware.domain == domain)
        return self._canon[pair]

    def _layouts(self, pair: int, model: int, chips: int, seq_len: int) -> dict[str, np.ndarray]:
        sp = self.spec
        shape = (seq_len, sp.shapes[0].global_batch) if isinstance(sp, TrainSpec) else sp.job(0)
        s = self.setup(Case(-1, pair, model, chips, shape))
        listed = [None] if sp.layouts == "search" else sp.layouts
        if isinstance(sp, TrainSpec):
            parts = [train_mod.layout_grid(s, lay) for lay in listed]
            keys = TRAIN_LAYOUT_KEYS
        else:
            parts = [infer_mod.instance_layouts(s, lay) for lay in listed]
            keys = SERVE_LAYOUT_KEYS
        table = np.stack([np.concatenate([np.asarray(p[k], dtype=np.int64) for p in parts])
                          for k in keys], axis=1)                        # (layout, key)
        _, first = np.unique(table, axis=0, return_index=True)           # each layout once, in order
        table = table[np.sort(first)]
        return {k: np.ascontiguousarray(table[:, i]) for i, k in enumerate(keys)}

    def rows(self, case: Case) -> int:
        """Rows of a case: layouts x batches x samples."""
        key = self._layout_key(case)
        if key not in self._n_layouts:
            self._n_layouts[key] = len(self._layouts(*key)["tp"])
        return self._n_layouts[key] * len(self.batches) * self.samples

    def hardware(self, pair: int) -> Hardware | None:
        """Sampled hardware of a pair (fields of shape (sample,)), or None for point estimates."""
        if self.spec.samples == 0:
            return None
        if pair not in self._hw:
            mod = train_mod if isinstance(self.spec, TrainSpec) else infer_mod
            draw = Sampler(self.spec.samples, self.spec.seed)
            self._hw[pair] = mod.sampled(self.catalog, self.base(pair, 0), draw).hardware
        return self._hw[pair]

    def usd_per_chip_hour(self, pair: int) -> float:
        """Median TCO cost of one busy chip-hour in the pair's system at the catalog's defaults
        (`chipgap.analyses.econ.tco`), NaN when the catalog lacks the system's price or power."""
        if pair not in self._cost:
            system = self.pairs[pair][1]
            try:
                df = tco(self.catalog, system) if system else None
                self._cost[pair] = float(df.set_index("quantile").loc["P50", "usd_per_chip_hour"]) \
                    if df is not None else np.nan
            except ChipgapError:
                self._cost[pair] = np.nan
        return self._cost[pair]
