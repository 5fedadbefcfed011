"""The capstone project: check a learner's improved copy of ``capstone/starter``.

``mlecourse capstone check PATH`` (:func:`check`) answers four questions about a copy of the
starter system:

1. **What moved?** The repository scanner (:mod:`mlecourse.scorecard.scan`) runs on the copy and
   its suggested levels are compared with the starter's pinned baseline
   (``capstone/expected/starter-baseline.json``): every cell is *raised*, *unchanged* or
   *lowered*, raised cells with the scanner's evidence.
2. **In the right order?** A cell raised above a principle it depends on (the rubric's
   ``depends_on``: monitoring on reproducibility and deployment, reproducibility on versioning
   and testing) is an order violation; the scorecard's "ahead of its foundations" flags are
   listed too.
3. **Does it still work?** The project is copied to a temporary folder (never run in the
   learner's folder), trained (``train.py``, else the code cells of ``train.ipynb`` in order)
   and asked to score simulated applications (``python score.py IN.csv OUT.csv``), each step in
   its own process with a time limit.
4. **Is everything handed in?** The deliverables the brief (``book/capstone.md``) asks for.

Nothing here depends on exact levels: the baseline is data, written by
``python -m mlecourse.capstone pin`` (re-run it when the scanner's rules change).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

MARKER = ".capstone"  #: the file that marks a copy of the starter
RUBRIC_ID = "mle-maturity"
GOAL_CELLS, GOAL_PRINCIPLES = 5, 3  #: raise at least this many cells across this many principles
TIME_LIMIT = 300  #: seconds for training, and again for scoring (generous: shared machines)
N_APPLICATIONS = 200  #: simulated applications the scoring step must score
PINNED_CREATED = "2026-01-01T00:00:00+00:00"  #: fixed date in pinned files (stable diffs)

#: Deliverables: (name shown, names that count (lower case; "*" ends a prefix), what it is).
DELIVERABLES = (
    ("scorecard/before.json", ("scorecard/before.json",),
     "the scanner's assessment of the starter: mlecourse assess --format json"),
    ("scorecard/after.json", ("scorecard/after.json",),
     "the scanner's assessment of your project: mlecourse assess --format json"),
    ("scorecard/self-assessment.json", ("scorecard/self-assessment.json",),
     "your own assessment, exported from the scorecard notebook or page"),
    ("MODEL_CARD.md", ("model_card*", "model-card*", "modelcard*"), "a model card"),
    ("REPORT.md", ("report.md",), "the one-page report"),
)
#: Folders never copied into the run (environments, caches, Git objects).
_IGNORE = shutil.ignore_patterns(".git", ".venv", "venv", "__pycache__", ".ipynb_checkpoints",
                                 ".pytest_cache", ".dvc_cache", "node_modules")


# ------------------------------------------------------------------------------ paths, text

def capstone_root() -> Path:
    """The course's ``capstone/`` folder (``MLECOURSE_CAPSTONE`` overrides it).

    It sits next to ``src/`` in a checkout of the course; raises ValueError when absent.
    """
    env = os.environ.get("MLECOURSE_CAPSTONE")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "capstone"
    if not (root / "starter" / MARKER).is_file():
        raise ValueError(f"{safe(root)}: not the course's capstone folder (no starter/{MARKER}); "
                         f"set MLECOURSE_CAPSTONE to the folder in your copy of the course")
    return root


def safe(text) -> str:
    """Text with control and other non-printable characters escaped (for terminal output).

    A file name may hold escape sequences that would repaint the learner's terminal; they are
    shown as ``\\x1b`` and the like instead.
    """
    text = os.fsencode(text).decode("utf-8", "backslashreplace") if isinstance(text, Path) \
        else str(text)
    out = []
    for ch in text:
        if ch == " " or not unicodedata.category(ch).startswith(("C", "Z")):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


# ------------------------------------------------------------------------------ comparison

def scan_assessment(path) -> dict:
    """The scanner's suggested assessment of ``path`` (levels, notes, evidence), dated
    :data:`PINNED_CREATED` so two scans of the same files are equal."""
    from mlecourse.scorecard.scan import scan, suggest

    return suggest(scan(path), RUBRIC_ID, created=PINNED_CREATED)


@dataclass
class CellResult:
    """One cell of the comparison: ``status`` is raised, unchanged or lowered."""

    cell: str
    principle: str
    aspect: str
    before: int
    after: int
    status: str
    evidence: list = field(default_factory=list)  # the scanner's, for the after state

    @property
    def label(self) -> str:
        return f"{self.principle}, {self.aspect}"

    def to_dict(self) -> dict:
        return {"cell": self.cell, "before": self.before, "after": self.after,
                "status": self.status, "evidence": self.evidence}


def compare_cells(baseline: dict, after: dict) -> list[CellResult]:
    """Every rubric cell, baseline level against the copy's (both scanner assessments)."""
    from mlecourse.scorecard.rubric import load_rubric

    rubric = load_rubric(RUBRIC_ID)
    names = {g.id: g.name for g in rubric.groups}
    items = {it.id: it.name for it in rubric.items}
    out = []
    def rank(value):  # a cell the scanner left unanswered counts as below every level
        return float("-inf") if value is None else value

    for cid, cell in rubric.cells.items():
        b, a = baseline["answers"].get(cid), after["answers"].get(cid)
        status = ("raised" if rank(a) > rank(b) else "lowered" if rank(a) < rank(b)
                  else "unchanged")
        out.append(CellResult(cid, names[cell.group], items[cell.item], b, a, status,
                              list(after.get("evidence", {}).get(cid, []))))
    return out


