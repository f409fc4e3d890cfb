"""One module per platform; each exports ``SPEC`` (its router, error shapes and truth view)."""
