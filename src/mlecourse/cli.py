"""The ``mlecourse`` command line.

Every subcommand turns a ``ValueError``/``TypeError``/``OSError`` into one line on stderr and
exit status 2, so a learner never sees a traceback for bad input.
"""

from __future__ import annotations

import argparse
import os
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
    _add_score(sub)
    _add_assess(sub)
    _add_capstone(sub)
    _add_classroom(sub)
    return parser


def _add_info(sub) -> None:
    p = sub.add_parser("info", help="print where the course package and its example "
                                    "assessments live")
    p.set_defaults(func=_run_info)


def _run_info(args: argparse.Namespace) -> int:
    import shlex
    from importlib import resources
    from pathlib import Path

    import mlecourse

    print(f"mlecourse {__version__} at {Path(mlecourse.__file__).parent}")
    # The bundled assessments (the worked example and the test fixtures), as paths a shell
    # accepts as they are, so that `mlecourse score PATH` works from any folder.
    fixtures = resources.files("mlecourse.scorecard").joinpath("fixtures")
    print("example assessments (score one with: mlecourse score PATH):")
    for f in sorted(fixtures.iterdir(), key=lambda f: f.name):
        if f.name.endswith(".json"):
            print(f"  {shlex.quote(str(f))}")
    return 0


def _add_score(sub) -> None:
    p = sub.add_parser("score", help="score an assessment JSON file (scores and next steps)")
    p.add_argument("assessment", help="an assessment file in the course's JSON format")
    p.add_argument("--rubric", default=None,
                   help="rubric id or YAML path (default: the rubric the file names, looked up "
                        "by id among the packaged rubrics and $MLECOURSE_RUBRIC_PATH)")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   dest="output_format",
                   help="text: a table; json: scores as data; markdown: the table for a pull "
                        "request or wiki (the same as the scorecard page's Markdown export)")
    p.set_defaults(func=_run_score)


def format_result_text(rubric, result) -> str:
    """A readable report of a ScoreResult (see :func:`mlecourse.scorecard.report.result_text`)."""
    from mlecourse.scorecard.report import result_text

    return result_text(rubric, result)


def _run_score(args: argparse.Namespace) -> int:
    import json

    from mlecourse.scorecard.assessment import load_assessment
    from mlecourse.scorecard.report import result_markdown, result_text
    from mlecourse.scorecard.rubric import load_rubric, load_rubric_id
    from mlecourse.scorecard.scoring import score

    # A path is accepted from --rubric only; the id inside the file names a known rubric.
    rubric = load_rubric(args.rubric) if args.rubric else None
    assessment = load_assessment(args.assessment, rubric)
    rubric = rubric or load_rubric_id(assessment["rubric"]["id"])
    result = score(rubric, assessment["answers"])
    if args.output_format == "json":
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif args.output_format == "markdown":
        print(result_markdown(rubric, result), end="")
    else:
        print(result_text(rubric, result))
    return 0


def _add_assess(sub) -> None:
    p = sub.add_parser(
        "assess", help="scan a project folder read-only and suggest a maturity level per cell",
        description="Scan a project folder without running anything from it and suggest a "
                    "level for each cell of the rubric, with the files that show it.")
    p.add_argument("path", help="the project folder to scan")
    p.add_argument("--rubric", default="mle-maturity",
                   help="rubric id (default and only supported: mle-maturity)")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   dest="output_format",
                   help="text: a table; json: the assessment interchange format (imports into "
                        "the scorecard widget and page); markdown: for a pull request or README")
    p.add_argument("--progress", action="store_true",
                   help="show a file count on stderr while scanning (default: only for text "
                        "output on a terminal)")
    p.set_defaults(func=_run_assess)


class _Progress:
    """Updates one line on stderr with the number of files scanned."""

    def __init__(self, stream):
        self.stream = stream
        self.shown = False

    def __call__(self, n_files: int) -> None:
        self.stream.write(f"\rscanning... {n_files:,} files")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 40 + "\r")
            self.stream.flush()


def _run_assess(args: argparse.Namespace) -> int:
    import json

    from mlecourse.scorecard.scan import (
        _printable, format_markdown, format_text, load_signal_map, scan, suggest)

    load_signal_map(args.rubric)  # an unsupported rubric is refused before scanning
    show = args.progress or (args.output_format == "text" and sys.stderr.isatty())
    progress = _Progress(sys.stderr) if show else None
    try:
        result = scan(args.path, progress=progress)
    finally:
        if progress is not None:
            progress.clear()
    assessment = suggest(result, args.rubric)
    if args.output_format == "json":
        print(json.dumps(assessment, indent=2, ensure_ascii=False))
        for p in result.problems:  # names from the folder: escaped, never raw to the terminal
            print(f"mlecourse assess: warning: {_printable(p['path'])}: "
                  f"{_printable(p['problem'])}", file=sys.stderr)
    elif args.output_format == "markdown":
        print(format_markdown(assessment, result))
    else:
        print(format_text(assessment, result))
    return 0


