"""Rubric files: loading, content of the two packaged rubrics, and refusal of broken files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlecourse.scorecard.rubric import RUBRIC_DIR, list_rubrics, load_rubric
from mlecourse.scorecard.scoring import score

PRINCIPLES = ["versioning", "testing", "reproducibility", "deployment", "monitoring",
              "ways-of-working"]
ASPECTS = ["code", "model", "data"]


def test_both_rubrics_are_listed_and_load():
    assert {"mle-maturity", "ml-test-score"} <= set(list_rubrics())
    for rid in ("mle-maturity", "ml-test-score"):
        rubric = load_rubric(rid)
        assert rubric.id == rid and rubric.version and rubric.title and rubric.description


def test_mle_maturity_is_six_principles_by_three_aspects():
    r = load_rubric("mle-maturity")
    assert r.scoring == "maturity"
    assert [g.id for g in r.groups] == PRINCIPLES
    assert [it.id for it in r.items] == ASPECTS
    assert [it.name for it in r.items] == ["Code", "Model", "Data"]
    # 0 "not in place" is the course's addition; 1-3 is the talk's scale, unchanged
    assert r.level_values == [0, 1, 2, 3]
    assert [lv.name for lv in r.levels] == ["Not in place", "Manual", "Automated", "Continuous"]
    assert r.cell_ids == [f"{p}.{a}" for p in PRINCIPLES for a in ASPECTS]
    assert r.group("reproducibility").depends_on == ("versioning", "testing")
    assert r.group("monitoring").depends_on == ("reproducibility", "deployment")


def test_every_maturity_cell_has_question_descriptors_next_steps_and_sources():
    r = load_rubric("mle-maturity")
    for cid, cell in r.cells.items():
        assert cell.question.strip(), cid
        assert set(cell.levels) == {0, 1, 2, 3}, cid
        # each level 1-3 has its own descriptor, not the generic one; 0 uses the generic one
        assert len({cell.levels[1], cell.levels[2], cell.levels[3]}) == 3, cid
        assert all(cell.levels[v] != r.level(v).description for v in (1, 2, 3)), cid
        assert cell.levels[0] == r.level(0).description, cid
        assert set(cell.next) == {0, 1, 2}, cid
        assert len({cell.next[0], cell.next[1], cell.next[2]}) == 3, cid
        # the step from 0 leads to this cell's own level 1
        assert cell.levels[1][1:] in cell.next[0], cid
        assert cell.references, cid
        assert all(ref["source"] in r.sources for ref in cell.references), cid


def test_versioning_and_testing_use_the_talks_own_questions():
    r = load_rubric("mle-maturity")
    expected = {
        "versioning.code": "Are you using a tool like Git to version (tag) the code producing your model?",
        "versioning.model": "Are you saving and versioning your models?",
        "versioning.data": "Are you versioning the data used to train your models?",
        "testing.data": "Are there data quality checks for raw data? What are the quality standards for your data?",
    }
    for cid, question in expected.items():
        assert r.cells[cid].question == question
    assert r.cells["testing.code"].question.startswith("Are there automated tests?")


def test_ml_test_score_has_28_tests_in_four_sections_and_six_bands():
    r = load_rubric("ml-test-score")
    assert r.scoring == "min-of-sections"
    assert [g.id for g in r.groups] == ["data", "model", "infrastructure", "monitoring"]
    assert [it.id for it in r.items] == [str(n) for n in range(1, 8)]
    assert len(r.cells) == 28
    assert r.level_values == [0, 0.5, 1]
    assert [b["up_to"] for b in r.bands] == [0, 1, 2, 3, 5, None]
    assert r.cells["infrastructure.1"].question == "Training is reproducible."
    assert all(c.next[0] and c.next[0.5] for c in r.cells.values())


def _write(tmp_path: Path, data: dict, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _third_rubric() -> dict:
    return {
        "id": "tiny-rubric", "version": "0.1.0", "title": "A teacher's rubric",
        "scoring": "maturity",
        "levels": [{"value": 1, "name": "Low", "description": "Not yet."},
                   {"value": 2, "name": "High", "description": "Done."}],
        "default_next": {1: "Do it."},
        "groups": [{"id": "docs", "name": "Docs"}, {"id": "ci", "name": "CI", "depends_on": ["docs"]}],
        "items": [{"id": "readme", "name": "README"}],
        "cells": [{"id": "docs.readme", "question": "Is there a README?"},
                  {"id": "ci.readme", "question": "Does CI check the README?"}],
    }


def test_a_third_rubric_file_works_without_code_changes(tmp_path):
    path = _write(tmp_path, _third_rubric(), "tiny-rubric.yaml")
    r = load_rubric(path)
    assert r.id == "tiny-rubric" and r.cell_ids == ["docs.readme", "ci.readme"]
    assert r.cells["docs.readme"].levels == {1: "Not yet.", 2: "Done."}
    result = score(r, {"docs.readme": 1, "ci.readme": 2})
    assert result.display == {"docs": "1.0", "ci": "2.0", "overall": "1.5", "weakest": "1.0"}
    assert [s.text for s in result.next_steps] == ["Do it."]


def _mutate(fn):
    data = _third_rubric()
    fn(data)
    return data


BROKEN = {
    "id": (lambda d: d.pop("id"), "'id'"),
    "version": (lambda d: d.update(version=1.0), "'version'"),
    "scoring": (lambda d: d.update(scoring="average"), "'scoring'"),
    "levels-order": (lambda d: d["levels"].reverse(), "'levels[1].value'"),
    "missing-cell": (lambda d: d["cells"].pop(), "'cells'"),
    "unknown-group": (lambda d: d["cells"][0].update(id="nope.readme"), "'cells[0].id'"),
    "question": (lambda d: d["cells"][0].pop("question"), "'cells[docs.readme].question'"),
    "descriptor": (lambda d: d["levels"][0].pop("description"), "'cells[docs.readme].levels'"),
    "next-missing": (lambda d: d.pop("default_next"), "'cells[docs.readme].next'"),
    "next-from-top": (lambda d: d["cells"][0].update(next={2: "x"}), "'cells[docs.readme].next'"),
    "level-key": (lambda d: d["cells"][0].update(levels={7: "x"}), "'cells[docs.readme].levels.7'"),
    "depends": (lambda d: d["groups"][1].update(depends_on=["nope"]), "'groups[1].depends_on'"),
    "reference": (lambda d: d["cells"][0].update(references=[{"source": "nope"}]),
                  "'cells[docs.readme].references[0]'"),
    "bands": (lambda d: d.update(scoring="min-of-sections"), "'bands'"),
    "gap": (lambda d: d.update(foundation_gap=-1), "'foundation_gap'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_rubric_is_refused_naming_file_and_field(tmp_path, case):
    mutate, fieldname = BROKEN[case]
    path = _write(tmp_path, _mutate(mutate))
    with pytest.raises(ValueError) as info:
        load_rubric(path)
    message = str(info.value)
    assert str(path) in message
    assert fieldname in message


def test_bad_bands_are_refused(tmp_path):
    data = _third_rubric()
    data["scoring"] = "min-of-sections"
    data["bands"] = [{"up_to": 2, "label": "a"}, {"up_to": 1, "label": "b"},
                     {"up_to": None, "label": "c"}]
    with pytest.raises(ValueError, match=r"bands\[1\]\.up_to"):
        load_rubric(_write(tmp_path, data))


def test_invalid_yaml_and_unknown_ids_are_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.yaml.*not valid YAML"):
        load_rubric(path)
    with pytest.raises(ValueError, match="unknown rubric 'nope'.*mle-maturity"):
        load_rubric("nope")
    with pytest.raises(ValueError, match="does not exist"):
        load_rubric(tmp_path / "missing.yaml")


def test_packaged_rubric_files_are_where_the_package_data_says():
    assert (RUBRIC_DIR / "mle-maturity.yaml").is_file()
    assert (RUBRIC_DIR / "ml-test-score.yaml").is_file()
