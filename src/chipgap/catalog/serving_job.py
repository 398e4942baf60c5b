"""A serving job: the requests a serving instance is given and what its engine does with them.

The one record of these settings, so that their rules are written once:
`chipgap.analyses.infer.serve` takes one, a serving sweep builds one per request shape, and a
published serving run (`chipgap.catalog.runs.ServingRun`) is one.
"""

from __future__ import annotations

import numbers
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo,
                      field_validator)
from pydantic_core import PydanticCustomError

from chipgap.errors import FieldError
from chipgap.limits import MAX_BATCH, MAX_REQUESTS, MAX_SEQ_LEN

Phase = Literal["serve", "decode", "prefill"]
KvReserve = Literal["used", "full"]
Switch = Annotated[bool, Field(strict=True)]


def _plain_int(v: Any) -> Any:
    """A numpy integer (a DataFrame cell, say) as an int; anything else as given, for the strict
    check that follows, which refuses floats, strings and booleans."""
    return int(v) if isinstance(v, numbers.Integral) and not isinstance(v, bool) else v


Count = Annotated[int, BeforeValidator(_plain_int), Field(strict=True, ge=1)]
Tokens = Annotated[int, BeforeValidator(_plain_int), Field(strict=True, ge=1, le=MAX_SEQ_LEN)]


class ServingJob(BaseModel):
    """What a serving instance is asked to do: its requests, and how its engine runs them.

    Parameters
    ----------
    phase : {'serve', 'decode', 'prefill'}, default='serve'
        What is timed: 'serve', offline serving with both phases on the instance; 'decode', a
        disaggregated decode pool; 'prefill', a prefill pool.
    input_len : int
        Prompt tokens per request, at least 1 (at phase 'decode': each sequence's KV context);
        at most `chipgap.limits.MAX_SEQ_LEN`, as every size here has its bound there.
    output_len : int
        Generated tokens per request, at least 1.
    cached_len : int, default=0
        Prompt tokens per request that hit the prefix cache: attended to and held in memory,
        not computed. Below ``input_len``.
    requests : int or None, default=None
        An offline job of that many requests, all queued at once (phase 'serve' only); None
        for the steady state.
    kv_reserve : {'used', 'full'}, default='used'
        The KV cache the engine holds per sequence: 'used', what the sequence has so far (paged
        KV with preemption: vLLM, SGLang); 'full', its prompt and whole output, reserved on
        admission (TensorRT-LLM's default GUARANTEED_NO_EVICT policy), so fewer fit.
    max_batch : int or None, default=None
        The engine's cap on sequences in flight on the instance; None for no cap.
    overlap_scheduler : bool, default=True
        The engine prepares each step on the CPU while the accelerators run the one before
        (SGLang from v0.4, TensorRT-LLM). False: they idle while it schedules, as SGLang's did
        before v0.4 (the catalog constant ``serial_scheduler_slowdown``).

    Raises
    ------
    FieldError
        An `InputError` naming the first field that breaks a rule and what it must be.

    Examples
    --------
    >>> ServingJob(input_len=2048, output_len=256, cached_len=1024).phase
    'serve'
    >>> ServingJob(input_len=2048, output_len=256, cached_len=2048)
    Traceback (most recent call last):
    ...
    chipgap.errors.FieldError: ServingJob: field 'cached_len': must be below input_len (2048). Got 2048 instead
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    phase: Phase = "serve"
    input_len: Tokens
    output_len: Tokens
    cached_len: Annotated[int, BeforeValidator(_plain_int), Field(strict=True, ge=0, le=MAX_SEQ_LEN)] = 0
    requests: Annotated[Count, Field(le=MAX_REQUESTS)] | None = None
    kv_reserve: KvReserve = "used"
    max_batch: Annotated[Count, Field(le=MAX_BATCH)] | None = None
    overlap_scheduler: Switch = True

    def __init__(self, **fields: Any) -> None:
        # a ChipgapError for callers and the CLI, which pydantic's ValidationError is not
        try:
            super().__init__(**fields)
        except ValidationError as e:
            raise FieldError.from_validation(type(self).__name__, e) from None

    # the rules across fields read the fields declared before them (info.data), which hold only
    # those that passed their own checks
    @field_validator("cached_len")
    @classmethod
    def _below_input_len(cls, v: int, info: ValidationInfo) -> int:
        prompt = info.data.get("input_len")
        if prompt is not None and v >= prompt:
            raise PydanticCustomError("below_input_len", "must be below input_len ({input_len})",
                                      {"input_len": prompt})
        return v

    @field_validator("requests")
    @classmethod
    def _served(cls, v: int | None, info: ValidationInfo) -> int | None:
        phase = info.data.get("phase", "serve")
        if v is not None and phase != "serve":
            raise PydanticCustomError("serve_only", "must be left out at phase {phase}: it applies to "
                                                    "phase serve only", {"phase": phase})
        return v