def _add_capstone(sub) -> None:
    p = sub.add_parser("capstone", help="the capstone project: check your improved copy of "
                                        "capstone/starter")
    csub = p.add_subparsers(dest="capstone_command", metavar="ACTION")
    csub.required = True
    c = csub.add_parser(
        "check", help="compare your copy with the starter, run it, list the deliverables",
        description="Scan your copy of capstone/starter (read-only) and compare each cell with "
                    "the starter's baseline; flag cells raised ahead of their foundations; train "
                    "and score a temporary copy of the project; list missing deliverables. "
                    "Exit status: 0 all fine, 1 something to fix, 2 bad input.")
    c.add_argument("path", help="your copy of capstone/starter")
    c.add_argument("--baseline", default=None,
                   help="the starter's assessment (default: capstone/expected/"
                        "starter-baseline.json in the course)")
    c.add_argument("--no-run", action="store_true",
                   help="skip training and scoring (faster; the final check needs them)")
    c.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                   help="time limit for training, and again for scoring (default: 300)")
    c.add_argument("--format", choices=("text", "json"), default="text", dest="output_format")
    c.set_defaults(func=_run_capstone)


def _run_capstone(args: argparse.Namespace) -> int:
    import json

    from mlecourse import capstone

    seconds = capstone.TIME_LIMIT if args.time_limit is None else args.time_limit
    if not seconds > 0:
        raise ValueError(f"--time-limit must be a positive number of seconds, got {seconds}")
    report = capstone.check(args.path, baseline=args.baseline, run=not args.no_run,
                            seconds=seconds)
    if args.output_format == "json":
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=True))
    else:
        print(report.to_text())
    return 1 if report.problems else 0


def _add_classroom(sub) -> None:
    p = sub.add_parser("classroom", help="set up an nbgrader course for a class",
                       description="Teacher tools for running the course with nbgrader.")
    csub = p.add_subparsers(dest="classroom_command", metavar="ACTION")
    csub.required = True
    init = csub.add_parser(
        "init", help="create a ready nbgrader course directory from solutions/",
        description="Create an nbgrader course directory: nbgrader_config.py, one assignment "
                    "per exercise under source/, students.csv and a README with the commands.")
    init.add_argument("dir", help="the course directory to create (must be empty or new)")
    init.add_argument("--repo", default=".", help="the course repository (default: .)")
    init.add_argument("--only", nargs="+", metavar="NAME", default=None,
                      help="only these assignments (default: every exercise, capstone too)")
    init.add_argument("--update", action="store_true",
                      help="refresh source/ and README.md in an existing course directory")
    init.set_defaults(func=_run_classroom_init)
    edited = csub.add_parser(
        "edited", help="list submissions whose check cells differ from the release",
        description="Compare every submitted/<student>/ASSIGNMENT notebook's check cells with "
                    "release/ASSIGNMENT: tells real edits from nbgrader's checksum warning.")
    edited.add_argument("course", help="the nbgrader course directory")
    edited.add_argument("assignment", help="the assignment name")
    edited.set_defaults(func=_run_classroom_edited)
    tools = csub.add_parser(
        "tools", help="show or hide nbgrader's teacher tools (Formgrader, Create Assignment)",
        description="Show nbgrader's teacher tools in a teacher's account, hide them in a "
                    "learner's. Restart JupyterLab afterwards.")
    tools.add_argument("action", choices=("show", "hide"))
    tools.add_argument("--sys-prefix", action="store_true",
                       help="for everyone using this Python environment (a hub image), "
                            "not only this account")
    tools.set_defaults(func=_run_classroom_tools)


def _run_classroom_tools(args: argparse.Namespace) -> int:
    from mlecourse.classroom import set_teacher_tools

    written = set_teacher_tools(args.action == "show", sys_prefix=args.sys_prefix)
    state = "shown" if args.action == "show" else "hidden"
    print(f"nbgrader's teacher tools {state} (restart JupyterLab); wrote "
          f"{', '.join(str(p) for p in written)}")
    return 0


def _run_classroom_edited(args: argparse.Namespace) -> int:
    from mlecourse.classroom import edited_check_cells

    found = edited_check_cells(args.course, args.assignment)
    for where, cells in found.items():
        print(f"{where}: edited {', '.join(cells)}")
    if not found:
        print(f"no submission of {args.assignment} edited a check cell")
    return 1 if found else 0


def _run_classroom_init(args: argparse.Namespace) -> int:
    from mlecourse.classroom import init, teacher_commands

    assignments = init(args.dir, args.repo, only=args.only, update=args.update)
    verb = "updated" if args.update else "created"
    print(f"{verb} {args.dir} with {len(assignments)} assignment(s): "
          f"{', '.join(a.name for a in assignments)}")
    print(f"next: cd {args.dir} && nbgrader generate_assignment {assignments[0].name} "
          "(see README.md there)")
    print("\n".join(teacher_commands()))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return status
    except BrokenPipeError:
        # `mlecourse score FILE | head`: the reader has what it wanted; exit quietly.
        _silence_stdout()
        return 0
    except (ValueError, TypeError, OSError, RecursionError, MemoryError) as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256
                       else f"\\u{ord(c):04x}" for c in text)  # a path may hold escapes
        print(f"mlecourse {args.command}: {text}", file=sys.stderr)
        return 2


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # not a real file (e.g. under a test)
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
