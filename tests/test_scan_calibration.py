"""The calibration data of the repository scanner (issue 18) is complete and its figures are right.

The scan itself needs checkouts of public repositories and is run by hand
(``python -m benchmarks.calibrate_scan DIR``); these tests hold the judgements file and the
arithmetic that turns pairs of levels into the figures the goal is stated in.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

# benchmarks/ is a folder of scripts run with ``python -m`` from the repository root, not an
# installed package: load the one module by its path.
_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "calibrate_scan.py"
_SPEC = importlib.util.spec_from_file_location("calibrate_scan", _PATH)
cal = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(cal)


@pytest.fixture(scope="module")
def data():
    return cal.load()


def test_every_repository_is_judged_on_every_cell_once(data):
    names = [r["repo"] for r in data["repositories"]]
    assert len(names) == len(set(names)), "a repository is judged twice"
    assert len(data["cells"]) == 18
    for repo in data["repositories"]:
        assert re.fullmatch(r"[0-9a-f]{40}", repo["commit"]), repo["repo"]
        assert isinstance(repo["held_out"], bool), repo["repo"]
        assert repo["kind"].strip(), repo["repo"]


def test_a_judgement_without_a_reason_or_with_a_level_out_of_range_is_refused(data):
    cells = data["cells"]
    good = {c: [1, "why"] for c in cells}
    cal.check_judgement(good, cells, "r")
    for cell, bad in [(cells[0], [4, "why"]), (cells[1], [1, " "]), (cells[2], ["2", "why"]),
                      (cells[3], [True, "why"]), (cells[4], 2)]:
        with pytest.raises(ValueError, match=re.escape(cell)):
            cal.check_judgement({**good, cell: bad}, cells, "r")
    with pytest.raises(ValueError, match="misses \\['" + re.escape(cells[-1])):
        cal.check_judgement({c: v for c, v in good.items() if c != cells[-1]}, cells, "r")
    with pytest.raises(ValueError, match="unknown \\['extra'\\]"):
        cal.check_judgement({**good, "extra": [1, "x"]}, cells, "r")


def test_figures_count_agreement_precision_and_recall_above_the_floor():
    # (suggested, judged): one exact claim, one claim above the floor but at the wrong level,
    # one false claim, one miss, two agreements at or below the floor
    pairs = [(2, 2), (3, 2), (2, 1), (1, 2), (1, 1), (0, 0)]
    f = cal.figures(pairs)
    assert f["cells"] == 6 and f["agreement"] == pytest.approx(3 / 6)
    assert f["claimed"] == 3 and f["precision"] == pytest.approx(1 / 3)
    assert f["precision_above"] == pytest.approx(2 / 3)
    assert f["truly_above"] == 3 and f["recall"] == pytest.approx(2 / 3)


# --- what the scan tells its users about its own accuracy --------------------------------------

def test_the_scan_quotes_the_latest_held_out_round_of_the_calibration_file(data, tmp_path):
    from mlecourse.scorecard import scan

    latest = scan.held_out_figures()
    held_out = [r for r in data["repositories"] if r["held_out"]]
    # The figures shown belong to the held-out set in the calibration file, not an older one.
    assert latest["repositories"] == len(held_out) and latest["cells"] == 18 * len(held_out)
    if any("second_judgement" in r for r in held_out):
        assert latest.get("second_reviewer") is not None
    text = scan.trust_text()
    assert f"On {latest['repositories']} public repositories" in text
    assert f"{latest['agreement']:.0f}% of cells" in text and f"{latest['recall']:.0f}%" in text
    (tmp_path / "README.md").write_text("# A model\n\nIt predicts defaults.\n")
    assessment = scan.suggest(scan.scan(tmp_path))
    for report in (scan.format_text(assessment), scan.format_markdown(assessment)):
        assert " ".join(text.split())[:-1] in " ".join(report.split()).replace("\\", "")
    # ... and the notebook scorecard's "Pre-fill from folder" says it too
    from html import escape

    from mlecourse.scorecard.widgets import Scorecard
    from mlecourse.scorecard.widgets_scan import add_prefill_control

    card = Scorecard("mle-maturity")
    assert add_prefill_control(card).run(str(tmp_path))
    assert escape(text) in card.message.value


@pytest.mark.parametrize("entry, message", [
    ({"round": 1, "repositories": 4, "cells": 72, "agreement": 163.9, "precision": 80,
      "recall": 36.4}, r"held_out_rounds\[0\]'.agreement must be a percentage"),
    ({"round": 1, "repositories": 0, "cells": 72, "agreement": 63.9, "precision": 80,
      "recall": 36.4}, r"held_out_rounds\[0\]'.repositories must be a whole number"),
    ({"round": 1, "repositories": 4, "cells": 72, "agreement": 63.9, "precision": 80},
     r"held_out_rounds\[0\]'.recall must be a percentage"),
])
def test_malformed_held_out_figures_are_refused_naming_the_field(tmp_path, entry, message):
    import yaml

    from mlecourse.scorecard import scan

    data = yaml.safe_load(scan.signal_map_path().read_text(encoding="utf-8"))
    data["held_out_rounds"] = [entry]
    path = tmp_path / "mle-maturity.signals.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        scan._load_signal_map(str(path), "mle-maturity")
    data["held_out_rounds"] = [{**entry, "round": 2, "agreement": 50, "precision": 50,
                                "recall": 50, "repositories": 1}] * 2
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=r"held_out_rounds\[1\]'.round must follow round 2"):
        scan._load_signal_map(str(path), "mle-maturity")


def test_the_book_claim_two_reviewers_agree_more_often_than_the_scan():
    """book/evidence.md: two people reading the same files agree far more often than the scan
    agrees with either of them (the last round, where both reviewers judged every cell)."""
    from mlecourse.scorecard import scan

    latest = scan.held_out_figures()
    assert latest["second_reviewer"] >= max(latest["agreement"],
                                            latest["agreement_with_second"]) + 15
