"""The classroom kit: `mlecourse classroom init` makes an nbgrader course that really grades.

The slow test runs real nbgrader (generate_assignment, autograde) on two small exercises in a
temporary course directory, with a SQLite gradebook there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlecourse.classroom import (TEACHER_LAB_EXTENSIONS, TEACHER_SERVER_EXTENSIONS, discover,
                                 edited_check_cells, init)
from mlecourse.cli import main

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["warm-up", "model-decay-psi"]
# Real nbgrader grades one exercise here: every exercise is generated the same way and checked
# on its own by test_exercises.py; each extra one costs three more notebook executions.
GRADED = ["warm-up"]


def test_discover_finds_every_solution_in_course_order():
    names = [a.name for a in discover(ROOT)]
    assert sorted(names) == sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
    assert names[0] == "warm-up"  # the book's order, not the alphabet


def test_discover_picks_up_new_exercises_and_a_graded_capstone(tmp_path):
    (tmp_path / "solutions").mkdir()
    shutil.copy(ROOT / "solutions" / "warm-up.ipynb", tmp_path / "solutions" / "zz-new.ipynb")
    (tmp_path / "capstone").mkdir()
    shutil.copy(ROOT / "solutions" / "warm-up.ipynb", tmp_path / "capstone" / "project.ipynb")
    (tmp_path / "capstone" / "notes.ipynb").write_text(json.dumps({"cells": []}))
    found = {a.name: [p.name for p in a.notebooks] for a in discover(tmp_path)}
    assert found == {"zz-new": ["zz-new.ipynb"], "capstone": ["project.ipynb"]}


def test_init_writes_a_course_and_never_overwrites_one(tmp_path, capsys):
    course = tmp_path / "course"
    assert main(["classroom", "init", str(course), "--repo", str(ROOT), "--only", *SMALL]) == 0
    out = capsys.readouterr().out
    assert "mlecourse classroom tools hide" in out and "mlecourse classroom tools show" in out
    assert sorted(p.name for p in (course / "source").iterdir()) == sorted(SMALL)
    assert (course / "source" / "warm-up" / "warm-up.ipynb").read_bytes() == \
        (ROOT / "solutions" / "warm-up.ipynb").read_bytes()
    readme = (course / "README.md").read_text()
    for cmd in ("generate_assignment warm-up", "release_assignment", "collect", "autograde",
                "student import students.csv"):
        assert cmd in readme
    assert (course / "students.csv").read_text().startswith("id,first_name,last_name,email\n")

    (course / "gradebook.db").write_text("precious")
    (course / "students.csv").write_text("id\nreal-student\n")
    assert main(["classroom", "init", str(course), "--repo", str(ROOT)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["classroom", "init", str(course), "--repo", str(ROOT), "--update"]) == 0
    assert (course / "gradebook.db").read_text() == "precious"
    assert (course / "students.csv").read_text() == "id\nreal-student\n"
    assert len(list((course / "source").iterdir())) == len(discover(ROOT))


def test_init_refuses_unknown_names_and_update_of_a_non_course(tmp_path, capsys):
    assert main(["classroom", "init", str(tmp_path / "c"), "--repo", str(ROOT),
                 "--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown assignment(s) nope" in err and "warm-up" in err
    assert not (tmp_path / "c").exists()
    (tmp_path / "d").mkdir()
    assert main(["classroom", "init", str(tmp_path / "d"), "--repo", str(ROOT), "--update"]) == 2
    assert "no nbgrader_config.py" in capsys.readouterr().err


def test_teacher_tools_are_extensions_nbgrader_really_has():
    """The names come from nbgrader's installed lab extension and server extension modules."""
    import importlib

    nbgrader = importlib.import_module("nbgrader")
    lab = Path(nbgrader.__file__).parent / "labextension"
    bundle = " ".join(p.read_text(errors="ignore") for p in lab.rglob("*.js"))
    for name in TEACHER_LAB_EXTENSIONS:
        assert f'"{name}"' in bundle, name
    for name in TEACHER_SERVER_EXTENSIONS:
        importlib.import_module(name)


# One fresh Python per state asks both Jupyter parts what a new session would load: the server
# extensions the server enables, then what `jupyter labextension list` prints (its own entry
# point, run in the same process to start JupyterLab's imports once, not twice).
_EFFECTIVE = """
from jupyter_server.serverapp import ServerApp
app = ServerApp()
app.load_config_file()
app.find_server_extensions()
print(sorted(k for k, on in app.jpserver_extensions.items() if on and k.startswith("nbgrader")))
print("=== labextension list ===", flush=True)
from jupyterlab.labextensions import main
main(argv=["list"])
"""


def _tools_state(config_dir: Path) -> tuple[str, str]:
    """(enabled nbgrader server extensions, `jupyter labextension list` output) for a config."""
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config_dir)}
    proc = subprocess.run([sys.executable, "-c", _EFFECTIVE], env=env, capture_output=True,
                          text=True, timeout=300, cwd=config_dir)
    server, marker, lab = proc.stdout.partition("=== labextension list ===")
    assert marker, proc.stdout + proc.stderr
    return server, lab + proc.stderr


