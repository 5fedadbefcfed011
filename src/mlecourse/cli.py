"""The ``mlecourse`` command line.

Every subcommand turns a ``ValueError``/``TypeError``/``OSError`` into one line on stderr and
exit status 2, so a learner never sees a traceback for bad input.
"""

from __future__ import annotations

import argparse
import sys

from mlecourse import __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="mlecourse",
        description="Tools for the Machine Learning Engineering course.",
    )
    parser.add_argument("--version", action="version", version=f"mlecourse {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_info(sub)
    return parser


def _add_info(sub) -> None:
    p = sub.add_parser("info", help="print where the course package and its data live")
    p.set_defaults(func=_run_info)


def _run_info(args: argparse.Namespace) -> int:
    from pathlib import Path

    import mlecourse

    print(f"mlecourse {__version__} at {Path(mlecourse.__file__).parent}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, OSError) as exc:
        print(f"mlecourse {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
