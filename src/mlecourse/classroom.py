"""Create a ready nbgrader course directory from the course's solution notebooks.

``mlecourse classroom init DIR`` (``make classroom``) writes::

    DIR/nbgrader_config.py        course id, database and exchange settings
    DIR/source/<assignment>/      one assignment per exercise, copied from solutions/
    DIR/students.csv              a student list template (``nbgrader db student import``)
    DIR/README.md                 the release, collect, autograde and feedback commands

One assignment per exercise (not per part of the course): each session of the instructor guide
ends with one exercise, so an assignment is released, collected and graded on the rhythm of the
sessions, and its ``release/`` folder equals the committed ``exercises/`` notebook one to one.

Exercises are discovered at run time: every ``solutions/*.ipynb`` becomes an assignment named
after the file, and every notebook with nbgrader cell metadata under ``capstone/`` joins one
assignment called ``capstone``. Nothing here runs nbgrader; the teacher does, in DIR.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

COURSE_ID = "mle-course"
CAPSTONE = "capstone"

# nbgrader's teacher-only tools. Learners need the assignment list and validate button only.
TEACHER_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader",)
TEACHER_LAB_EXTENSIONS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment")

CONFIG_TEMPLATE = '''\
# nbgrader configuration written by `mlecourse classroom init`.
c = get_config()  # noqa: F821 (provided by nbgrader when it reads this file)

c.CourseDirectory.course_id = {course_id!r}
# The course's own release settings (stubs that say what to write), shared with `make exercises`
# so a release equals the committed exercises/.
try:
    from mlecourse.exercises.generate import nbgrader_config
except ImportError:  # a course version without shared settings: nbgrader's defaults
    pass
else:
    c.merge(nbgrader_config())
# The gradebook is a SQLite file next to this configuration; back it up with the course.
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
# Submissions are executed when they are autograded; each cell gets this long.
c.ExecutePreprocessor.timeout = 120
# On a shared JupyterHub the exchange is usually /srv/nbgrader/exchange (nbgrader's default).
# c.Exchange.root = "/srv/nbgrader/exchange"
'''

STUDENTS_TEMPLATE = "id,first_name,last_name,email\nstudent1,Ada,Example,ada@example.org\n"


@dataclass(frozen=True)
class Assignment:
    """One nbgrader assignment: its name and the source notebooks it is made of."""

    name: str
    notebooks: tuple[Path, ...]


def _has_nbgrader_cells(path: Path) -> bool:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable notebook ({exc})") from exc
    return any("nbgrader" in cell.get("metadata", {}) for cell in nb.get("cells", []))


def discover(repo: Path, only: list[str] | None = None) -> list[Assignment]:
    """Return the course's assignments found in ``repo``, in the book's order.

    ``only`` restricts the result to these assignment names; an unknown name is a ValueError
    that lists the names that exist.
    """
    repo = Path(repo)
    solutions = repo / "solutions"
    if not solutions.is_dir():
        raise ValueError(f"{solutions}: no solutions folder (run this from the course repository)")
    found = [Assignment(p.stem, (p,)) for p in sorted(solutions.glob("*.ipynb"))]
    capstone = sorted(p for p in (repo / "capstone").rglob("*.ipynb")
                      if ".ipynb_checkpoints" not in p.parts and _has_nbgrader_cells(p))
    if capstone:
        found.append(Assignment(CAPSTONE, tuple(capstone)))
    if only is not None:
        names = {a.name for a in found}
        unknown = [n for n in only if n not in names]
        if unknown:
            raise ValueError(f"unknown assignment(s) {', '.join(unknown)}; "
                             f"available: {', '.join(sorted(names))}")
        found = [a for a in found if a.name in only]
    if not found:
        raise ValueError(f"{solutions}: no solution notebooks found")
    return sorted(found, key=lambda a: (_course_position(repo, a.name), a.name))


def _course_position(repo: Path, name: str) -> int:
    """Where the exercise comes in the book's table of contents (unlisted ones go last)."""
    toc = repo / "_toc.yml"
    text = toc.read_text(encoding="utf-8") if toc.exists() else ""
    pos = text.find(f"exercises/{name}\n")
    if name == CAPSTONE:
        pos = text.find("capstone/")
    return pos if pos >= 0 else len(text) + 1


def teacher_commands() -> list[str]:
    """The commands that show or hide nbgrader's teacher tools for the user who runs them."""
    return ["# Teachers (once per account): show Formgrader and Create Assignment",
            "mlecourse classroom tools show",
            "# Learners' accounts (or a hub image: add --sys-prefix): hide them",
            "mlecourse classroom tools hide"]


def _config_dir(sys_prefix: bool) -> Path:
    if sys_prefix:
        return Path(sys.prefix) / "etc" / "jupyter"
    from jupyter_core.paths import jupyter_config_dir

    return Path(jupyter_config_dir())


