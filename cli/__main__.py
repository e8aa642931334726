"""`python -m cli` is the same as the `quietline` command."""

from cli.main import main

main()
