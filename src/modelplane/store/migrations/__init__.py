"""Alembic migrations of the store.

`HEAD` names the newest revision so that a replica starting on an up-to-date database
can tell without loading Alembic; a test keeps it equal to the scripts' head.
"""

HEAD = "0022"
