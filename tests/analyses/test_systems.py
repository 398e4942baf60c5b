"""Systems on one power basis: IT power by one rule, one PUE, identical silicon alike."""

import numpy as np
import pytest

from chipgap.analyses import econ
from chipgap.analyses.systems import it_power_kw, system_metrics, tokens_per_kj

SYSTEMS = ("huawei-cloudmatrix-384", "nvidia-gb200-nvl72", "nvidia-hgx-h100", "nvidia-hgx-h800", "nvidia-hgx-h20")


def test_every_report_system_is_put_on_the_it_basis(catalog):
    df = system_metrics(catalog, SYSTEMS, samples=200).set_index("system")
    assert (df.it_power_kw > 0).all()
    # the DGX H100's 10.2 kW is the whole server (CPUs, NVSwitches, NICs), as sourced
    assert df.loc["nvidia-hgx-h100", "it_power_kw"] == pytest.approx(10.2)
    # an accelerators-only figure is scaled by the catalog's server-power ratio: 8 x 400 W x 1.8
    assert df.loc["nvidia-hgx-h20", "it_power_kw"] == pytest.approx(3.2 * 1.8)
    assert "x 1.8" in df.loc["nvidia-hgx-h20", "power_rule"]


def test_identical_silicon_gives_identical_efficiency(catalog):
    rate = {"nvidia-h100-sxm": 1234.0, "nvidia-h800-sxm": 1234.0}
    df = system_metrics(catalog, ("nvidia-hgx-h100", "nvidia-hgx-h800"), rate, rate, samples=200).set_index("system")
    for col in ("it_power_kw", "train_tokens_per_kj", "decode_tokens_per_kj"):
        assert df.loc["nvidia-hgx-h100", col] == df.loc["nvidia-hgx-h800", col]


def test_all_in_figures_lose_their_pue_and_one_pue_is_applied(catalog, tmp_path):
    from chipgap.catalog import load_catalog

    (tmp_path / "s.yaml").write_text(
        "systems:\n  - id: nvidia-hgx-h100\n    power_kw: {value: 13.0, source: nvidia-dgx-h100-user-guide, "
        "confidence: estimate}\n    power_basis: all-in\n")
    cat = load_catalog(tmp_path)
    kw, how = it_power_kw(cat, "nvidia-hgx-h100", pue=1.3)
    assert kw == pytest.approx(10.0) and "PUE" in how
    # facility energy at the TCO's rule: IT kW x average draw x PUE
    assert tokens_per_kj(1e3, 10.0, 1.3, 0.75) == pytest.approx(1e3 / (10.0 * 0.75 * 1.3))


def test_tco_uses_the_same_it_power(catalog):
    df = econ.tco(catalog, "nvidia-hgx-h20", region="cn", samples=200).set_index("quantile")
    assert df.loc["P50", "power_kw_per_chip"] == pytest.approx(3.2 * 1.8 / 8)
    h100 = econ.tco(catalog, "nvidia-hgx-h100", samples=50).set_index("quantile")
    h800 = econ.tco(catalog, "nvidia-hgx-h800", samples=50).set_index("quantile")
    assert np.allclose(h100.power_kw_per_chip, h800.power_kw_per_chip)
