"""Use cases: each write is one transaction, opened here; no HTTP in this layer."""
