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


class ServingRun(Record):
    """One published inference measurement of a serving instance of ``chips`` chips.

    ``metric``: ``output_tokens_per_s_per_chip`` (generated tokens per second over all chips of
    the instance), ``prefill_tokens_per_s_per_chip`` (prompt tokens), ``ttft_ms`` or
    ``tpot_ms``. ``batch`` is the number of concurrent sequences of the whole instance, None
    for offline max-throughput runs (the batch memory allows). ``phase`` says what was timed:
    ``prefill`` or ``decode`` alone (disaggregated serving) or ``serve`` (both, offline).
    ``ep_overlap``: the engine overlaps expert all-to-all with compute (two-batch overlap).
    ``cached_len``: prompt tokens per request that hit the prefix cache (attended to, not
    computed); ``prefill_tokens_per_s_per_chip`` then counts the computed prompt tokens.
    ``requests``: an offline ``serve`` run of that many requests, all queued at once (its
    throughput includes the last, partial wave); None for steady state. ``kv_reserve`` and
    ``max_batch`` are what the engine did (see `chipgap.analyses.infer.serve`): reserve each
    request's whole sequence on admission or only what it holds, and its max batch size.
    """

    kind: Literal["serving"] = "serving"
    workload: Slug
    chip: Slug
    system: Slug | None = None
    chips: Count
    phase: Literal["prefill", "decode", "serve"]
    input_len: Count
    output_len: Count
    cached_len: Annotated[int, Field(strict=True, ge=0)] = 0
    requests: Count | None = None
    kv_reserve: Literal["used", "full"] = "used"
    max_batch: Count | None = None
    batch: Count | None = None
    weight_precision: Literal["bf16", "fp8", "int8", "int4"]
    kv_precision: Literal["bf16", "fp8", "int8"] = "bf16"
    layout: ServingLayout
    mtp_accept: Annotated[float, Field(ge=0, le=1)] | None = None
    ep_overlap: bool = False
    tpot_slo_ms: Annotated[float, Field(gt=0)] | None = None
    metric: Literal["output_tokens_per_s_per_chip", "prefill_tokens_per_s_per_chip",
                    "ttft_ms", "tpot_ms"]
    measured: PositiveQuantity
    split: Literal["calibration", "holdout"]
    source: tuple[Slug, ...] = Field(min_length=1)
    location: Annotated[str, StringConstraints(max_length=300)]
    framework: Text | None = None

    @model_validator(mode="after")
    def _cache_within_prompt(self) -> ServingRun:
        if self.cached_len >= self.input_len:
            raise ValueError(f"cached_len {self.cached_len} must be below input_len {self.input_len}")
        if self.requests is not None and self.phase != "serve":
            raise ValueError("requests applies to phase serve only")
        return self
