"""The performance model against published runs: unstated settings at documented defaults, the
fit with priors, cross-validation by source group, and the targets."""

import textwrap

import numpy as np
import pytest
import yaml

import chipgap
from chipgap.analyses import accuracy as A
from chipgap.analyses.efficiency import efficiency_for, fit_values
from chipgap.catalog.model_data import FitValues


@pytest.fixture(scope="module")
def cat():
    return chipgap.load_catalog()


def test_every_run_belongs_to_one_split_and_the_test_groups_are_whole(cat):
    runs = [*cat.runs.values(), *cat.serving_runs.values()]
    assert {r.split for r in runs} == {"calibration", "validation", "test"}
    by_group = {}
    for r in runs:
        by_group.setdefault(A.group_of(cat, r), set()).add(r.split)
    test_groups = {g for g, s in by_group.items() if "test" in s}
    assert test_groups and all(by_group[g] == {"test"} for g in test_groups)   # a group is test or not
    fitted = set(cat.all("fit")["fit"].fitted_on) if cat.all("fit")["fit"].fitted_on else set()
    assert not fitted & {r.id for r in runs if r.split != "calibration"}


def test_a_framework_is_the_longest_name_the_run_starts_with(cat):
    run = cat.serving_runs["mlperf51-dellbcm-vxe9680-llama31-405b-h200-offline"]
    assert A.framework_of(cat, run).id == "tensorrt-llm-mlperf"        # not plain TensorRT-LLM
    assert A.framework_of(cat, cat.runs["meg21-t1-1.7b"]).id == "megatron-lm"
    sgl03 = cat.serving_runs["sgl030-llama31-70b-4xh100-offline"]
    assert A.framework_of(cat, sgl03).id == "sglang-v03"


def test_unstated_settings_take_the_frameworks_documented_default_not_the_best(cat):
    # NeMo 24.07's table gives tp/pp/cp/vp but not ZeRO or recompute: Megatron-Bridge / NeMo
    # recipes turn the distributed optimizer on (ZeRO 1) and recompute nothing.
    run = cat.runs["nemo2407-h100-llama3-70b-64"]
    lay, filled = A.training_defaults(cat, run)
    assert {"zero", "recompute"} <= set(filled)
    assert lay.zero == 1 and lay.recompute == "none"
    # Megatron-LM: no distributed optimizer unless asked (ZeRO 0)
    meg = cat.runs["meg21-t1-145.6b"]
    assert meg.layout.zero == 0 or A.training_defaults(cat, meg)[0].zero == 0
    # the prediction is the default's; the spread over the other settings brackets it
    df = A.predictions(cat, cases=A.prepare(cat, [run]), cross_validated=False)
    r = df.iloc[0]
    assert r.low <= r.predicted <= r.high and r.low < r.high
    from chipgap.analyses import train

    at_default = train.evaluate(train.setup(cat, run), {k: v for k, v in lay.model_dump().items()
                                                        if k in train.LAYOUT_KEYS})
    assert r.predicted == pytest.approx(at_default.tokens_per_s[0] / run.chips, rel=1e-12)


def test_torchtitan_micro_batches_and_fsdp_follow_its_rules():
    cat = chipgap.load_catalog()
    run = next(r for r in cat.runs.values() if (r.framework or "").startswith("TorchTitan")
               and r.layout.pp and r.layout.pp > 1 and r.layout.mbs is None)
    lay, filled = A.training_defaults(cat, run)
    assert "mbs" in filled and lay.mbs == run.global_batch // (lay.dp * lay.pp)   # one micro-batch per stage
    if "zero" in filled:
        assert lay.zero == 2                          # FSDP2 keeps parameters gathered under PP


def test_a_fit_without_runs_is_the_priors(cat):
    values, rms = A.fit(cat, [], 0.15)
    for c in cat.all("constant").values():
        if c.role == "fitted":
            assert values.constants[c.id] == pytest.approx(c.prior.median, rel=1e-9)
    assert values.stacks == {} and np.isnan(rms)


def test_one_groups_runs_move_their_stack_and_leave_unrun_stacks_at_their_prior(cat):
    # Huawei's own ModelLink/MindSpeed runs alone: the Ascend stack moves off its prior; the
    # ROCm stack, which none of them runs on, is not fitted and keeps its prior's median.
    cases = A.prepare(cat, [r for r in cat.runs.values() if A.group_of(cat, r) == "huawei-modellink"
                            and r.split == "calibration"])
    values, _ = A.fit(cat, cases, 0.15)
    prior = cat.all("stack")["cann-ascend"].gemm_max.median
    assert set(values.stacks) == {"cann-ascend"}
    assert values.stacks["cann-ascend"]["gemm_max"] != pytest.approx(prior)
    eff, basis = efficiency_for(cat, "amd-mi300x", values)
    assert eff.gemm_max == cat.all("stack")["rocm-cdna3"].gemm_max.median and "prior" in basis


def test_a_stack_without_calibration_runs_uses_its_prior_and_says_so(cat):
    eff, basis = efficiency_for(cat, "huawei-ascend-950pr")
    assert eff.gemm_max == pytest.approx(cat.all("stack")["cann-ascend-950"].gemm_max.median)
    assert basis == "cann-ascend-950 prior (no calibration runs)"
    eff, basis = efficiency_for(cat, "intel-gaudi-3")
    assert basis == "default (no software stack)"


def test_a_scenario_or_overlay_can_change_a_constant(tmp_path, cat):
    (tmp_path / "c.yaml").write_text(textwrap.dedent("""
        model_constants:
          - id: net_scaleup
            value: {value: 0.7, source: nccl-tests-busbw-guide, confidence: estimate}
        software_stacks:
          - id: cann-ascend-950
            memory: {transform: logit, median: 0.6, sd: 0.5, source: [flashmla-readme]}
    """))
    changed = chipgap.load_catalog(tmp_path)
    assert efficiency_for(changed, "nvidia-h100-sxm")[0].net_scaleup == 0.7
    assert efficiency_for(cat, "nvidia-h100-sxm")[0].net_scaleup == 0.8
    # a stack no calibration run uses takes its (changed) prior's median
    assert efficiency_for(changed, "huawei-ascend-950pr")[0].memory == pytest.approx(0.6)


def test_the_fit_reads_calibration_runs_only(tmp_path, cat):
    # change a validation run's measurement tenfold in an overlay: the fit's cases are the same
    run = next(r for r in cat.runs.values() if r.split == "validation")
    (tmp_path / "runs.yaml").write_text(yaml.safe_dump({"runs": [
        {"id": run.id, "measured": {"value": run.measured.point * 10, "source": list(run.measured.source),
                                    "confidence": "estimate"}}]}))
    changed = chipgap.load_catalog(tmp_path)
    ids = {r.id for r in A.runs_of(changed, ("calibration",))}
    assert run.id not in ids and ids == {r.id for r in A.runs_of(cat, ("calibration",))}


def test_cross_validated_predictions_use_the_fold_without_the_runs_group(cat):
    fit = cat.all("fit")["fit"]
    df = A.predictions(cat)
    for r in df.itertuples():
        assert r.fit == (f"without {r.group}" if r.group in fit.folds else "full fit")
    assert "test" not in set(df.split)


def test_fit_values_of_an_unknown_fold_are_refused(cat):
    from chipgap.errors import InputError

    with pytest.raises(InputError, match="fold"):
        fit_values(cat, "no-such-group")
    assert isinstance(fit_values(cat), FitValues)
