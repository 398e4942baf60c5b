"""The largest sizes a question may ask for, by physical sense.

Each bound is far above anything built or published, and far below what would overflow an
integer or exhaust memory before a model runs. They are checked where a question enters: the
CLI's parameter declarations, the sweep spec, `chipgap.catalog.ServingJob` and the analyses'
setup functions, so an absurd count is refused with its name before any loop or allocation.
"""

MAX_CHIPS = 1 << 20
"""1,048,576 chips in a job: five times the largest cluster announced (xAI Colossus, 200,000 GPUs)."""
MAX_INSTANCE_CHIPS = 1 << 16
"""65,536 chips in one serving instance (the largest scale-up domains hold 384 to 576)."""
MAX_SEQ_LEN = 1 << 24
"""16,777,216 tokens per sequence (the longest published context, Llama 4 Scout's, is 10 million)."""
MAX_GLOBAL_BATCH = 1 << 24
"""Sequences per training step (Llama 3 405B's largest was 2,048 sequences of 8,192 tokens)."""
MAX_BATCH = 1 << 24
"""Concurrent sequences of one serving instance."""
MAX_REQUESTS = 1 << 30
"""Requests of one offline serving job (trtllm-bench queues 1,500 to 30,000)."""
MAX_PARALLEL = 1 << 20
"""Any one parallel degree (tp, pp, dp, cp, ep, vpp): at most the chips."""
MAX_MICRO_BATCH = 1 << 16
"""Sequences per micro-batch."""
MAX_SAMPLES = 1_000_000
"""Monte-Carlo draws of one question."""
MAX_SEED = 2**63 - 1
"""Seeds are whole numbers from 0 to this (NumPy's generators accept any non-negative integer)."""
MAX_TOKENS_BUDGET = 1e18
"""Tokens of a training budget (the largest published runs used some 4 x 10^13)."""
MAX_RATE = 1e15
"""Tokens per second asked of a cluster (the largest clusters reach about 10^9 training tokens/s)."""