def _lv(value) -> str:
    """A level for display; a dash for an unanswered cell."""
    return "-" if value is None or value == float("-inf") else str(value)


def _foundations(rubric, group_id: str) -> list:
    """Every group ``group_id`` depends on, directly or through another group."""
    seen, todo = [], list(rubric.group(group_id).depends_on)
    while todo:
        g = todo.pop(0)
        if g not in seen:
            seen.append(g)
            todo.extend(rubric.group(g).depends_on)
    return seen


def order_violations(cells: list[CellResult]) -> list[str]:
    """Raised cells that went ahead of a principle they depend on.

    Monitoring depends on reproducibility and deployment, reproducibility on versioning and
    testing (the rubric's ``depends_on``, followed through). A raised cell is out of order when
    one of those foundations was not raised at all and stays below the cell's new level: no
    monitoring before versioning. The scorecard's own "ahead of its foundations" flags (group
    means apart by the rubric's ``foundation_gap``) are added after these.
    """
    from mlecourse.scorecard.rubric import load_rubric
    from mlecourse.scorecard.scoring import score

    rubric = load_rubric(RUBRIC_ID)
    best, moved = {}, set()
    for c in cells:
        group = c.cell.split(".")[0]
        level = float("-inf") if c.after is None else c.after
        best[group] = max(best.get(group, level), level)
        if c.status == "raised":
            moved.add(group)
    names = {g.id: g.name for g in rubric.groups}
    out = []
    for c in cells:
        if c.status != "raised":
            continue
        for f in _foundations(rubric, c.cell.split(".")[0]):
            if f not in moved and c.after > best[f]:  # c.after is a level: it was raised
                out.append(f"{c.label} raised to level {c.after} while {names[f]}, which it "
                           f"depends on, was not raised (at most level {_lv(best[f])}): raise "
                           f"{names[f]} first")
    result = score(rubric, {c.cell: c.after for c in cells if c.after is not None})
    out += [f"the scorecard flags it: {a.message}" for a in result.ahead]
    return out


# ------------------------------------------------------------------------------ running

@dataclass
class Step:
    """One run of the project: what ran, whether it worked, how long, the output's tail."""

    name: str
    command: str
    ok: bool
    seconds: float
    message: str = ""

    def to_dict(self) -> dict:
        return {"step": self.name, "command": self.command, "ok": self.ok,
                "seconds": round(self.seconds, 1), "message": self.message}


