"""The native JSON API under /v1 (GoodMem-compatible for /v1/llms)."""
