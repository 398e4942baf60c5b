"""Short ways for tests to ask the one question records."""

from chipgap.analyses import infer, train
from chipgap.catalog.question import ServeQuestion, TrainQuestion


def served(catalog, **fields):
    """`chipgap.analyses.infer.serve` of the ServeQuestion ``fields`` make."""
    return infer.serve(infer.serving_setup(catalog, ServeQuestion(**fields)))


def serving_setup(catalog, **fields):
    return infer.serving_setup(catalog, ServeQuestion(**fields))


def train_setup(catalog, model, chip, chips, seq_len=4096, global_batch=1024, **fields):
    return train.setup(catalog, TrainQuestion(model=model, chip=chip, chips=chips, seq_len=seq_len,
                                              global_batch=global_batch, **fields))