def _update_json(path: Path, update) -> None:
    """Apply ``update`` to the JSON object in ``path`` (created if missing, others keys kept)."""
    data = {}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8") or "{}")
        except ValueError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc}); fix or remove it first") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object")
    update(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def set_teacher_tools(show: bool, sys_prefix: bool = False) -> list[Path]:
    """Show or hide nbgrader's Formgrader and Create Assignment for this account (or, with
    ``sys_prefix``, for everyone using this Python environment); return the files written.

    The server side goes in ``jupyter_server_config.json``, whose settings take precedence over
    the ``jupyter_server_config.d/nbgrader.json`` that installing nbgrader enables. (nbgrader's
    documented ``jupyter server extension disable nbgrader.server_extensions.formgrader`` only
    prints "Validation failed" with nbgrader 0.9 and changes nothing.) The JupyterLab side goes
    in ``labconfig/page_config.json``: disabled and locked, so the plugin manager cannot turn it
    back on.
    """
    folder = _config_dir(sys_prefix)
    server = folder / "jupyter_server_config.json"
    lab = folder / "labconfig" / "page_config.json"

    def server_update(data):
        exts = data.setdefault("ServerApp", {}).setdefault("jpserver_extensions", {})
        for name in TEACHER_SERVER_EXTENSIONS:
            exts[name] = show

    def lab_update(data):
        disabled = data.setdefault("disabledExtensions", {})
        locked = data.setdefault("lockedExtensions", {})
        for name in TEACHER_LAB_EXTENSIONS:
            disabled[name] = not show
            locked[name] = not show

    _update_json(server, server_update)
    _update_json(lab, lab_update)
    return [server, lab]


def readme_text(assignments: list[Assignment], course_id: str = COURSE_ID) -> str:
    """The README written into the course directory: what is there and what to run."""
    first = assignments[0].name
    rows = "\n".join(f"| `{a.name}` | {', '.join(p.name for p in a.notebooks)} |"
                     for a in assignments)
    teacher = "\n".join(teacher_commands())
    return f"""# nbgrader course `{course_id}`

Made by `mlecourse classroom init` from the course's `solutions/`. Run every command below in
this folder, with the course environment activated (the notebooks import `mlecourse`).

| Assignment | Source notebooks |
|---|---|
{rows}

## Students

Edit `students.csv` (one row per student; `id` is their hub user name), then:

```bash
nbgrader db student import students.csv
```

## One assignment, start to finish (here `{first}`)

```bash
nbgrader generate_assignment {first}    # source/ -> release/ (solutions and hidden tests removed)
nbgrader release_assignment {first}     # to the exchange; students fetch it in the Assignments tab
# ... students work and submit ...
nbgrader collect {first}                # exchange -> submitted/
nbgrader autograde {first}              # runs each submission with the original check cells
nbgrader generate_feedback {first}
nbgrader release_feedback {first}
nbgrader export                         # grades.csv for your gradebook
```

Without an exchange (a learning management system), hand out `release/{first}/` yourself and
load the returned files with `nbgrader zip_collect {first}`.

`autograde` warns "Attribute 'checksum' for cell check-... has changed!" for every check cell
with hidden tests, even in an untouched submission: a known nbgrader issue
(jupyter/nbgrader#1961; the gradebook stores the checksum before the hidden tests are removed).
Autograde restores the original check cells before grading, so an edited check cell earns
nothing either way. To see who really edited a check cell, compare the submissions with the
release:

```bash
mlecourse classroom edited . {first}
```

## Teacher tools

Installing nbgrader shows its teacher tools (Formgrader, Create Assignment) to everyone.

```bash
{teacher}
```

To refresh `source/` after the course's solutions change (the configuration, gradebook and
student list are kept), run from the course repository:
`mlecourse classroom init --update DIR` (or `make classroom CLASSROOM=DIR UPDATE=1`).
"""


def _check_cells(path: Path) -> dict[str, str]:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]).strip()
            for c in nb.get("cells", [])
            if c.get("metadata", {}).get("nbgrader", {}).get("grade")
            and not c["metadata"]["nbgrader"].get("solution")}


def edited_check_cells(course: Path, assignment: str) -> dict[str, list[str]]:
    """Map ``student/notebook`` to the check cells whose source differs from ``release/``.

    A check cell that is missing from a submission counts as edited. This separates real
    tampering from nbgrader's checksum warning, which also fires on untouched cells.
    """
    course = Path(course)
    release = course / "release" / assignment
    if not release.is_dir():
        raise ValueError(f"{release}: no release folder (run nbgrader generate_assignment "
                         f"{assignment} first)")
    out = {}
    for released in sorted(release.glob("*.ipynb")):
        original = _check_cells(released)
        for submitted in sorted((course / "submitted").glob(f"*/{assignment}/{released.name}")):
            got = _check_cells(submitted)
            edited = [gid for gid, src in original.items() if got.get(gid) != src]
            if edited:
                out[f"{submitted.parts[-3]}/{released.name}"] = edited
    return out


def init(target: Path, repo: Path, only: list[str] | None = None, update: bool = False,
         course_id: str = COURSE_ID) -> list[Assignment]:
    """Create (or, with ``update``, refresh) the course directory ``target``.

    Without ``update`` a non-empty ``target`` is refused, so a gradebook is never overwritten.
    With ``update`` only ``source/`` and README.md are rewritten; the configuration, the
    gradebook and the student list stay as they are.
    """
    target = Path(target)
    assignments = discover(repo, only)
    if target.exists() and not target.is_dir():
        raise ValueError(f"{target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not update:
        raise ValueError(f"{target}: folder is not empty; use --update to refresh source/ "
                         "(keeps the configuration, gradebook and student list)")
    if update and not (target / "nbgrader_config.py").exists():
        raise ValueError(f"{target}: no nbgrader_config.py here; run init without --update")
    source = target / "source"
    source.mkdir(parents=True, exist_ok=True)
    for a in assignments:
        folder = source / a.name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        for nb in a.notebooks:
            shutil.copy2(nb, folder / nb.name)
    if not update:
        (target / "nbgrader_config.py").write_text(CONFIG_TEMPLATE.format(course_id=course_id),
                                                   encoding="utf-8")
        (target / "students.csv").write_text(STUDENTS_TEMPLATE, encoding="utf-8")
    (target / "README.md").write_text(readme_text(assignments, course_id), encoding="utf-8")
    return assignments
