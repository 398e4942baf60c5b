"""Published measurements of LLM training and serving, for calibrating and checking the
performance model.

A run is a question (`chipgap.catalog.question.TrainQuestion` or `ServeQuestion`: the workload,
chip, counts, shapes, layout and engine settings its source reports) plus what was measured,
where, and which split it belongs to (`Split`). A layout field the source does not report is
left unset; the accuracy check scores it at the run's framework's documented default.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from chipgap.catalog.quantity import Positive, PositiveQuantity
from chipgap.catalog.question import Count, ServeQuestion, TrainPrecision, TrainQuestion, WeightPrecision
from chipgap.catalog.schema import Record, Slug, Text
from chipgap.catalog.serving_job import KvReserve, Phase, Switch

Split = Literal["calibration", "validation", "test"]
"""``calibration`` runs may be fitted; ``validation`` runs were looked at while the model was
developed but are never fitted; ``test`` runs are neither fitted nor read while developing
(``benchmarks/accuracy.py --test`` alone prints them). See ``data/runs/groups.yaml``."""
Location = Annotated[str, StringConstraints(max_length=300)]


class TrainingRun(TrainQuestion, Record):
    """One published training measurement.

    ``measured`` is the value of ``metric``: ``tokens_per_s_per_chip`` (all tokens of the
    global batch per second, divided by chips), ``mfu`` (fraction, with the paper's FLOP
    convention in the note), ``step_time_s`` or ``model_tflops_per_chip``. Values the source
    did not state but that were computed from what it did state carry the formula in the note.
    ``flash_attention``, ``ep_overlap``, ``dp_overlap`` and ``tp_overlap`` say what the run's framework did
    (see `chipgap.models.training.Job`): Megatron-LM in 2021-22 had neither fused attention
    nor overlapped gradient reduction; DeepSeek's DualPipe overlaps expert all-to-all.
    """

    # pydantic's own errors, which the catalog loader locates in the file
    __init__ = BaseModel.__init__

    kind: Literal["training"] = "training"
    chip: Slug
    system: Slug | None = None
    seq_len: Count
    global_batch: Count
    precision: TrainPrecision
    metric: Literal["tokens_per_s_per_chip", "mfu", "step_time_s", "model_tflops_per_chip"]
    measured: PositiveQuantity
    scaleout_bw_gbps_unidir: Positive = None
    split: Split
    source: tuple[Slug, ...] = Field(min_length=1)
    location: Location
    framework: Text | None = None

    @property
    def workload(self) -> str:
        return self.model


class ServingRun(ServeQuestion, Record):
    """One published inference measurement of a serving instance of ``chips`` chips.

    Its `ServingJob` fields, with their rules, are the job it timed: ``phase`` (``prefill`` or
    ``decode`` alone, disaggregated serving, or ``serve``, both, offline), ``input_len``,
    ``output_len``, ``cached_len`` (prompt tokens per request that hit the prefix cache;
    ``prefill_tokens_per_s_per_chip`` then counts the computed prompt tokens), ``requests``
    (an offline ``serve`` run of that many requests, all queued at once, whose throughput
    includes the last, partial wave; None for steady state), and what the engine did:
    ``kv_reserve``, ``max_batch`` and ``overlap_scheduler``, left out (None) where the source does
    not say, to be scored at the engine's documented default.

    ``metric``: ``output_tokens_per_s_per_chip`` (generated tokens per second over all chips of
    the instance), ``prefill_tokens_per_s_per_chip`` (prompt tokens), ``ttft_ms`` or
    ``tpot_ms``. ``batch`` is the number of concurrent sequences of the whole instance, None
    for offline max-throughput runs (the batch memory allows). ``ep_overlap``: the engine
    overlaps expert all-to-all with compute (two-batch overlap). ``ep_imbalance``: routed
    tokens on the busiest expert-parallel rank over the mean, where a source measured it
    (default 1, balanced).
    """

    # pydantic's own errors, which the catalog loader locates in the file (pydantic would run
    # ServingJob's __init__, which raises FieldError, inside model_validate too)
    __init__ = BaseModel.__init__

    kind: Literal["serving"] = "serving"
    phase: Phase  # no default: a published run says what it timed
    input_len: Count
    output_len: Count
    # unstated (None): scored at the run's framework's documented default (accuracy check)
    kv_reserve: KvReserve | None = None
    overlap_scheduler: Switch | None = None
    ep_overlap: Switch | None = None
    chip: Slug
    system: Slug | None = None
    weight_precision: WeightPrecision
    metric: Literal["output_tokens_per_s_per_chip", "prefill_tokens_per_s_per_chip",
                    "ttft_ms", "tpot_ms"]
    measured: PositiveQuantity
    split: Split
    source: tuple[Slug, ...] = Field(min_length=1)
    location: Location
    framework: Text | None = None

    @property
    def workload(self) -> str:
        return self.model
