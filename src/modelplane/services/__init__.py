"""Use cases: one module per resource, typed keyword-only functions, one transaction each."""
