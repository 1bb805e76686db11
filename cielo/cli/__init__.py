"""The ``cielo`` command line."""

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cielo`` command (filled in by the CLI work)."""
    print("cielo: the command line is not built yet", file=sys.stderr)
    return 2


__all__ = ["main"]
