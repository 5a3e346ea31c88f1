"""The LLM gateway: OpenAI- and Anthropic-compatible routes that relay calls to the
upstreams the registry keeps, with their keys (see routes.py and relay.py)."""
