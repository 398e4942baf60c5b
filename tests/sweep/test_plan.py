import numpy as np
import pytest

import pandas as pd

from chipgap.analyses.econ import tco
from chipgap.analyses.train import evaluate, hardware, layout_grid
from tests.helpers import served
from tests.helpers import train_setup as setup
from chipgap.models.sampling import Sampler
from chipgap.models.training import train_step
from chipgap.sweep.evaluate import evaluate_chunk
from chipgap.sweep.plan import build_plan
from chipgap.sweep.spec import parse_spec

from .conftest import SMALL


def served_at(catalog, batches, **question):
    """The serving analysis at each of ``batches`` (a question holds one batch or searches)."""
    return pd.concat([served(catalog, **question, batch=b) for b in batches], ignore_index=True)


def plan_of(catalog, **changes):
    return build_plan(parse_spec({**SMALL, **changes}), catalog)


def rows_of(plan, grid):
    return __import__("pyarrow").concat_tables(
        [evaluate_chunk(plan, grid, k) for k in range(plan.n_chunks)]).to_pandas()


def test_counts_and_chunks_by_hand(catalog):
    plan, _ = plan_of(catalog)
    # cases: 2 pairs x 1 model x 2 counts x 1 shape; rows per case: 3 layouts x 20 samples
    assert plan.n_cases == 4 and plan.rows_per_case.tolist() == [60, 60, 60, 60]
    assert plan.n_rows == 240 and plan.n_chunks == 5
    assert [plan.chunk_bounds(k) for k in (0, 4)] == [(0, 50), (200, 240)]
    # chunk 1 = rows 50..99: case 0 rows 50..60, case 1 rows 0..40
    segs = [(c.index, c.chips, lo, hi) for c, lo, hi in plan.segments(1)]
    assert segs == [(0, 8, 50, 60), (1, 16, 0, 40)]
    assert plan.case(2).chips == 8 and plan.pairs[plan.case(2).pair][0] == "huawei-ascend-910c"
    assert sum(hi - lo for k in range(5) for _, lo, hi in plan.segments(k)) == 240


def test_search_counts_each_case_layout_grid(catalog):
    plan, _ = plan_of(catalog, layouts="search", samples=0, chips=["h100"], chunk_rows=4096)
    expected = [len(layout_grid(setup(catalog, "llama-3.1-8b", "h100", n, 4096, 256))["tp"])
                for n in (8, 16)]
    assert plan.rows_per_case.tolist() == expected and plan.n_rows == sum(expected)
    assert plan.n_chunks == -(-sum(expected) // 4096)


def test_systems_pair_with_the_chips_they_hold(catalog):
    plan, _ = plan_of(catalog, chips=["h100", "910c", "gaudi-3"], systems=["nvidia-hgx-h100"])
    assert plan.pairs == (("nvidia-h100-sxm", "nvidia-hgx-h100"),
                          ("huawei-ascend-910c", "huawei-cloudmatrix-384"), ("intel-gaudi-3", None))


def test_chunking_never_changes_a_row(catalog):
    a = rows_of(*plan_of(catalog, chunk_rows=7))
    b = rows_of(*plan_of(catalog, chunk_rows=1000))
    assert len(a) == 240 and a.row.tolist() == list(range(240))
    assert a.equals(b)


def test_point_rows_equal_the_train_analysis(catalog):
    plan, grid = plan_of(catalog, samples=0, chips=["h100"], chip_counts=[16])
    df = rows_of(plan, grid)
    assert df["sample"].tolist() == [-1, -1, -1]
    ref = evaluate(setup(catalog, "llama-3.1-8b", "h100", 16, 4096, 256),
                   {"tp": [1, 2, 8], "dp": [16, 8, 2], "zero": [1, 3, 1], "recompute": [0, 0, 1]})
    for key in ("step_time_s", "tokens_per_s", "mfu", "memory_gb", "fits"):
        np.testing.assert_allclose(df[key].to_numpy(dtype=float), ref[key].to_numpy(dtype=float))
    assert df.recompute.tolist() == ["none", "none", "selective"]


def test_sample_k_is_the_samplers_kth_draw(catalog):
    plan, grid = plan_of(catalog, chips=["910c"], chip_counts=[16])
    df = rows_of(plan, grid)
    hw, _ = hardware(catalog, "910c", draw=Sampler(20, 3))
    s = setup(catalog, "llama-3.1-8b", "910c", 16, 4096, 256)  # 16 packages = 32 devices
    out = train_step(s.job, hw.per_device(s.devices), s.efficiency, tp=2, pp=1, dp=16, cp=1, ep=1, vpp=1,
                     mbs=1, zero=3, recompute=0)
    second = df[df.tp == 2].sort_values("sample")
    assert second["sample"].tolist() == list(range(20))
    np.testing.assert_allclose(second.tokens_per_s, out["tokens_per_s"], rtol=1e-12)
    assert second.tokens_per_s.std() > 0  # the 910C's specs are ranges


def test_cost_per_million_tokens(catalog):
    plan, grid = plan_of(catalog, samples=0, chips=["h100", "gaudi-3"], chip_counts=[16])
    df = rows_of(plan, grid)
    usd_hour = float(tco(catalog, "nvidia-hgx-h100").set_index("quantile").loc["P50", "usd_per_chip_hour"])
    h = df[(df.chip == "nvidia-h100-sxm") & df.valid].iloc[0]
    assert h.usd_per_chip_hour == pytest.approx(usd_hour)
    assert h.usd_per_million_tokens == pytest.approx(usd_hour * 16 / (h.tokens_per_s * 3600) * 1e6)
    assert df[~df.valid].usd_per_million_tokens.isna().all()
    assert df[df.chip == "intel-gaudi-3"].usd_per_million_tokens.isna().all()  # no system, no price


def test_serve_rows_equal_the_infer_analysis(catalog):
    spec = {"kind": "serve", "chips": ["h100"], "models": ["llama-3.1-8b"], "instance_chips": [2],
            "lengths": [{"input_len": 1024, "output_len": 256}], "batches": [1, 64],
            "tpot_ms": 20.0}
    plan, grid = build_plan(parse_spec(spec), catalog)
    df = rows_of(plan, grid)
    ref = served_at(catalog, [1, 64], model="llama-3.1-8b", chip="h100", chips=2, input_len=1024,
                    output_len=256, tpot_ms=20.0)
    key = ["tp", "pp", "dp", "batch"]
    got, ref = df.sort_values(key).reset_index(drop=True), ref.sort_values(key).reset_index(drop=True)
    assert len(got) == len(ref) == plan.n_rows
    for col in ("ttft_ms", "tpot_ms", "tokens_per_s", "memory_gb_per_chip"):
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-12)
    assert got.meets_slo.tolist() == ref.meets_slo.tolist() and got.meets_slo.any()
    assert got.reason.tolist() == ref.reason.tolist()


