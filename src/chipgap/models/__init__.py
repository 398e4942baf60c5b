"""Models: pure functions over records and numpy arrays (parameter counts, later performance,
export classification and economics)."""