def test_tools_hide_and_show_teacher_tools_for_one_account(tmp_path, monkeypatch, capsys):
    config_dir = tmp_path / "jupyter"
    config_dir.mkdir()
    # A setting the user already has is kept.
    (config_dir / "jupyter_server_config.json").write_text('{"ServerApp": {"port": 9999}}')
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(config_dir))

    assert main(["classroom", "tools", "hide"]) == 0
    assert "hidden" in capsys.readouterr().out
    server, lab = _tools_state(config_dir)
    assert "nbgrader.server_extensions.formgrader" not in server
    assert "nbgrader.server_extensions.assignment_list" in server  # learners keep Assignments
    kept = json.loads((config_dir / "jupyter_server_config.json").read_text())
    assert kept["ServerApp"]["port"] == 9999
    disabled = lab.split("Disabled extensions:")[1] if "Disabled extensions:" in lab else ""
    assert "@jupyter/nbgrader:formgrader" in disabled
    assert "@jupyter/nbgrader:create-assignment" in disabled
    assert "@jupyter/nbgrader:assignment-list" not in disabled

    assert main(["classroom", "tools", "show"]) == 0
    server, lab = _tools_state(config_dir)
    assert "nbgrader.server_extensions.formgrader" in server
    assert "Disabled extensions:" not in lab and "nbgrader" in lab

    (config_dir / "jupyter_server_config.json").write_text("{broken")
    assert main(["classroom", "tools", "hide"]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert (config_dir / "jupyter_server_config.json").read_text() == "{broken"


def test_edited_lists_only_real_edits(tmp_path, capsys):
    course = tmp_path / "c"
    release = course / "release" / "warm-up"
    release.mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / "warm-up.ipynb", release)
    for student in ("honest", "sly", "deleter"):
        (course / "submitted" / student / "warm-up").mkdir(parents=True)
    shutil.copy(release / "warm-up.ipynb", course / "submitted" / "honest" / "warm-up")
    _tampered(release / "warm-up.ipynb", course / "submitted" / "sly" / "warm-up" / "warm-up.ipynb")
    nb = json.loads((release / "warm-up.ipynb").read_text())
    nb["cells"] = [c for c in nb["cells"] if not c["metadata"].get("nbgrader", {}).get("grade")]
    (course / "submitted" / "deleter" / "warm-up" / "warm-up.ipynb").write_text(json.dumps(nb))
    assert main(["classroom", "edited", str(course), "warm-up"]) == 1
    out = capsys.readouterr().out.splitlines()
    checks = ", ".join(c["metadata"]["nbgrader"]["grade_id"] for c in
                       json.loads((release / "warm-up.ipynb").read_text())["cells"]
                       if c["metadata"].get("nbgrader", {}).get("grade")
                       and not c["metadata"]["nbgrader"].get("solution"))
    assert checks.startswith("check-")
    assert out == [f"deleter/warm-up.ipynb: edited {checks}", f"sly/warm-up.ipynb: edited {checks}"]
    assert main(["classroom", "edited", str(course), "nope"]) == 2
    assert "generate_assignment nope" in capsys.readouterr().err


# --- real nbgrader ----------------------------------------------------------------------------

def _nbgrader(course: Path, *args: str) -> str:
    bin_dir = Path(sys.executable).parent
    # nbgrader runs `alembic` from PATH to create its gradebook, as in an activated environment.
    env = {**os.environ, "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
           "PYTHONPATH": os.pathsep.join(
               [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    nbgrader = bin_dir / "nbgrader"
    proc = subprocess.run([str(nbgrader), *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def _cells(path: Path) -> list[tuple[str, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(c["cell_type"], "".join(c["source"]).strip()) for c in nb["cells"]]


def _tampered(release: Path, target: Path) -> None:
    """The unchanged release with every check cell replaced by one that always passes."""
    nb = json.loads(release.read_text(encoding="utf-8"))
    edited = 0
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell["cell_type"] == "code":
            cell["source"] = "assert True  # nothing to see here"
            edited += 1
    assert edited, "the exercise has no check cell to tamper with"
    target.write_text(json.dumps(nb), encoding="utf-8")


def _solved(release: Path, source: Path, target: Path) -> None:
    """What a student who solved everything submits: the release with the solution cells filled."""
    answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"]
               for c in json.loads(source.read_text(encoding="utf-8"))["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    nb = json.loads(release.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    target.write_text(json.dumps(nb), encoding="utf-8")


def _score(course: Path, assignment: str, student: str) -> tuple[float, float]:
    """Autograded points and their maximum (written "Think about it" answers are graded by hand)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission(assignment, student)
        return float(sub.code_score), float(sub.max_code_score)


@pytest.mark.slow
def test_real_nbgrader_releases_the_exercises_and_grades_fairly(tmp_path):
    course = tmp_path / "course"
    init(course, ROOT, only=GRADED)
    for name in GRADED:
        _nbgrader(course, "generate_assignment", name)
        release = course / "release" / name / f"{name}.ipynb"
        # The release a teacher hands out is the exercise learners see on the site.
        assert _cells(release) == _cells(ROOT / "exercises" / f"{name}.ipynb"), name

        submitted = course / "submitted"
        for student in ("solver", "idle", "tamperer"):
            (submitted / student / name).mkdir(parents=True)
        _solved(release, course / "source" / name / f"{name}.ipynb",
                submitted / "solver" / name / f"{name}.ipynb")
        shutil.copy(release, submitted / "idle" / name)
        _tampered(release, submitted / "tamperer" / name / f"{name}.ipynb")
        log = _nbgrader(course, "autograde", name)
        # nbgrader's checksum warning: a check cell with hidden tests always "has changed".
        assert "has changed" in log

        score, max_score = _score(course, name, "solver")
        assert max_score > 0 and score == max_score, name
        assert _score(course, name, "idle")[0] == 0, name
        assert _score(course, name, "tamperer")[0] == 0, name
        # The checksum warning fires for everyone; only the tamperer really edited a check cell.
        assert list(edited_check_cells(course, name)) == [f"tamperer/{name}.ipynb"]
