"""Surfaces that render analyses as charts and documents (the report builds on these)."""
