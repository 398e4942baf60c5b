"""Collective communication time: latency + size / bandwidth (the alpha-beta model).

Sizes are the full tensor in bytes; ``n`` ranks take part; ``bw_gbps`` is each rank's usable
one-way bandwidth in GB/s on the fabric the group crosses; ``alpha_s`` the per-step latency.
The bandwidth term is that of rings (bandwidth-optimal for large messages); the latency term
grows with log2(n), as the tree and recursive-doubling algorithms libraries switch to for small
messages do, and as concurrent pairwise exchanges of an all-to-all do. All functions broadcast.

References
----------
Thakur, Rabenseifner and Gropp, "Optimization of Collective Communication Operations in
MPICH", IJHPCA 19(1), 2005: ring all-gather / reduce-scatter cost (p-1)(alpha + n/(p beta)).
NCCL tests, "Performance reported by NCCL tests" (doc/PERFORMANCE.md): bus bandwidth
factors 2(n-1)/n for all-reduce and (n-1)/n for all-gather, reduce-scatter and all-to-all.
"""

from __future__ import annotations

import numpy as np

GB = 1e9


def all_gather_s(size_bytes, n, bw_gbps, alpha_s):  # noqa: ANN001, ANN201
    """All-gather (or reduce-scatter) of a tensor of ``size_bytes`` over ``n`` ranks."""
    n = np.maximum(n, 1)
    latency = np.ceil(np.log2(n)) * alpha_s
    return np.where(n > 1, latency + (n - 1) / n * size_bytes / (bw_gbps * GB), 0.0)


reduce_scatter_s = all_gather_s


def all_reduce_s(size_bytes, n, bw_gbps, alpha_s):  # noqa: ANN001, ANN201
    """Ring all-reduce: a reduce-scatter followed by an all-gather."""
    return 2 * all_gather_s(size_bytes, n, bw_gbps, alpha_s)


def all_to_all_s(size_bytes, n, bw_gbps, alpha_s):  # noqa: ANN001, ANN201
    """All-to-all where each rank sends ``size_bytes`` in total, (n-1)/n of it to others."""
    return all_gather_s(size_bytes, n, bw_gbps, alpha_s)


def p2p_s(size_bytes, bw_gbps, alpha_s):  # noqa: ANN001, ANN201
    """One point-to-point send of ``size_bytes``."""
    return alpha_s + size_bytes / (bw_gbps * GB)
