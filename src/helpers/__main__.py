"""Command line: ``python -m helpers <command>``.

Commands:
  results             print every pooled estimate of the book as CSV (computed from data/)
  validate            load and validate every evidence table; print a summary or the problems
  refresh-notebooks   re-execute the chapter notebooks in place (accept changed outputs as the regression record)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("results", help="print every pooled estimate as CSV")
    sub.add_parser("validate", help="validate the evidence tables")
    refresh = sub.add_parser("refresh-notebooks", help="re-execute chapter notebooks in place")
    refresh.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: all in chapters/)")
    args = parser.parse_args(argv)

    if args.command == "results":
        from .data import load_evidence
        from .results import results_csv

        sys.stdout.write(results_csv(load_evidence()))
        return 0

    if args.command == "validate":
        from .data import DataValidationError
        from .review.protocol import ProtocolError
        from .validate import validate_all

        try:
            counts = validate_all()
        except (DataValidationError, ProtocolError) as err:
            print(err, file=sys.stderr)
            return 1
        for name, rows in counts.items():
            print(f"{name}: {rows} rows, valid")
        return 0

    if args.command == "refresh-notebooks":
        from .notebooks import refresh

        for path in refresh(args.notebooks or None):
            print(f"executed {path}")
        return 0
    return 2  # unreachable: argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
