"""`python -m slarules`: the command line."""

from slarules.cli import main

if __name__ == "__main__":  # importing the module (doctest discovery) must not run it
    main()
