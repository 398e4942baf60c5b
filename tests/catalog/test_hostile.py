"""Whatever a user's folder holds, loading it ends in a catalog or a CatalogError, never in
another exception, and never writes."""

import hashlib

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipgap.catalog import read_catalog
from chipgap.errors import CatalogError

SECTIONS = ["chips", "systems", "workloads", "sources", "companies", "nodes", "export_rules",
            "runs", "serving_runs", "chip_costs", "assumptions", "supply", "supply_estimates",
            "market_claims", "widgets"]
FIELDS = ["id", "name", "vendor", "country", "status", "bf16_dense_tflops", "config", "source",
          "confidence", "value", "defaults", "chip", "chip_count", "aliases", "layout", "kind"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.sampled_from(["../../etc/passwd", "nvidia", "h100", "CN", "official"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)),
    max_leaves=12)
documents = st.one_of(values, st.dictionaries(st.sampled_from(SECTIONS),
                                              st.lists(st.dictionaries(st.sampled_from(FIELDS), values,
                                                                       max_size=6), max_size=3),
                                              max_size=3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents)
def test_any_yaml_gives_a_catalog_or_catalog_errors(tmp_path, doc):
    path = tmp_path / "user.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    catalog, problems = read_catalog(tmp_path)
    assert catalog is not None or problems
    assert all(isinstance(p, CatalogError) and "\n" not in str(p) for p in problems)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