def notebook_script(path: Path) -> str:
    """The code cells of a notebook as one script (IPython magics and shell lines dropped)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = [c for c in nb["cells"] if c.get("cell_type") == "code"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{safe(path.name)}: not a readable notebook ({exc})") from None
    parts = []
    for cell in cells:
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _tail(text: str, lines: int = 3) -> str:
    kept = [ln for ln in text.strip().splitlines() if ln.strip()][-lines:]
    return " | ".join(safe(ln.strip()) for ln in kept)


def _run(name: str, argv: list, cwd: Path, seconds: float, shown: str) -> Step:
    """Run ``argv`` in its own process group; kill the whole group when time runs out."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                            errors="replace", start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Step(name, shown, False, time.perf_counter() - start,
                    f"stopped after {seconds:g} s (time limit)")
    took = time.perf_counter() - start
    if proc.returncode != 0:
        return Step(name, shown, False, took, f"exit status {proc.returncode}: {_tail(out)}")
    return Step(name, shown, True, took)


def applications_csv(path: Path, n: int = N_APPLICATIONS, seed: int = 2025) -> None:
    """Write ``n`` simulated applications of a later month (no outcome column) to ``path``."""
    from mlecourse.example.simulate import TARGET, simulate_loans

    df = simulate_loans(months=1, rows_per_month=n, seed=seed, start="2025-06")
    df.drop(columns=[TARGET]).to_csv(path, index=False)


def _check_scores(out: Path, n: int) -> str:
    """An empty string when ``out`` holds ``n`` finite scores in [0, 1], else what is wrong."""
    import pandas as pd

    if not out.is_file():
        return "score.py wrote no output file"
    try:
        df = pd.read_csv(out)
    except Exception as exc:  # noqa: BLE001 - any unreadable output is the learner's to fix
        return f"the output is not a CSV file ({safe(exc)})"
    if "score" not in df.columns:
        return "the output has no 'score' column"
    if len(df) != n:
        return f"the output has {len(df)} rows for {n} applications"
    s = pd.to_numeric(df["score"], errors="coerce")
    if s.isna().any() or not all(0 <= v <= 1 and math.isfinite(v) for v in s):
        return "some scores are missing or outside [0, 1]"
    return ""


def run_project(path, seconds: float = TIME_LIMIT) -> list[Step]:
    """Train and score a copy of the project at ``path`` in a temporary folder.

    Training runs ``train.py`` if the project has one, else the code cells of ``train.ipynb``
    in order. Scoring runs ``python score.py IN.csv OUT.csv`` on simulated applications.
    The learner's folder is only read (copied); the copy is deleted afterwards.
    """
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="capstone-run-") as tmp:
        work = Path(tmp) / "project"
        shutil.copytree(path, work, symlinks=True, ignore=_IGNORE)
        if (work / "train.py").is_file():
            command, argv = "python train.py", [sys.executable, "train.py"]
        elif (work / "train.ipynb").is_file():
            # Next to the notebook, so its imports of the project's own modules work as in
            # Jupyter (the folder of the script run comes first on sys.path).
            script = work / "_capstone_train_notebook.py"
            script.write_text(notebook_script(work / "train.ipynb"), encoding="utf-8")
            command, argv = "the code cells of train.ipynb", [sys.executable, script.name]
        else:
            return [Step("train", "-", False, 0.0, "the project has neither train.py nor "
                                                   "train.ipynb")]
        train = _run("train", argv, work, seconds, command)
        if not train.ok:
            return [train]
        if not (work / "score.py").is_file():
            return [train, Step("score", "-", False, 0.0, "the project has no score.py")]
        inp, out = Path(tmp) / "applications.csv", Path(tmp) / "scores.csv"
        applications_csv(inp)
        step = _run("score", [sys.executable, "score.py", str(inp), str(out)], work, seconds,
                    f"python score.py applications.csv scores.csv ({N_APPLICATIONS} rows)")
        if step.ok:
            problem = _check_scores(out, N_APPLICATIONS)
            if problem:
                step.ok, step.message = False, problem
        return [train, step]


# ------------------------------------------------------------------------------ deliverables

