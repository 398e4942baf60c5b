"""CPUs decode by one rule: memory-bound single streams whether the compute peak is public or not."""

import pytest

from chipgap.analyses.cpu import RULE, cpu_decode
from chipgap.analyses.efficiency import efficiency_for
from chipgap.errors import InputError

MODEL = "deepseek-r1-distill-qwen-7b"


def test_one_stream_runs_at_memory_bandwidth_on_every_cpu(catalog):
    # one rule: a token's time less the fixed per-layer cost of a step (28 layers) is its bytes
    # over the socket's DRAM bandwidth, so that time x bandwidth is alike for the three sockets
    streamed = {}
    for cpu in ("zhaoxin-kh-40000", "intel-xeon-8480", "amd-epyc-9654"):
        r = cpu_decode(catalog, cpu, MODEL, "int4")
        assert RULE in r["assumptions"]
        fixed = 28 * efficiency_for(catalog, cpu)[0].layer_overhead_s
        streamed[cpu] = (r["tpot_ms"] / 1e3 - fixed) * catalog.chip(cpu).memory_bw_gbps.point
    assert max(streamed.values()) == pytest.approx(min(streamed.values()), rel=0.02)


def test_the_epyc_is_not_slower_than_its_memory_allows(catalog):
    bf16 = cpu_decode(catalog, "amd-epyc-9654", MODEL, "bf16")["single_stream_tokens_per_s"]
    int4 = cpu_decode(catalog, "amd-epyc-9654", MODEL, "int4")["single_stream_tokens_per_s"]
    weights_gb = 14.15  # 7.62 B parameters less the 0.545 B-parameter embedding (looked up, not streamed), bf16
    # 460.8 GB/s of DDR5 at the fitted x86 memory efficiency, less the few per cent the KV cache
    # and the fixed per-layer cost of a step take
    memory = efficiency_for(catalog, "amd-epyc-9654")[0].memory
    assert 0.85 * memory * 460.8 / weights_gb < bf16 < memory * 460.8 / weights_gb
    assert int4 > 3 * bf16


def test_batched_ceiling_only_where_a_compute_peak_is_public(catalog):
    z = cpu_decode(catalog, "zhaoxin-kh-40000", MODEL)
    x = cpu_decode(catalog, "intel-xeon-8480", MODEL)
    assert not z["compute_known"] and z["batched_ceiling_tokens_per_s"] is None
    assert x["compute_known"] and x["batched_ceiling_tokens_per_s"] > 100 * x["single_stream_tokens_per_s"]
    with pytest.raises(InputError, match="a CPU"):
        cpu_decode(catalog, "h100", MODEL)
