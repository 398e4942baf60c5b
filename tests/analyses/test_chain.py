import pytest

import chipgap
from chipgap.analyses.chain import exposure, shock
from chipgap.errors import InputError


@pytest.fixture(scope="module")
def cat():
    return chipgap.load_catalog()


def test_910c_depends_on_foreign_foundry_and_memory(cat):
    df = exposure(cat, ["910c"])
    foreign = df[df.foreign]
    assert {"tsmc", "samsung", "sk-hynix"} <= set(foreign.company)
    assert not df.duplicated(["chip", "role", "company"]).any()
    assert df[df.role == "foundry"].company.tolist()[0] == "smic"   # via its process node first


def test_hbm_shock_hits_huawei_and_names_unknown_origins(cat):
    hit = shock(cat, "no-hbm-imports").set_index("chip")
    assert hit.loc["huawei-ascend-910c", "hit_by"] == "foreign HBM"
    assert hit.loc["huawei-ascend-910c", "designer"] == "huawei"
    assert "nvidia-h20" not in hit.index                       # a US chip: not China's imports
    assert (hit[hit.company == "unknown"].hit_by == "HBM from an unpublished maker").all()


def test_node_and_foundry_shocks(cat):
    assert "huawei-ascend-910c" in set(shock(cat, "node:smic-n2").chip)
    assert "huawei-ascend-910" in set(shock(cat, "foundry:tsmc").chip)   # 2019 part, TSMC N7+


@pytest.mark.parametrize("bad", ["no-water", "node:", "foundry"])
def test_bad_shocks(cat, bad):
    with pytest.raises(InputError, match="'shock' must be"):
        shock(cat, bad)
