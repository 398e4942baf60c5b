"""LLM architectures as tables: a workload's shape and its parameter counts.

>>> from chipgap.catalog import load_catalog
>>> d = workload_summary(load_catalog().workload("llama-3.1-8b"))
>>> round(d["params_total_billion"], 2)
8.03
"""

from __future__ import annotations

from typing import Any

from chipgap.catalog.workload import Workload
from chipgap.models.params import param_count


def workload_summary(w: Workload) -> dict[str, Any]:
    """A workload's shape (its fields) plus its parameter counts computed from the config
    (``params_total_billion``, ``params_active_billion``, ``params_embedding_billion``,
    ``params_mtp_billion``)."""
    p = param_count(w)
    data = w.model_dump(mode="json")
    data.update(params_total_billion=p.total / 1e9, params_active_billion=p.active / 1e9,
                params_embedding_billion=p.embedding / 1e9, params_mtp_billion=p.mtp / 1e9)
    return data
