"""Pure domain: entities, invariants and errors. Imports no framework."""
