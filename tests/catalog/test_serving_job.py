"""The serving job record: each of its rules once, with the error a caller sees, and the same
rules where a published run (catalog YAML) or a sweep file holds the job."""

import pickle
import textwrap

import numpy as np
import pytest

from chipgap.catalog import load_catalog
from chipgap.catalog.serving_job import ServingJob
from chipgap.errors import CatalogError, FieldError, InputError
from chipgap.sweep.spec import parse_spec

SHAPE = {"input_len": 100, "output_len": 10}


@pytest.mark.parametrize("fields, message", [
    ({"input_len": 0}, "field 'input_len': Input should be greater than or equal to 1. Got 0 instead"),
    ({"output_len": 2.5}, "field 'output_len': Input should be a valid integer. Got 2.5 instead"),
    ({"cached_len": -1}, "field 'cached_len': Input should be greater than or equal to 0. Got -1 instead"),
    ({"cached_len": 100}, "field 'cached_len': must be below input_len (100). Got 100 instead"),
    ({"phase": "decode", "requests": 30},
     "field 'requests': must be left out at phase decode: it applies to phase serve only. Got 30 instead"),
    ({"requests": 0}, "field 'requests': Input should be greater than or equal to 1. Got 0 instead"),
    ({"phase": "train"}, "field 'phase': Input should be 'serve', 'decode' or 'prefill'. Got 'train' instead"),
    ({"kv_reserve": "some"}, "field 'kv_reserve': Input should be 'used' or 'full'. Got 'some' instead"),
    ({"max_batch": 0}, "field 'max_batch': Input should be greater than or equal to 1. Got 0 instead"),
    ({"batch": 8}, "field 'batch': is not a known field (check the spelling and the unit in the name)"),
])
def test_each_rule_names_its_field_and_what_it_expects(fields, message):
    with pytest.raises(FieldError) as e:
        ServingJob(**{**SHAPE, **fields})
    assert str(e.value) == f"ServingJob: {message}"
    assert isinstance(e.value, InputError) and e.value.field == message.split("'")[1]


def test_a_job_takes_numpy_integers_but_not_booleans_or_strings():
    job = ServingJob(input_len=np.int64(2048), output_len=np.int32(256), cached_len=np.int64(1024))
    assert type(job.input_len) is int and job.cached_len == 1024 and job.phase == "serve"
    for bad in (True, "2048"):
        with pytest.raises(FieldError, match="'input_len': Input should be a valid integer"):
            ServingJob(input_len=bad, output_len=1)


def test_the_error_crosses_processes_intact():
    with pytest.raises(FieldError) as e:
        ServingJob(input_len=10, output_len=1, cached_len=10)
    back = pickle.loads(pickle.dumps(e.value))
    assert type(back) is FieldError and str(back) == str(e.value) and back.field == "cached_len"


RUN = """
serving_runs:
  - id: my-run
    workload: llama-3.1-8b
    chip: nvidia-h100-sxm
    chips: 1
    phase: decode
    input_len: 1000
    output_len: 1000
    {extra}
    weight_precision: fp8
    layout: {{tp: 1}}
    metric: output_tokens_per_s_per_chip
    measured: {{value: 1000, source: trtllm-perf-overview, confidence: measured}}
    split: holdout
    source: [trtllm-perf-overview]
    location: nowhere
"""


@pytest.mark.parametrize("extra, says", [
    ("cached_len: 1000", "field 'cached_len': must be below input_len (1000). Got 1000 instead"),
    ("requests: 3000", "field 'requests': must be left out at phase decode"),
])
def test_a_published_run_keeps_the_same_rules(tmp_path, extra, says):
    (tmp_path / "runs.yaml").write_text(textwrap.dedent(RUN.format(extra=extra)))
    with pytest.raises(CatalogError) as e:
        load_catalog(tmp_path)
    assert "entry 'my-run'" in str(e.value) and says in str(e.value)


def test_a_sweep_file_keeps_the_same_rules_and_says_which_request_shape():
    spec = {"kind": "serve", "chips": ["h100"], "models": ["llama-3.1-8b"], "instance_chips": [1],
            "lengths": [SHAPE, {**SHAPE, "cached_len": 100}]}
    with pytest.raises(CatalogError) as e:
        parse_spec(spec, "s.yaml")
    assert str(e.value) == "s.yaml: field 'lengths.1.cached_len': must be below input_len (100). Got 100 instead"
