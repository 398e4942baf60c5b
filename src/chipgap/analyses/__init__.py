"""Analyses: build arrays from the catalog, call the models, return tidy DataFrames."""

from chipgap.analyses.compare import compare_chips

__all__ = ["compare_chips"]
