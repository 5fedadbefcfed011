"""Pure scoring: the shared fixtures, rounding half up, next steps, foundations, ML Test Score."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from importlib import resources

import pytest

from conftest import scorecard_fixtures
from hypothesis import given, settings
from hypothesis import strategies as st

from mlecourse.scorecard.assessment import validate_assessment
from mlecourse.scorecard.rubric import load_rubric
from mlecourse.scorecard.scoring import (
    band_for,
    clean_answers,
    compare,
    coverage_text,
    format_score,
    round_half_up,
    score,
)

MATURITY = load_rubric("mle-maturity")
MTS = load_rubric("ml-test-score")


FIXTURES = scorecard_fixtures()


def test_there_are_fixtures_for_both_rubrics():
    rubrics = {fx["assessment"]["rubric"]["id"] for fx in FIXTURES.values()}
    assert rubrics == {"mle-maturity", "ml-test-score"}
    assert len(FIXTURES) >= 8


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_scores_match_the_expected_results(name):
    fx = FIXTURES[name]
    clean = validate_assessment(fx["assessment"])
    rubric = load_rubric(clean["rubric"]["id"])
    result = score(rubric, clean["answers"])
    expected = fx["expected"]
    assert result.display == expected["scores"]
    if "next" in expected:
        assert [s.cell for s in result.next_steps] == expected["next"]
    assert [[a.group, a.foundation] for a in result.ahead] == expected["ahead"]
    assert result.band == expected.get("band")
    if "unanswered" in expected:
        assert result.unanswered == expected["unanswered"]
    if "unanswered_count" in expected:
        assert len(result.unanswered) == expected["unanswered_count"]


@pytest.mark.parametrize("value, text", [
    (Fraction(9, 4), "2.3"),      # round(2.25, 1) == 2.2 in Python: banker's rounding
    (Fraction(21, 20), "1.1"),    # 1.05 is 1.0499999... as a float
    (Fraction(11, 4), "2.8"),
    (Fraction(7, 4), "1.8"),
    (Fraction(5, 4), "1.3"),
    (Fraction(1, 3), "0.3"),
    (Fraction(5, 3), "1.7"),
    (Fraction(3, 1), "3.0"),
    (0, "0.0"),
    (2.25, "2.3"),
    (1.05, "1.1"),
    (None, "–"),
])
def test_rounding_is_half_up_with_one_decimal(value, text):
    assert format_score(value) == text


def test_round_half_up_differs_from_builtin_round():
    assert round_half_up(Fraction(9, 4)) == Decimal("2.3")
    assert round_half_up(Fraction(45, 20)) == Decimal("2.3")
    assert round(2.25, 1) != float(round_half_up(2.25))


def test_unanswered_cells_are_excluded_and_listed():
    result = score(MATURITY, {"versioning.code": 3, "versioning.model": 1, "testing.data": None})
    assert result.display["versioning"] == "2.0"      # mean of the two answered aspects
    assert result.display["testing"] == "–"
    assert result.display["overall"] == "2.0"
    assert len(result.unanswered) == 16 and "testing.data" in result.unanswered
    assert result.unanswered[0] == "versioning.data"  # rubric order


def test_next_steps_lowest_first_then_principle_then_aspect_order():
    answers = {"ways-of-working.code": 1, "monitoring.data": 2, "versioning.data": 1,
               "versioning.code": 1, "testing.model": 2, "deployment.code": 3}
    steps = score(MATURITY, answers).next_steps
    assert [s.cell for s in steps] == ["versioning.code", "versioning.data",
                                       "ways-of-working.code", "testing.model", "monitoring.data"]
    assert steps[0].text == MATURITY.cells["versioning.code"].next[1]
    assert steps[3].text == MATURITY.cells["testing.model"].next[2]


@pytest.mark.parametrize("monitoring, reproducibility, flagged", [
    ({"code": 3}, {"code": 1}, True),                     # 3 vs 1: gap 2
    ({"code": 3, "model": 2}, {"code": 1}, True),         # 2.5 vs 1: gap exactly 1.5
    ({"code": 3, "model": 3, "data": 2}, {"code": 1, "model": 2}, False),  # 2.67 vs 1.5: 1.17
    ({"code": 3}, {"code": 2}, False),                    # one level apart is normal
    ({"code": 3}, {}, False),                             # foundation not answered
])
def test_ahead_of_foundations_rule(monitoring, reproducibility, flagged):
    answers = {f"monitoring.{a}": v for a, v in monitoring.items()}
    answers.update({f"reproducibility.{a}": v for a, v in reproducibility.items()})
    answers["deployment.code"] = 3
    result = score(MATURITY, answers)
    pairs = [(x.group, x.foundation) for x in result.ahead]
    assert (("monitoring", "reproducibility") in pairs) is flagged
    if flagged:
        assert "ahead of its foundation Reproducibility" in result.ahead[0].message


def test_reproducibility_ahead_of_versioning_is_flagged_too():
    result = score(MATURITY, {"reproducibility.code": 3, "versioning.code": 1, "testing.code": 3})
    assert [(a.group, a.foundation) for a in result.ahead] == [("reproducibility", "versioning")]


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(MATURITY.cell_ids), st.sampled_from(MATURITY.level_values)))
def test_maturity_scores_are_means_of_answered_cells(answers):
    result = score(MATURITY, answers)
    assert result.answered == len(answers) and result.total == 18
    if answers:
        assert result.overall == Fraction(sum(answers.values()), len(answers))
        assert 0 <= result.overall <= 3
        # the weakest principle is the lowest principle mean, never above the overall mean
        means = [v for v in result.group_scores.values() if v is not None]
        assert result.weakest == min(means) <= result.overall
        assert result.display["weakest"] == format_score(min(means))
        assert all(result.group_scores[g] == min(means) for g in result.weakest_groups)
    else:
        assert result.display["overall"] == "–" and result.display["weakest"] == "–"
    for g in MATURITY.groups:
        mine = [v for c, v in answers.items() if c.startswith(g.id + ".")]
        assert (result.group_scores[g.id] is None) == (not mine)
        if mine:
            assert min(mine) <= result.group_scores[g.id] <= max(mine)
    levels = [s.level for s in result.next_steps]
    assert levels == sorted(levels) and 3 not in levels
    assert len(result.next_steps) == sum(1 for v in answers.values() if v < 3)


def test_ml_test_score_sections_final_and_band():
    answers = {f"{s}.{n}": 1 for s in ("data", "model", "infrastructure", "monitoring")
               for n in range(1, 8)}
    result = score(MTS, answers)
    assert result.display == {"data": "7.0", "model": "7.0", "infrastructure": "7.0",
                               "monitoring": "7.0", "final": "7.0"}
    assert result.band == "Exceptional levels of automated testing and monitoring"
    answers["monitoring.1"] = 0
    answers["monitoring.2"] = 0.5
    result = score(MTS, answers)
    assert result.display["monitoring"] == "5.5" and result.display["final"] == "5.5"
    assert [s.cell for s in result.next_steps] == ["monitoring.1", "monitoring.2"]


@pytest.mark.parametrize("final, band_start", [
    (0, "More a research project"), (Fraction(1, 2), "Not untested"), (1, "Not untested"),
    (Fraction(3, 2), "A first pass"), (2, "A first pass"), (3, "Reasonably tested"),
    (Fraction(7, 2), "Strong"), (5, "Strong"), (Fraction(11, 2), "Exceptional"), (7, "Exceptional"),
])
def test_band_edges_follow_the_paper(final, band_start):
    assert band_for(MTS, final).startswith(band_start)


def test_unanswered_tests_count_as_not_done():
    result = score(MTS, {"data.1": 1})
    assert result.display["data"] == "1.0" and result.display["model"] == "–"
    assert result.display["final"] == "0.0"
    assert len(result.unanswered) == 27


def test_bad_answers_are_refused():
    with pytest.raises(ValueError, match="unknown cell 'versioning.cod'"):
        score(MATURITY, {"versioning.cod": 1})
    with pytest.raises(ValueError, match="out of range"):
        score(MATURITY, {"versioning.code": 4})
    with pytest.raises(ValueError, match="out of range"):
        score(MTS, {"data.1": 2})
    with pytest.raises(ValueError, match="must be a number"):
        score(MATURITY, {"versioning.code": True})
    assert clean_answers(MATURITY, {"versioning.code": 2.0}) == {"versioning.code": 2}


def test_compare_cell_by_cell():
    before = {"versioning.code": 1, "versioning.model": 2, "testing.code": 2, "monitoring.data": 1}
    after = {"versioning.code": 2, "versioning.model": 2, "testing.code": 1, "deployment.code": 3}
    comparison = compare(MATURITY, before, after)
    changes = {c.cell: c.change for c in comparison.cells}
    assert changes["versioning.code"] == "up"
    assert changes["versioning.model"] == "same"
    assert changes["testing.code"] == "down"
    assert changes["deployment.code"] == "added"
    assert changes["monitoring.data"] == "removed"
    assert changes["ways-of-working.data"] == "unanswered"
    assert [c.cell for c in comparison.changed] == ["versioning.code", "testing.code",
                                                    "deployment.code", "monitoring.data"]
    assert comparison.score_changes()["overall"] == ("1.5", "2.0")
    assert comparison.to_dict()["scores"]["versioning"] == {"before": "1.5", "after": "2.0"}


def test_result_to_dict_is_json_ready():
    fx = FIXTURES["mle-maturity-full"]
    data = score(MATURITY, fx["assessment"]["answers"]).to_dict()
    text = json.dumps(data)
    assert json.loads(text)["scores"]["overall"] == "1.9"
    assert data["ahead_of_foundations"][0]["group"] == "monitoring"


def test_worked_example_claims_made_in_the_notebook():
    text = resources.files("mlecourse.scorecard").joinpath("fixtures", "worked-example.json").read_text("utf-8")
    example = validate_assessment(json.loads(text), MATURITY)
    result = score(MATURITY, example["answers"])
    assert len(result.answers) == 18 and result.unanswered == []
    # deployment: code at the top level, data at the bottom, inside one principle
    assert example["answers"]["deployment.code"] == 3 and example["answers"]["deployment.data"] == 1
    assert result.ahead == []                          # monitoring above reproducibility, < gap
    assert result.group_scores["monitoring"] > result.group_scores["reproducibility"]
    assert result.next_steps[0].cell == "versioning.data"   # the exercise link follows this step
    what_if = dict(example["answers"], **{f"monitoring.{a}": 3 for a in ("code", "model", "data")})
    assert [(a.group, a.foundation) for a in score(MATURITY, what_if).ahead] == [
        ("monitoring", "reproducibility")]
    later = dict(example["answers"], **{"versioning.data": 2, "testing.data": 2,
                                        "reproducibility.model": 2})
    comparison = compare(MATURITY, example["answers"], later)
    assert [c.change for c in comparison.changed] == ["up", "up", "up"]
    assert comparison.after.overall > comparison.before.overall


def test_not_in_place_is_an_answer_unlike_unanswered():
    zero = score(MATURITY, {"versioning.code": 3, "versioning.data": 0})
    blank = score(MATURITY, {"versioning.code": 3, "versioning.data": None})
    assert zero.display["versioning"] == "1.5" and blank.display["versioning"] == "3.0"
    assert zero.answered == 2 and blank.answered == 1
    assert "versioning.data" not in zero.unanswered and "versioning.data" in blank.unanswered
    # a level-0 cell has a next step (the way to level 1); an unanswered cell has none
    assert [s.cell for s in zero.next_steps] == ["versioning.data"]
    assert zero.next_steps[0].text == MATURITY.cells["versioning.data"].next[0]
    assert blank.next_steps == []


def test_two_cells_at_3_no_longer_look_like_a_mature_system():
    """The issue's case: 2 of 18 answered at 3, the rest "not in place"."""
    only_two = score(MATURITY, {"versioning.code": 3, "testing.code": 3})
    assert only_two.display["overall"] == "3.0" and coverage_text(only_two) == "over 2 of 18 cells"
    honest = score(MATURITY, {c: 0 for c in MATURITY.cells} | {"versioning.code": 3,
                                                               "testing.code": 3})
    assert honest.display["overall"] == "0.3" and honest.display["weakest"] == "0.0"
    assert coverage_text(honest) == "" and len(honest.next_steps) == 16
    assert {s.level for s in honest.next_steps} == {0}


def test_next_steps_put_level_0_before_level_1():
    steps = score(MATURITY, {"versioning.code": 1, "ways-of-working.data": 0}).next_steps
    assert [s.cell for s in steps] == ["ways-of-working.data", "versioning.code"]


def test_weakest_names_every_principle_at_the_minimum():
    result = score(MATURITY, {"testing.code": 1, "deployment.data": 1, "versioning.code": 2})
    assert result.weakest == 1 and result.weakest_groups == ["testing", "deployment"]
    assert result.to_dict()["weakest_groups"] == ["testing", "deployment"]
    assert result.to_dict()["answered"] == 3 and result.to_dict()["total"] == 18


def test_min_of_sections_has_no_separate_weakest():
    result = score(MTS, {"data.1": 1})
    assert "weakest" not in result.display and result.display["final"] == "0.0"