def _find(path: Path, patterns) -> Path | None:
    """The first file under ``path`` whose relative name (lower case) matches a pattern."""
    for pattern in patterns:
        folder, _, name = pattern.rpartition("/")
        where = path / folder if folder else path
        if not where.is_dir():
            continue
        for p in sorted(where.iterdir()):
            low = p.name.lower()
            if p.is_file() and (low.startswith(name[:-1]) if name.endswith("*") else low == name):
                return p
    return None


def deliverables(path) -> list[dict]:
    """Each deliverable: ``{"name", "what", "found", "problem"}`` (problem: "" when fine).

    The scorecards must be valid assessments of the course's rubric.
    """
    from mlecourse.scorecard.assessment import load_assessment

    path = Path(path)
    out = []
    for shown, patterns, what in DELIVERABLES:
        found = _find(path, patterns)
        problem = "" if found else "missing"
        if found is not None and found.suffix.lower() == ".json":
            try:
                load_assessment(found, RUBRIC_ID)
            except ValueError as exc:
                problem = f"not a valid assessment: {exc}"
        name = found.relative_to(path).as_posix() if found is not None else shown
        out.append({"name": name, "what": what, "found": found is not None, "problem": problem})
    return out


# ------------------------------------------------------------------------------ the check

@dataclass
class CheckReport:
    """Everything :func:`check` found (see :meth:`to_text` and :meth:`to_dict`)."""

    path: str
    cells: list
    violations: list
    steps: list
    deliverables: list

    @property
    def raised(self) -> list:
        return [c for c in self.cells if c.status == "raised"]

    @property
    def principles_raised(self) -> list:
        return sorted({c.cell.split(".")[0] for c in self.raised})

    @property
    def goal_met(self) -> bool:
        return len(self.raised) >= GOAL_CELLS and len(self.principles_raised) >= GOAL_PRINCIPLES

    @property
    def problems(self) -> list:
        """One line per thing to fix before handing in."""
        out = [f"order: {v}" for v in self.violations]
        out += [f"{s.name} failed ({s.command}): {s.message}" for s in self.steps if not s.ok]
        out += [f"deliverable {d['name']}: {d['problem']} ({d['what']})"
                for d in self.deliverables if d["problem"]]
        out += [f"lowered: {c.label} {_lv(c.before)} -> {_lv(c.after)}" for c in self.cells
                if c.status == "lowered"]
        if not self.goal_met:
            out.append(f"goal: {len(self.raised)} cell(s) raised across "
                       f"{len(self.principles_raised)} principle(s); the goal is at least "
                       f"{GOAL_CELLS} across {GOAL_PRINCIPLES}")
        return out

    def to_dict(self) -> dict:
        return {"path": self.path, "goal_met": self.goal_met,
                "raised": [c.cell for c in self.raised],
                "cells": [c.to_dict() for c in self.cells], "order_violations": self.violations,
                "run": [s.to_dict() for s in self.steps], "deliverables": self.deliverables,
                "problems": self.problems}

    def to_text(self) -> str:
        lines = [f"Capstone check of {safe(self.path)} (baseline: the starter as the scanner "
                 f"sees it)", ""]
        for status in ("raised", "lowered", "unchanged"):
            group = [c for c in self.cells if c.status == status]
            lines.append(f"{status.capitalize()} ({len(group)}):" + ("" if group else " none"))
            for c in group:
                lines.append(f"  {c.label}: {_lv(c.before)} -> {_lv(c.after)}"
                             if status != "unchanged" else f"  {c.label}: level {_lv(c.after)}")
                if status == "raised":
                    lines += [f"      {safe(line)}" for line in _evidence_lines(c.evidence)]
            if group:
                lines.append("")
        lines.append("Order: " + ("no raised cell is ahead of its foundations."
                                  if not self.violations else ""))
        lines += [f"  ! {safe(v)}" for v in self.violations]
        if self.steps:
            lines.append("Runs (in a temporary copy):")
            for s in self.steps:
                state = f"ok, {s.seconds:.1f} s" if s.ok else f"FAILED: {safe(s.message)}"
                lines.append(f"  {s.name}: {safe(s.command)}: {state}")
        else:
            lines.append("Runs: skipped (--no-run).")
        lines.append("Deliverables:")
        for d in self.deliverables:
            lines.append(f"  {safe(d['name'])}: {safe(d['problem']) or 'found'} ({d['what']})")
        lines += ["", f"Goal (at least {GOAL_CELLS} cells across {GOAL_PRINCIPLES} principles): "
                      f"{len(self.raised)} cell(s) across {len(self.principles_raised)} "
                      f"principle(s): {'met' if self.goal_met else 'not yet'}."]
        problems = self.problems
        lines.append("To fix:" if problems else "Nothing to fix.")
        lines += [f"  - {safe(p)}" for p in problems]
        return "\n".join(lines)


