"""Claim rules on hand-made numbers: the verdict follows the numbers, not a fixed text."""

from chipgap.report.claims import _c3
from chipgap.report.document import Section


def _sections(bw: float, tok: float, mfu_910c: float, mfu_h100: float) -> dict[str, Section]:
    spec = Section("spec-gap", 3, "t", "q", numbers={"ratio.memory_bw_gbps": bw})
    work = Section("workloads", 3, "t", "q", numbers={
        "train.910c_vs_h100": tok, "train.huawei-ascend-910c.mfu.p50": mfu_910c,
        "train.nvidia-h100-sxm.mfu.p50": mfu_h100})
    return {"spec-gap": spec, "workloads": work}


def test_claim_3_says_whether_the_910c_lags_in_efficiency_from_its_mfu():
    lagging = _c3(_sections(0.96, 0.66, 0.40, 0.47))
    assert lagging.verdict == "supported" and "lags in efficiency as well" in lagging.evidence
    assert "0.85x the H100's" in lagging.evidence
    even = _c3(_sections(0.96, 0.66, 0.46, 0.47))
    assert even.verdict == "partly supported" and "not in efficiency" in even.evidence
    assert _c3(_sections(1.1, 1.2, 0.5, 0.47)).verdict == "not supported"
