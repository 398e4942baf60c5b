"""Disaggregated deployments: prefill/decode ratios and attention-FFN splits."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import chipgap
from chipgap.analyses import disaggregation as dis
from chipgap.analyses.answer import answer
from chipgap.catalog.question import ServeQuestion
from chipgap.cli import app
from chipgap.errors import FieldError, InputError, UnknownIdError


@pytest.fixture(scope="module")
def cat():
    return chipgap.load_catalog()


L70 = dict(model="llama-3.1-70b", chip="h100", input_len=2000, output_len=500)


def test_the_kv_hand_off_by_hand(cat):
    # Llama 3.1 70B, bf16 KV: 80 layers x 2 (K, V) x 8 heads x 128 x 2 bytes = 327,680 bytes per
    # token, 655,360,000 per 2,000-token prompt. A 2-chip prefill and a 4-chip decode instance
    # fit one 8-GPU NVLink domain: 450 GB/s each way per GPU at 0.8, the prefill end (2 GPUs,
    # 720 GB/s) bounds it; over the network, 50 GB/s NICs: 80 GB/s.
    for fabric, bw, alpha in (("scaleup", 720e9, 5e-6), ("scaleout", 80e9, 15e-6)):
        q = ServeQuestion(**L70, prefill_pool={"chips": 2, "tp": 2}, decode_pool={"chips": 4, "tp": 4},
                          kv_transfer=fabric if fabric == "scaleout" else None)
        a = answer(cat, q)
        assert a.setup.fabric == fabric
        row = a.best(1).iloc[0]
        assert row.kv_transfer_ms == pytest.approx((alpha + row.prefill_batch * 655_360_000 / bw) * 1e3, rel=1e-9)
    # a 4-GPU and an 8-GPU instance do not fit one 8-GPU domain: the network carries the hand-off
    q = ServeQuestion(**L70, prefill_pool={"chips": 4, "tp": 4}, decode_pool={"chips": 8, "tp": 8})
    assert dis.setup(cat, q).fabric == "scaleout"
    # 300 attention and 200 expert 910Cs (1,000 dies) overflow a CloudMatrix384 (768 dies)
    afd = dict(model="deepseek-r1", chip="910c", phase="decode", weight_precision="int8")
    assert dis.setup(cat, ServeQuestion(**afd, attention_pool={"chips": 300}, expert_pool={"chips": 200})).fabric \
        == "scaleout"
    assert dis.setup(cat, ServeQuestion(**afd, attention_pool={"chips": 200}, expert_pool={"chips": 184})).fabric \
        == "scaleup"


def test_the_ratio_serves_the_slower_pool_by_hand(cat):
    # x prefill and y decode instances serve min(x Rp, y Rd) requests per second, 500 tokens
    # each, over x 2 + y 4 chips, Rp and Rd each pool's best rate per instance
    q = ServeQuestion(**L70, ttft_ms=3000, tpot_ms=60, prefill_pool={"chips": 2, "tp": 2},
                      decode_pool={"chips": 4, "tp": 4})
    t = answer(cat, q).table
    rp, rd = t.prefill_requests_per_s.iloc[0], t.decode_requests_per_s.iloc[0]
    expect = np.minimum(t.prefill_instances * rp, t.decode_instances * rd) * 500
    assert np.allclose(t.tokens_per_s, expect, rtol=1e-12)
    assert np.allclose(t.tokens_per_s_per_chip, expect / (2 * t.prefill_instances + 4 * t.decode_instances))
    # only coprime pairs when both counts are free: 1:2 stands for 2:4
    assert not ((t.prefill_instances == 2) & (t.decode_instances == 4)).any()
    best = answer(cat, q).best(1).iloc[0]
    # the best ratio is the one closest to balancing the pools, rp x = rd y, within 1 to 16
    balanced = rd / rp
    assert abs(best.prefill_instances / best.decode_instances - balanced) <= min(
        abs(x / y - balanced) for x, y in zip(t.prefill_instances, t.decode_instances)) + 0.5


def test_given_instance_counts_and_a_chip_budget_bound_the_search(cat):
    q = ServeQuestion(**L70, chips=24, prefill_pool={"chips": 2, "tp": 2}, decode_pool={"chips": 4, "tp": 4})
    t = answer(cat, q).table
    assert t[t.valid].chips.max() <= 24 and (t[~t.valid].reason == "over the chip budget (chips)").all()
    fixed = ServeQuestion(**L70, prefill_pool={"chips": 2, "tp": 2, "instances": 3},
                          decode_pool={"chips": 4, "tp": 4, "instances": 2})
    t = answer(cat, fixed).table
    assert len(t) == 1 and (t.prefill_instances.iloc[0], t.decode_instances.iloc[0], t.chips.iloc[0]) == (3, 2, 14)


@settings(max_examples=15, deadline=None)
@given(ttft=st.floats(50, 20_000), tpot=st.floats(5, 200), out=st.integers(1, 4000),
       budget=st.sampled_from([1, 16, 64]))
def test_a_ratio_search_never_returns_pools_that_break_the_slo(cat, ttft, tpot, out, budget):
    q = ServeQuestion(model="llama-3.1-8b", chip="h100", chips=budget, input_len=1000, output_len=out, ttft_ms=ttft,
                      tpot_ms=tpot, prefill_pool={"chips": 1}, decode_pool={"chips": 2})
    a = answer(cat, q)
    for r in a.best(20).itertuples():
        assert r.ttft_ms <= ttft and r.tpot_ms <= tpot and r.fits
        assert budget == 1 or r.chips <= budget


def test_attention_ffn_splits_by_hand(cat):
    # DeepSeek-R1 (int8) on CloudMatrix384: 80 attention and 64 expert packages (160 and 128
    # dies). The expert dies hold the routed experts only: 58 MoE layers x 256 experts x
    # 3 x 7,168 x 2,048 bytes over 128 dies, two dies a package.
    q = ServeQuestion(model="deepseek-r1", chip="910c", phase="decode", input_len=2000, output_len=1000,
                      weight_precision="int8", kv_precision="int8", tpot_ms=50,
                      attention_pool={"chips": 80}, expert_pool={"chips": 64})
    a = answer(cat, q)
    assert a.setup.fabric == "scaleup"                      # 288 dies of one 768-die domain
    t = a.table
    assert t.expert_memory_gb_per_chip.iloc[0] == pytest.approx(58 * 256 * 3 * 7168 * 2048 / 128 * 2 / 1e9,
                                                                rel=1e-9)
    # dispatch: each token's hidden state (7,168, FP8) to its 8 experts, once per MoE layer,
    # averaged over the 61 layers (58 MoE), over the expert end's 128 dies of UB (the slower
    # end, each die half a package's scale-up bandwidth) at 0.8
    hw = a.setup.second.hardware
    r = t.iloc[0]
    tokens = r.batch / r.microbatches
    bw = 128 * float(hw.scaleup_gbps) * 0.8 * 1e9
    assert r.dispatch_ms == pytest.approx(58 / 61 * (5e-6 + tokens * 8 * 7168 / bw) * 1e3, rel=1e-9)
    # a layer takes what its busiest resource or one micro-batch's round trip takes
    parts = t[["attention_ms", "experts_ms", "dispatch_ms", "combine_ms"]]
    cycle = np.maximum(t.microbatches * parts.max(axis=1), parts.sum(axis=1))
    steps_per_token = 1.0   # no MTP
    assert np.allclose(t.tpot_ms, 61 * cycle / steps_per_token, rtol=1e-9)
    ok = a.best(5)
    assert len(ok) and (ok.tpot_ms <= 50).all() and ok.fits.all()


def test_bad_disaggregated_questions_are_refused_naming_the_field(cat):
    with pytest.raises(InputError, match="attention_pool"):
        answer(cat, ServeQuestion(model="llama-3.1-70b", chip="h100", phase="decode",
                                  attention_pool={"chips": 4}, expert_pool={"chips": 4}))
    with pytest.raises(InputError, match="expert_pool.instances"):
        answer(cat, ServeQuestion(model="deepseek-r1", chip="h800", phase="decode",
                                  attention_pool={"chips": 16}, expert_pool={"chips": 16, "instances": 2}))
    with pytest.raises(FieldError, match="field 'decode_pool': must be given together with prefill_pool"):
        ServeQuestion(**L70, decode_pool={"chips": 4})
    with pytest.raises(FieldError, match="field 'afd_microbatches': applies to a deployment with expert_pool"):
        ServeQuestion(**L70, afd_microbatches=2)
    with pytest.raises(UnknownIdError, match="unknown chip .h1000."):
        answer(cat, ServeQuestion(**L70, prefill_pool={"chips": 2, "chip": "h1000"}, decode_pool={"chips": 2}))


def test_the_cli_answers_and_refuses_in_one_line():
    runner = CliRunner()
    out = runner.invoke(app, ["infer", "-m", "llama-3.1-70b", "-c", "h100", "--input-len", "2000", "--output-len",
                              "500", "--prefill", "2,tp=2", "--decode", "4,tp=4", "--tpot-ms", "60", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert '"deployment": "pd"' in out.stdout and '"prefill_instances"' in out.stdout
    for args, text in ((["--prefill", "2,tp"], "--prefill"), (["--prefill", "2,foo=1", "--decode", "2"], "prefill_pool.foo"),
                       (["--attention", "2", "--experts", "2"], "expert_pool")):
        bad = runner.invoke(app, ["infer", "-m", "llama-3.1-70b", "-c", "h100", *args])
        assert bad.exit_code == 2 and text in bad.output and "Traceback" not in bad.output


def test_the_accuracy_check_scores_unstated_pool_settings_by_rule(cat):
    # an attention-FFN run that states neither its attention groups nor its micro-batches is
    # scored at tp 1, pp 1, dp 1 (the layout rule) and 2 micro-batches (RULES), never searched
    from chipgap.analyses import accuracy
    from chipgap.catalog.runs import ServingRun

    run = ServingRun.model_validate(dict(
        id="x", workload="deepseek-r1", chip="huawei-ascend-910c", system="huawei-cloudmatrix-384", chips=1,
        phase="decode", input_len=2000, output_len=1000, weight_precision="int8", tpot_ms=50,
        attention_pool={"chips": 80, "dp": 160}, expert_pool={"chips": 64}, metric="output_tokens_per_s_per_chip",
        measured={"value": 1000, "source": "cm384-paper", "confidence": "measured"}, split="validation",
        source=["cm384-paper"], location="a test", framework="a test"))
    q, filled = accuracy.serving_defaults(cat, run)
    assert (q.attention_pool.tp, q.attention_pool.pp, q.attention_pool.dp, q.afd_microbatches) == (1, 1, 160, 2)
    assert {"attention_pool.tp", "attention_pool.pp", "afd_microbatches"} <= set(filled)
    (case,) = accuracy.prepare(cat, [run])
    t = dis.evaluate(case.setup)
    assert set(t.microbatches) == {2} and set(t.tp) == {1}
    assert accuracy.predict_case(cat, case, accuracy.fit_values(cat)) > 0
