"""`python -m slarules`: the command line."""

from slarules.cli import main

main()
