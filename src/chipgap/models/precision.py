"""Number formats of weights, activations, KV cache and communication: their bytes and where they
compute.

A format is a width of element plus, for the block-scaled ones, one scale per block of elements:

========  ==========  ===========================================  ===========================
format    element     scale                                        multiplies on
========  ==========  ===========================================  ===========================
bf16      16 bits     none                                         the bf16 peak
fp8       8 (E4M3)    per tensor (or per 128-element group: <1%)    the fp8 peak
mxfp8     8 (E4M3)    8-bit E8M0 per 32 elements (OCP MX v1.0)     the chip's MXFP8 peak
int8      8           per channel / per token                      the int8 peak
int4      4           per channel or group (weights only)          never: dequantized first
nvfp4     4 (E2M1)    8-bit E4M3 per 16 elements, FP32 per tensor   the chip's NVFP4 peak
mxfp4     4 (E2M1)    8-bit E8M0 per 32 elements (OCP MX v1.0)     the chip's MXFP4 peak
========  ==========  ===========================================  ===========================

The element widths are the formats' definitions; the block sizes and the scale width are catalog
constants (``nvfp4_block_elems``, ``mx_block_elems``, ``block_scale_bytes``), so the bytes of a
block-scaled element are ``element + block_scale_bytes / block``: 0.5625 for NVFP4, 0.53125 for
MXFP4, 1.03125 for MXFP8.

A compute format is what the GEMMs multiply in: their activations are quantized to it (a kernel
that reads the bf16 activations and writes the quantized ones with their scales), and their
weights are fed in it. Weights stored narrower than the compute format are dequantized in the
GEMM's prologue (W4A8: int4 weights, int8 multiplies; W4A16: any 4-bit weights, bf16 multiplies).
A chip that has no peak for a compute format runs the format the weights dequantize to, bf16;
`chipgap.analyses.infer.serving_setup` says so in the answer's assumptions.

References
----------
Open Compute Project, "OCP Microscaling Formats (MX) Specification v1.0", 2023: MXFP8, MXFP4,
32-element blocks with an E8M0 scale.
NVIDIA Transformer Engine documentation, "NVFP4" and "MXFP8" (docs/features/low_precision_training):
NVFP4's 16-element E4M3 block scale and FP32 tensor scale; rowwise and columnwise quantization.
"""

from __future__ import annotations

from typing import Any

ELEMENT_BYTES: dict[str, float] = {"bf16": 2.0, "fp8": 1.0, "mxfp8": 1.0, "int8": 1.0, "int4": 0.5,
                                   "nvfp4": 0.5, "mxfp4": 0.5}
"""Bytes of one element of each format, scales left out (the formats' definitions)."""
WEIGHT_FORMATS = tuple(ELEMENT_BYTES)
"""Formats weights may be stored in."""
COMPUTE_FORMATS = ("bf16", "fp8", "mxfp8", "int8", "nvfp4", "mxfp4")
"""Formats matrix multiplies may run in (int4 is a storage format only)."""
BLOCK: dict[str, str] = {"mxfp8": "mx_block_elems", "mxfp4": "mx_block_elems", "nvfp4": "nvfp4_block_elems"}
"""The block-scaled formats and the catalog constant holding each one's block size."""
COMPUTES_IN: dict[str, tuple[str, ...]] = {
    "bf16": ("bf16",), "fp8": ("fp8", "bf16"), "mxfp8": ("mxfp8", "bf16"), "int8": ("int8", "bf16"),
    "int4": ("bf16", "int8", "fp8"), "nvfp4": ("nvfp4", "fp8", "bf16"), "mxfp4": ("mxfp4", "mxfp8", "bf16"),
}
"""The compute formats weights of each format can feed (the first is the default): the format
itself, a wider one they dequantize to in the GEMM prologue (W4A8 int8 as on Ascend; W4A8 with FP8
activations, TensorRT-LLM's NVFP4 x FP8 and MXFP4 x MXFP8 GEMMs), or bf16 (weight-only)."""
PEAK_FIELD: dict[str, str] = {"fp8": "fp8_dense_tflops", "mxfp8": "mxfp8_dense_tflops",
                              "int8": "int8_dense_tops", "nvfp4": "nvfp4_dense_tflops",
                              "mxfp4": "mxfp4_dense_tflops"}
"""The chip field holding the dense peak of each compute format below 16 bits: a chip without it
does not run the format on its matrix units."""
FOUR_BIT = ("nvfp4", "mxfp4")
"""Compute formats on the 4-bit matrix units (`chipgap.models.training.Hardware.peak_fp4_tflops`)."""
DISPATCH_FORMATS = ("bf16", "fp8", "int8", "nvfp4")
"""Formats an engine sends expert-parallel dispatch in (DeepEP quantizes tokens to FP8 before
dispatching them, to int8 on Ascend, and SGLang fused NVFP4 into it on GB200)."""


def bytes_per_element(fmt: str, eff: Any) -> float:
    """Bytes one element of ``fmt`` takes with its block scale (``eff``: the catalog constants,
    a `chipgap.models.training.Efficiency`).

    >>> from chipgap.models.training import Efficiency
    >>> [bytes_per_element(f, Efficiency()) for f in ("bf16", "fp8", "nvfp4", "mxfp4", "mxfp8")]
    [2.0, 1.0, 0.5625, 0.53125, 1.03125]
    """
    block = BLOCK.get(fmt)
    return ELEMENT_BYTES[fmt] + (eff.block_scale_bytes / getattr(eff, block) if block else 0.0)


def default_compute(weights: str) -> str:
    """The compute format weights of ``weights`` run in when the question does not say: their own
    format, or bf16 for int4 (weight-only quantization)."""
    return COMPUTES_IN[weights][0]


def quantize_bytes(compute: str, eff: Any) -> tuple[float, float]:
    """Memory traffic of quantizing one activation element for a GEMM that multiplies in
    ``compute``, against bf16: ``(fused, standalone)``.

    ``fused``: where the kernel producing the activation quantizes it on the way out (RMSNorm and
    SiLU-and-multiply with FP8/NVFP4 output: vLLM's default fusion passes, FlashInfer's
    add_rmsnorm_fp4quant, TensorRT's Q/DQ fusion), it writes the quantized element and its
    scale in place of two bytes, the difference (negative). ``standalone``: a quantize kernel
    reads the bf16 element and writes the quantized one (the attention output, whose fusion is
    off by default in vLLM). Both 0 in bf16.

    >>> from chipgap.models.training import Efficiency
    >>> quantize_bytes("nvfp4", Efficiency())
    (-1.4375, 2.5625)
    """
    if compute == "bf16":
        return 0.0, 0.0
    q = bytes_per_element(compute, eff)
    return q - ELEMENT_BYTES["bf16"], ELEMENT_BYTES["bf16"] + q
