"""The ipywidgets scorecard, wired without a kernel or a browser (observers run synchronously)."""

from __future__ import annotations

import json
from importlib import resources

import matplotlib

matplotlib.use("Agg")

import pytest

import mlecourse.scorecard.widgets as widgets_module
from mlecourse.scorecard.assessment import load_assessment, new_assessment
from mlecourse.scorecard.widgets import Scorecard, plot_heatmap


def _fixture(name: str) -> dict:
    text = resources.files("mlecourse.scorecard").joinpath("fixtures", f"{name}.json").read_text("utf-8")
    return json.loads(text)


def test_setting_a_control_updates_the_results():
    card = Scorecard("mle-maturity")
    assert card.result.display["overall"] == "–"
    card.controls["versioning.code"].value = 2
    assert card.result.display["versioning"] == "2.0"
    card.controls["versioning.model"].value = 3
    assert card.result.display["versioning"] == "2.5"
    assert card.result.display["overall"] == "2.5"
    assert "data-cell='versioning.code'" in card.heatmap.value
    assert ">2.5<" in card.heatmap.value
    assert "Versioning, Code (2)" in card.next_steps.value


def test_every_cell_has_a_control_showing_the_level_descriptors():
    card = Scorecard("mle-maturity")
    assert len(card.controls) == 18
    control = card.controls["testing.data"]
    assert [v for _, v in control.options] == [0, 1, 2, 3]      # from the rubric file
    assert control.options[0][0] == "0 Not in place"
    cell = card.rubric.cells["testing.data"]
    assert list(control.tooltips) == [cell.levels[v] for v in (0, 1, 2, 3)]
    control.value = 2
    assert f"<b>2: {cell.levels[2]}</b>" in card.descriptors["testing.data"].value


def test_clear_button_unanswers_a_cell():
    card = Scorecard("mle-maturity")
    card.set_answer("testing.code", 1)
    card.clear_buttons["testing.code"].click()
    assert card.answers == {} and card.result.display["overall"] == "–"


def test_widget_uses_the_scoring_module(monkeypatch):
    calls = []
    real = widgets_module.score

    def spy(rubric, answers):
        calls.append(dict(answers))
        return real(rubric, answers)

    monkeypatch.setattr(widgets_module, "score", spy)
    card = Scorecard("mle-maturity")
    card.set_answer("monitoring.data", 3)
    assert calls[-1] == {"monitoring.data": 3}


@pytest.mark.parametrize("name", ["mle-maturity-full", "mle-maturity-rounding-16",
                                  "ml-test-score-full", "ml-test-score-partial"])
def test_applying_a_fixture_shows_the_expected_results(name):
    fx = _fixture(name)
    card = Scorecard(fx["assessment"]["rubric"]["id"], assessment=fx["assessment"])
    assert card.result.display == fx["expected"]["scores"]
    assert card.result.band == fx["expected"].get("band")
    if "next" in fx["expected"]:
        assert [s.cell for s in card.result.next_steps] == fx["expected"]["next"]
    if fx["expected"].get("band"):
        assert fx["expected"]["band"] in card.heatmap.value


def test_notes_are_escaped_in_the_results():
    fx = _fixture("mle-maturity-partial")
    card = Scorecard("mle-maturity", assessment=fx["assessment"])
    assert "<script>" not in card.next_steps.value
    assert "&lt;script&gt;" in card.next_steps.value


def test_save_load_round_trip_and_bad_files_keep_answers(tmp_path):
    card = Scorecard("mle-maturity")
    card.set_answer("versioning.code", 3)
    card.notes["versioning.code"].value = "tagged releases"
    path = tmp_path / "mine.json"
    assert card.save(path) == path
    saved = load_assessment(path)
    assert saved["answers"] == {"versioning.code": 3}
    assert saved["notes"] == {"versioning.code": "tagged releases"}

    other = Scorecard("mle-maturity")
    other.path.value = str(path)
    other.load_button.click()
    assert other.answers == {"versioning.code": 3}
    assert other.notes["versioning.code"].value == "tagged releases"

    bad = tmp_path / "bad.json"
    bad.write_text("{oops", encoding="utf-8")
    assert other.load(bad) is False
    assert "not valid JSON" in other.message.value
    assert other.answers == {"versioning.code": 3}

    mts = tmp_path / "mts.json"
    mts.write_text(json.dumps(_fixture("ml-test-score-full")["assessment"]), encoding="utf-8")
    assert other.load(mts) is False
    assert "assessment for rubric" in other.message.value
    assert other.answers == {"versioning.code": 3}


