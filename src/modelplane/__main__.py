"""`python -m modelplane` runs the CLI."""

from modelplane.cli.main import main

main()
