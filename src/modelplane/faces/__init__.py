"""Thin adapters: parse a wire format, call a service, render the result."""