def test_compare_with_a_saved_assessment(tmp_path):
    card = Scorecard("mle-maturity")
    card.set_answer("versioning.code", 1)
    card.save(tmp_path / "before.json")
    card.set_answer("versioning.code", 2)
    card.set_answer("testing.code", 1)
    comparison = card.compare_with(tmp_path / "before.json")
    assert [(c.cell, c.change) for c in comparison.changed] == [("versioning.code", "up"),
                                                                ("testing.code", "added")]
    assert "versioning.code" in card.comparison.value and "up" in card.comparison.value
    assert card.compare_with(tmp_path / "missing.json") is None
    assert "Could not compare" in card.message.value


def test_prefilled_cells_are_marked_until_changed():
    card = Scorecard("mle-maturity")
    suggestion = new_assessment("mle-maturity", {"versioning.code": 2, "testing.code": 1},
                                evidence={"versioning.code": [{"signal": "git-tag",
                                                               "path": ".git/refs/tags/v1"}]})
    card.apply_assessment(suggestion, prefilled=True)
    assert card.prefilled == {"versioning.code", "testing.code"}
    assert "pre-filled" in card.descriptors["versioning.code"].value
    assert "git-tag" in card.descriptors["versioning.code"].value
    card.set_answer("versioning.code", 3)
    assert card.prefilled == {"testing.code"}
    assert "pre-filled" not in card.descriptors["versioning.code"].value
    assert card.to_assessment()["prefilled"] == ["testing.code"]


def test_apply_assessment_refuses_bad_input_without_changing_answers():
    card = Scorecard("mle-maturity")
    card.set_answer("deployment.code", 2)
    bad = new_assessment("mle-maturity", {"deployment.code": 1})
    bad["answers"]["deployment.model"] = 7
    with pytest.raises(ValueError, match="out of range"):
        card.apply_assessment(bad)
    assert card.answers == {"deployment.code": 2}
    with pytest.raises(ValueError, match="level 5 is out of range"):
        card.set_answer("deployment.code", 5)


def test_ml_test_score_widget():
    card = Scorecard("ml-test-score")
    assert len(card.controls) == 28
    assert [v for _, v in card.controls["data.1"].options] == [0, 0.5, 1]
    card.set_answer("data.1", 0.5)
    card.set_answer("model.1", 1)
    assert card.result.display["data"] == "0.5"
    assert card.result.display["final"] == "0.0"
    assert "More a research project" in card.heatmap.value


def test_add_control_extends_the_toolbar():
    import ipywidgets as w

    card = Scorecard("mle-maturity")
    button = w.Button(description="Pre-fill from a folder")
    card.add_control(button)
    assert card.toolbar.children[-1] is button


def test_plot_heatmap_labels_rows_with_scores():
    fx = _fixture("mle-maturity-full")
    ax = plot_heatmap("mle-maturity", fx["assessment"]["answers"])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Versioning (2.0)" and labels[4] == "Monitoring (3.0)"
    assert "mean 1.9" in ax.get_title() and "weakest 1.0" in ax.get_title()
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


def test_not_in_place_is_an_answer_in_the_widget():
    card = Scorecard("mle-maturity")
    card.set_answer("versioning.data", 0)
    card.set_answer("versioning.code", 3)
    assert card.answers == {"versioning.code": 3, "versioning.data": 0}
    assert card.result.display["versioning"] == "1.5"
    assert "Versioning, Data (0)" in card.next_steps.value          # 0 gets a next step
    assert card.to_assessment()["answers"]["versioning.data"] == 0


def test_heatmap_shows_mean_beside_weakest_and_how_many_cells_are_answered():
    fx = _fixture("mle-maturity-not-in-place")
    card = Scorecard("mle-maturity", assessment=fx["assessment"])
    html = card.heatmap.value
    assert "Overall (mean)" in html and "Weakest principle" in html
    assert "data-score='overall'>1.3<" in html and "data-score='weakest'>0.0<" in html
    assert "over 7 of 18 cells" in html and ">Monitoring<" in html
    assert "weakest principle</b> says where it breaks first" in card.next_steps.value
    full = Scorecard("mle-maturity", assessment=_fixture("worked-example"))
    assert "over 18" not in full.heatmap.value and "of 18 cells" not in full.heatmap.value


def test_level_colours_keep_the_top_level_green_for_every_rubric():
    from mlecourse.scorecard.rubric import load_rubric
    from mlecourse.scorecard.widgets import level_colours

    maturity, mts = level_colours(load_rubric("mle-maturity")), level_colours(load_rubric("ml-test-score"))
    assert len(maturity) == 4 and len(mts) == 3 and len(set(maturity)) == 4
    assert maturity[-1] == mts[-1] == "#a1d99b"
