"""modelplane: a self-hosted control plane for LLM applications."""

__version__ = "0.1.0"
