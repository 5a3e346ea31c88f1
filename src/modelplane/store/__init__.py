"""Persistence: tables, repositories, unit of work and migrations (SQLite or PostgreSQL)."""
