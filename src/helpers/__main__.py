"""Command line: ``python -m helpers <command>``.

Commands:
  results             print every pooled estimate of the book as CSV (computed from data/)
  validate            load and validate every evidence table, and audit every derived count against the
                      figures it was derived from; print a summary or the problems
                      (--all: every problem of every table, each table checked on its own)
  add-study ID        append the rows a new study needs (studies, arms, primary outcome, risk of bias),
                      values left empty for the sources to fill; print them and the to-do list
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
    validate = sub.add_parser("validate", help="validate the evidence tables")
    validate.add_argument(
        "--all", action="store_true", help="list every problem of every table (each table checked on its own)"
    )
    _add_study_parser(sub)
    refresh = sub.add_parser("refresh-notebooks", help="re-execute chapter notebooks in place")
    refresh.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: all in chapters/)")
    args = parser.parse_args(argv)

    if args.command == "results":
        from helpers.evidence.load import load_evidence
        from helpers.review.results import results_csv

        sys.stdout.write(results_csv(load_evidence()))
        return 0

    if args.command == "validate" and args.all:
        return _print_todo()

    if args.command == "validate":
        return _print_validation()

    if args.command == "add-study":
        return _add_study(args)

    if args.command == "refresh-notebooks":
        from helpers.notebooks import refresh

        for path in refresh(args.notebooks or None):
            print(f"executed {path}")
        return 0
    return 2  # unreachable: argparse requires a command


def _add_study_parser(sub) -> None:
    from helpers.evidence.schemas import DESIGNS, INCLUSION

    add = sub.add_parser(
        "add-study",
        help="append the rows a new study needs, values left empty; print them and the to-do list",
        description="Append to the data folder the rows a new study needs, every value and its source left "
        "empty (status preset to 'reported'), then print the validation problems: the to-do list.",
    )
    add.add_argument("study_id", metavar="ID", help="new study id: lowercase, e.g. smith2026 (^[a-z][a-z0-9_]*$)")
    add.add_argument("--design", default="rct", choices=DESIGNS, help="study design (default: rct)")
    add.add_argument(
        "--arms",
        type=lambda text: [a.strip() for a in text.split(",") if a.strip()],
        help="arm ids, comma-separated (default: il2,placebo for an rct, else il2)",
    )
    add.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="ARM=ROLE",
        help="role of an arm whose name does not say it (il2, placebo, conventional); repeatable",
    )
    add.add_argument("--label", default="", help='name shown in the book, e.g. "Smith 2026" (else left to fill)')
    add.add_argument("--inclusion", default="included", choices=INCLUSION, help="inclusion_status (default: included)")
    add.add_argument("--dry-run", action="store_true", help="print the rows without writing them")


def _add_study(args) -> int:
    from helpers.paths import data_dir
    from helpers.review.add_study import (
        AddStudyError,
        check_new_id,
        describe_written,
        format_rows,
        new_study,
        study_rows,
        write_rows,
    )

    folder = data_dir()
    try:
        roles = dict(_arm_role(r) for r in args.role)
        study = new_study(args.study_id, args.design, args.arms, roles, args.label, args.inclusion)
        check_new_id(study.study_id, folder)
        rows = study_rows(study, folder)
        if args.dry_run:
            print(f"add-study --dry-run: the rows '{study.study_id}' would get in {folder} (nothing written):\n")
            print(format_rows(rows, folder), end="")
            return 0
        written = write_rows(rows, folder)
    except AddStudyError as err:
        print(f"add-study: {err}", file=sys.stderr)
        return 1
    print(describe_written(study, written, rows))
    print()
    _print_todo()  # the to-do list; the command itself succeeded
    return 0


def _arm_role(text: str) -> tuple[str, str]:
    from helpers.review.add_study import AddStudyError

    arm, sep, role = text.partition("=")
    if not sep or not arm.strip() or not role.strip():
        raise AddStudyError(f"--role {text}: expected ARM=ROLE, e.g. --role soc=conventional")
    return arm.strip(), role.strip()


def _print_todo() -> int:
    """Every problem of every table (the to-do list), or the validation summary when there is none."""
    from helpers.review.add_study import format_todo, todo

    problems = todo()
    if problems:
        print(f"To do: {len(problems)} problem(s) in the evidence data (file, line, column):")
        print(format_todo(problems))
        print("Fill the cells, then run this again until nothing is left (python -m helpers validate --all).")
        return 1
    return _print_validation()


def _print_validation() -> int:
    """Validate every table and the protocol (what the build runs): a summary, or the first problems."""
    from helpers.evidence.load import DataValidationError
    from helpers.evidence.protocol import ProtocolError
    from helpers.review.derived_audit import validate_with_audit

    try:
        counts = validate_with_audit()
    except (DataValidationError, ProtocolError) as err:
        print(err, file=sys.stderr)
        return 1
    for name, rows in counts.items():
        print(f"{name}: {rows} rows, valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
