"""Speculative decoding: how many tokens a verify step emits, and what drafting them costs.

A decode step with ``k`` draft tokens runs the draft module ``k`` times, one token per sequence
each time (a chain: MTP / NEXTN steps, EAGLE with top-k 1), then verifies the ``k`` drafts and the
last accepted token in one pass of the model over ``k + 1`` tokens per sequence. Draft ``i`` is
accepted with probability ``p_i`` given the ones before it were, and the step emits the accepted
drafts plus the model's own next token, on average

    E(k) = 1 + p_1 + p_1 p_2 + ... + p_1 ... p_k        (E(0) = 1: plain decoding)

tokens per sequence, the "accept length" engines print. A source that gives the accept length
(SGLang's benchmark does) sets E(k) directly.

The draft module is the model's own multi-token-prediction module (DeepSeek-V3: a 2d -> d
projection, one more decoder layer of the model and the shared LM head; engines run it once per
draft token, reusing it for steps beyond the modules the model has) or a separate draft model
(an EAGLE-3 head: one decoder layer of the target's width fed by a 3d -> d projection of three of
the target's hidden states, with an LM head over a reduced draft vocabulary).

References
----------
Leviathan, Kalman and Matias, "Fast Inference from Transformers via Speculative Decoding", ICML 2023
(arXiv 2211.17192): expected tokens per step.
DeepSeek-AI, "DeepSeek-V3 Technical Report" (arXiv 2412.19437), section 2.2: the MTP module.
Li et al., "EAGLE-3" (arXiv 2503.01840): the draft head fed by low, middle and high features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chipgap.catalog.workload import Workload


@dataclass(frozen=True)
class Speculation:
    """What speculates and how well.

    Attributes
    ----------
    rates : tuple of float
        Acceptance rate of each draft position, given the ones before it were accepted (empty
        when ``accept_length`` is given instead).
    accept_length : float or None
        Mean tokens a step emits at ``draft_tokens`` drafts, where a source measured it.
    draft_tokens : int or None
        The draft tokens per step; None: every count from 0 to ``len(rates)`` is tried.
    draft : Workload or None
        The draft model; None: the served model's own multi-token-prediction module.
    """

    rates: tuple[float, ...] = ()
    accept_length: float | None = None
    draft_tokens: int | None = None
    draft: Workload | None = None

    @property
    def options(self) -> np.ndarray:
        """Draft-token counts a search tries: the one given, or 0 to ``len(rates)``."""
        if self.draft_tokens is not None:
            return np.array([self.draft_tokens])
        return np.arange(len(self.rates) + 1)

    @property
    def max_drafts(self) -> int:
        return int(self.options.max())


def accept_length(spec: Speculation | None, k):  # noqa: ANN001, ANN201
    """Mean tokens per sequence a step with ``k`` draft tokens emits (array-like; 1 at k = 0).

    >>> float(accept_length(Speculation(rates=(0.8, 0.5)), 2))
    2.2
    >>> float(accept_length(Speculation(accept_length=2.82, draft_tokens=3), 3))
    2.82
    """
    k = np.asarray(k)
    if spec is None:
        return np.ones(k.shape)
    if spec.accept_length is not None:
        return np.where(k == spec.draft_tokens, spec.accept_length, 1.0 + 0.0 * k)
    table = np.concatenate([[1.0], 1.0 + np.cumsum(np.cumprod(spec.rates))])
    return table[np.clip(k.astype(int), 0, len(spec.rates))]
