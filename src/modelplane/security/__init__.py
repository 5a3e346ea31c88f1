"""Principals' credentials, permissions checks, encryption at rest and signatures."""
