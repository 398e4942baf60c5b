"""Published measurements of LLM training runs, for calibrating and checking the performance model.

Each run names a catalog workload, chip and system, the parallel layout the paper reports, the
metric it measured and where in the paper. ``split`` keeps the runs the fit may use
(``calibration``) apart from those it must predict (``holdout``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chipgap.catalog.quantity import Positive, PositiveQuantity
from chipgap.catalog.schema import Record, Slug, Text
from chipgap.catalog.serving_job import Phase, ServingJob

Count = Annotated[int, Field(strict=True, gt=0)]


class Layout(BaseModel):
    """How a training job is split: tensor, pipeline, data, context and expert parallelism.

    ``zero`` is the ZeRO stage of data parallelism (3 = FSDP); ``vpp`` the virtual pipeline
    stages per device (interleaved 1F1B); ``interleaved`` says whether the schedule interleaved
    when the source says so but not ``vpp`` (true: vpp > 1); ``mbs`` the micro-batch size in
    sequences. Unreported fields are None: the accuracy check then takes the best setting that
    fits, as the run's engineers would have tuned it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tp: Count = 1
    pp: Count = 1
    dp: Count = 1
    cp: Count = 1
    ep: Count = 1
    vpp: Count | None = None
    interleaved: bool | None = None
    mbs: Count | None = None
    zero: Literal[0, 1, 2, 3] | None = None
    recompute: Literal["none", "selective", "full", "modules"] | None = None
    sequence_parallel: bool | None = None

    @model_validator(mode="after")
    def _schedule_agrees(self) -> Layout:
        if self.interleaved and self.pp == 1:
            raise ValueError("interleaved needs pp > 1")
        if self.vpp is not None and self.interleaved is not None and self.interleaved != (self.vpp > 1):
            raise ValueError(f"interleaved: {str(self.interleaved).lower()} contradicts vpp {self.vpp}")
        return self


class TrainingRun(Record):
    """One published training measurement.

    ``measured`` is the value of ``metric``: ``tokens_per_s_per_chip`` (all tokens of the
    global batch per second, divided by chips), ``mfu`` (fraction, with the paper's FLOP
    convention in the note), ``step_time_s`` or ``model_tflops_per_chip``. Values the source
    did not state but that were computed from what it did state carry the formula in the note.
    ``flash_attention``, ``ep_overlap``, ``dp_overlap`` and ``tp_overlap`` say what the run's framework did
    (see `chipgap.models.training.Job`): Megatron-LM in 2021-22 had neither fused attention
    nor overlapped gradient reduction; DeepSeek's DualPipe overlaps expert all-to-all.
    """

    kind: Literal["training"] = "training"
    workload: Slug
    chip: Slug
    system: Slug | None = None
    chips: Count
    seq_len: Count
    global_batch: Count
    precision: Literal["bf16", "fp8"]
    layout: Layout
    metric: Literal["tokens_per_s_per_chip", "mfu", "step_time_s", "model_tflops_per_chip"]
    measured: PositiveQuantity
    scaleout_bw_gbps_unidir: Positive = None
    flash_attention: bool = True
    ep_overlap: bool = False
    dp_overlap: bool = True
    tp_overlap: bool = False
    split: Literal["calibration", "holdout"]
    source: tuple[Slug, ...] = Field(min_length=1)
    location: Annotated[str, StringConstraints(max_length=300)]
    framework: Text | None = None


class ServingLayout(BaseModel):
    """How one serving instance is split: tensor, pipeline and expert parallelism, and how many
    data-parallel attention groups share the experts (``dp``, DeepSeek-style DP attention)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tp: Count = 1
    pp: Count = 1
    ep: Count = 1
    dp: Count = 1


class ServingRun(ServingJob, Record):
    """One published inference measurement of a serving instance of ``chips`` chips.

    Its `ServingJob` fields, with their rules, are the job it timed: ``phase`` (``prefill`` or
    ``decode`` alone, disaggregated serving, or ``serve``, both, offline), ``input_len``,
    ``output_len``, ``cached_len`` (prompt tokens per request that hit the prefix cache;
    ``prefill_tokens_per_s_per_chip`` then counts the computed prompt tokens), ``requests``
    (an offline ``serve`` run of that many requests, all queued at once, whose throughput
    includes the last, partial wave; None for steady state), and what the engine did:
    ``kv_reserve`` and ``max_batch``.

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
    workload: Slug
    chip: Slug
    system: Slug | None = None
    chips: Count
    batch: Count | None = None
    weight_precision: Literal["bf16", "fp8", "int8", "int4"]
    kv_precision: Literal["bf16", "fp8", "int8"] = "bf16"
    layout: ServingLayout
    mtp_accept: Annotated[float, Field(ge=0, le=1)] | None = None
    ep_overlap: bool = False
    ep_imbalance: Annotated[float, Field(ge=1, allow_inf_nan=False)] = 1.0
    tpot_slo_ms: Annotated[float, Field(gt=0)] | None = None
    metric: Literal["output_tokens_per_s_per_chip", "prefill_tokens_per_s_per_chip",
                    "ttft_ms", "tpot_ms"]
    measured: PositiveQuantity
    split: Literal["calibration", "holdout"]
    source: tuple[Slug, ...] = Field(min_length=1)
    location: Annotated[str, StringConstraints(max_length=300)]
    framework: Text | None = None