def test_serve_rows_with_a_cache_hit_and_a_job_size_equal_the_analysis(catalog):
    spec = {"kind": "serve", "chips": ["h100"], "models": ["llama-3.1-8b"], "instance_chips": [1],
            "lengths": [{"input_len": 2048, "output_len": 256, "cached_len": 1024, "requests": 700}],
            "batches": [64, 512]}
    plan, grid = build_plan(parse_spec(spec), catalog)
    df = rows_of(plan, grid).sort_values("batch").reset_index(drop=True)
    ref = served_at(catalog, [64, 512], model="llama-3.1-8b", chip="h100", input_len=2048, output_len=256,
                    cached_len=1024, requests=700).sort_values("batch")
    np.testing.assert_allclose(df.tokens_per_s, ref.tokens_per_s, rtol=1e-12)
    np.testing.assert_allclose(df.ttft_ms, ref.ttft_ms, rtol=1e-12)
    assert (df.cached_len == 1024).all() and (df.requests == 700).all()


@pytest.mark.parametrize("lengths, phase, field", [
    ({"input_len": 100, "output_len": 10, "cached_len": 100}, "serve", "cached_len"),
    ({"input_len": 100, "output_len": 10, "requests": 50}, "decode", "requests"),
])
def test_a_spec_with_an_impossible_request_shape_is_refused(lengths, phase, field):
    from chipgap.errors import CatalogError

    spec = {"kind": "serve", "chips": ["h100"], "models": ["llama-3.1-8b"], "instance_chips": [1],
            "lengths": [lengths], "phase": phase}
    with pytest.raises(CatalogError, match=field):
        parse_spec(spec, "s.yaml")


def test_serve_rows_of_an_engine_that_reserves_whole_sequences_equal_the_analysis(catalog):
    spec = {"kind": "serve", "chips": ["h100"], "models": ["llama-3.1-8b"], "instance_chips": [1],
            "lengths": [{"input_len": 1000, "output_len": 1000}], "batches": [64, 512],
            "kv_reserve": "full", "max_batch": 256}
    plan, grid = build_plan(parse_spec(spec), catalog)
    df = rows_of(plan, grid).sort_values("batch").reset_index(drop=True)
    ref = served_at(catalog, [64, 256], model="llama-3.1-8b", chip="h100", input_len=1000, output_len=1000,
                    kv_reserve="full").sort_values("batch")
    np.testing.assert_allclose(df.tokens_per_s, ref.tokens_per_s, rtol=1e-12)
    np.testing.assert_allclose(df.memory_gb_per_chip, ref.memory_gb_per_chip, rtol=1e-12)