def _evidence_lines(evidence: list) -> list:
    """One line per signal: its first place, and how many more places show it."""
    by_signal: dict = {}
    for ev in evidence:
        by_signal.setdefault(ev["signal"], []).append(ev)
    return [_where(places[0]) + (f" (+{len(places) - 1} more)" if len(places) > 1 else "")
            for places in by_signal.values()]


def _where(ev: dict) -> str:
    where = ev.get("path", "") + (f":{ev['line']}" if ev.get("line") else "")
    detail = f" ({ev['detail']})" if ev.get("detail") else ""
    return f"{ev['signal']}: {where}{detail}"


def load_baseline(path=None) -> dict:
    """The starter's pinned baseline (an assessment); ``path`` overrides where it is read."""
    from mlecourse.scorecard.assessment import load_assessment

    path = Path(path) if path else capstone_root() / "expected" / "starter-baseline.json"
    return load_assessment(path, RUBRIC_ID)


def check(path, *, baseline=None, run: bool = True, seconds: float = TIME_LIMIT) -> CheckReport:
    """Check a learner's copy of the starter (see the module docstring).

    Raises ValueError with one clear line when ``path`` is not a folder or not a copy of the
    starter (no ``.capstone`` file).
    """
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{safe(path)}: no such folder")
    if not (path / MARKER).is_file():
        raise ValueError(f"{safe(path)}: not a copy of the capstone starter (no {MARKER} file); "
                         f"start from a copy of the whole folder: cp -r capstone/starter "
                         f"my-capstone")
    base = baseline if isinstance(baseline, dict) else load_baseline(baseline)
    cells = compare_cells(base, scan_assessment(path))
    steps = run_project(path, seconds) if run else []
    return CheckReport(str(path), cells, order_violations(cells), steps, deliverables(path))


# ------------------------------------------------------------------------------ pinning

def raised_summary(baseline: dict, after: dict) -> dict:
    """``{cell: {"before", "after", "signals"}}`` for every cell ``after`` raises."""
    out = {}
    for c in compare_cells(baseline, after):
        if c.status == "raised":
            signals = sorted({ev["signal"] for ev in c.evidence})
            out[c.cell] = {"before": c.before, "after": c.after, "signals": signals}
    return out


def pinned(root=None) -> dict:
    """What ``pin`` writes: path (relative to ``capstone/``) -> JSON-ready content.

    ``expected/starter-baseline.json``: the scanner's assessment of the starter (what
    :func:`check` compares with); ``expected/reference-raised.json``: the cells the reference
    raises, with the signals that show it; ``reference/scorecard/before.json`` and
    ``after.json``: the reference's own before/after deliverables.
    """
    root = Path(root) if root else capstone_root()
    base = scan_assessment(root / "starter")
    out = {"expected/starter-baseline.json": base}
    if (root / "reference").is_dir():
        ref = scan_assessment(root / "reference")
        out["expected/reference-raised.json"] = raised_summary(base, ref)
        out["reference/scorecard/before.json"] = base
        out["reference/scorecard/after.json"] = ref
    return out


def pin(root=None) -> list[Path]:
    """Write :func:`pinned` into ``capstone/``.

    Re-run after changing the scanner's rules, the starter or the reference; the tests compare
    fresh scans with these files.
    """
    root = Path(root) if root else capstone_root()
    written = []
    for name, data in pinned(root).items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written


def main(argv=None) -> int:
    """``python -m mlecourse.capstone pin``: rewrite the pinned files."""
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["pin"]:
        print("usage: python -m mlecourse.capstone pin", file=sys.stderr)
        return 2
    for path in pin():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
