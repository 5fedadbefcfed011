"""Compare ``mlecourse assess`` with a reviewer's judgement on real repositories (issue 18).

The judgements live in ``tests/data/scan/calibration.yaml`` (repository, commit, one level and
reason per cell, and whether the repository belongs to the held-out test set). The snapshots are
not part of this repository: check each one out (with its ``.git``, so tags are seen) as
``DIR/<name>`` where ``<name>`` is the part of ``owner/name`` after the slash, e.g.::

    git clone --shared /path/to/Made-With-ML.git /tmp/cal/Made-With-ML
    python -m benchmarks.calibrate_scan /tmp/cal            # figures
    python -m benchmarks.calibrate_scan /tmp/cal --diff     # disagreements (calibration set only)

Figures, overall and for the held-out set:

* agreement: cells where the suggested level equals the judgement;
* precision above the floor: of the cells the scan rates 2 or 3, the share it rates exactly right
  (and, in brackets, the share that truly are 2 or 3);
* recall above the floor: of the cells truly at 2 or 3, the share the scan rates 2 or 3.

A repository may carry a ``second_judgement``: a second reviewer's levels for the same cells,
made without seeing the first. For those repositories the script also prints the same figures for
the second reviewer measured against the first (what the goal asks of the scanner, asked of a
person) and for the scan measured against the second reviewer.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from mlecourse.scorecard.scan import scan, suggest

CALIBRATION = Path(__file__).resolve().parent.parent / "tests" / "data" / "scan" / "calibration.yaml"
FLOOR = 1  #: "above the floor" means level 2 or more


def load(path: Path = CALIBRATION) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if data.get("schema") != "mlecourse-scan-calibration/1":
        raise ValueError(f"{path}: field 'schema' must be 'mlecourse-scan-calibration/1'")
    for repo in data["repositories"]:
        for key in ("judgement", "second_judgement"):
            if key in repo:
                check_judgement(repo[key], data["cells"], f"{path}: {repo['repo']} {key}")
    return data


def check_judgement(judgement, cells: list, where: str) -> None:
    """Raise ValueError naming ``where`` unless ``judgement`` gives every cell ``[level, reason]``
    with a level from 0 to 3 and a reason, and names no other cell."""
    if not isinstance(judgement, dict):
        raise ValueError(f"{where}: must map each cell to [level, reason]")
    missing, extra = set(cells) - set(judgement), set(judgement) - set(cells)
    if missing or extra:
        raise ValueError(f"{where}: misses {sorted(missing)}, has unknown {sorted(extra)}")
    for cell in cells:
        value = judgement[cell]
        ok = (isinstance(value, list) and len(value) == 2 and type(value[0]) is int
              and 0 <= value[0] <= 3 and isinstance(value[1], str) and value[1].strip())
        if not ok:
            raise ValueError(f"{where}: {cell} must be [level 0-3, reason], not {value!r}")


def figures(pairs: list) -> dict:
    """``pairs`` of (suggested, judged) levels -> agreement, precision and recall above the floor."""
    n = len(pairs)
    said = [(s, j) for s, j in pairs if s > FLOOR]
    true = [(s, j) for s, j in pairs if j > FLOOR]
    return {
        "cells": n,
        "agreement": sum(s == j for s, j in pairs) / n if n else float("nan"),
        "claimed": len(said),
        "precision": sum(s == j for s, j in said) / len(said) if said else float("nan"),
        "precision_above": sum(j > FLOOR for _, j in said) / len(said) if said else float("nan"),
        "truly_above": len(true),
        "recall": sum(s > FLOOR for s, _ in true) / len(true) if true else float("nan"),
    }


def line(name: str, f: dict) -> str:
    return (f"{name:<12} cells {f['cells']:>3}  agreement {f['agreement']:6.1%}  "
            f"precision>floor {f['precision']:6.1%} ({f['precision_above']:.0%} truly >floor; "
            f"{f['claimed']} claimed)  recall>floor {f['recall']:6.1%} "
            f"(of {f['truly_above']})")


def run(folder: Path, diff: bool = False, held_out_diff: bool = False) -> dict:
    data = load()
    cells = data["cells"]
    pairs = {"all": [], "calibration": [], "held-out": []}
    reviewers = {"reviewer 2": [], "scan vs r2": []}  # against the first reviewer / the second
    for repo in data["repositories"]:
        name = repo["repo"].split("/", 1)[1]
        root = folder / name
        if not root.is_dir():
            print(f"skipped {repo['repo']}: no checkout at {root}", file=sys.stderr)
            continue
        start = time.perf_counter()
        assessment = suggest(scan(root))
        seconds = time.perf_counter() - start
        got = assessment["answers"]
        mine = [(got[c], repo["judgement"][c][0]) for c in cells]
        group = "held-out" if repo.get("held_out") else "calibration"
        pairs["all"] += mine
        pairs[group] += mine
        if "second_judgement" in repo:
            second = [repo["second_judgement"][c][0] for c in cells]
            reviewers["reviewer 2"] += [(b, a) for b, (_, a) in zip(second, mine)]
            reviewers["scan vs r2"] += [(s, b) for b, (s, _) in zip(second, mine)]
        f = figures(mine)
        print(f"{name[:40]:<40} {group:<11} agreement {f['agreement']:6.1%}  "
              f"scan {''.join(str(got[c]) for c in cells)}  "
              f"judged {''.join(str(repo['judgement'][c][0]) for c in cells)}  {seconds:.2f} s"
              + (f"  second {''.join(str(repo['second_judgement'][c][0]) for c in cells)}"
                 if "second_judgement" in repo else ""))
        if diff and (group == "calibration" or held_out_diff):
            for c in cells:
                if got[c] != repo["judgement"][c][0]:
                    print(f"    {c:<24} scan {got[c]} judged {repo['judgement'][c][0]}: "
                          f"{repo['judgement'][c][1]}\n      {assessment['notes'][c][:300]}")
    print()
    out = {}
    for group, p in [*pairs.items(), *reviewers.items()]:
        if p:
            out[group] = figures(p)
            print(line(group, out[group]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("folder", type=Path, help="folder holding one checkout per repository")
    parser.add_argument("--diff", action="store_true",
                        help="list disagreements of the calibration set (never the held-out set)")
    parser.add_argument("--held-out-diff", action="store_true",
                        help="also list the held-out disagreements (only after tuning is over)")
    args = parser.parse_args(argv)
    run(args.folder, args.diff, args.held_out_diff)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
