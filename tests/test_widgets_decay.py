"""The model-decay explorer: its controls are wired to the pure simulation (no browser, no kernel)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from mlecourse.principles import drift_widgets as widgets_decay  # noqa: E402


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def fake_run(severity, policy, every, threshold, label_delay, scenario, rows, seed):
        seen.append(dict(severity=severity, policy=policy, every=every, scenario=scenario))
        return "never-result", "chosen-result"

    monkeypatch.setattr(widgets_decay, "run", fake_run)
    monkeypatch.setattr(widgets_decay, "draw", lambda never, chosen: None)
    return seen


def _controls(box):
    top, bottom, _out = box.children
    return {c.description: c for c in (*top.children, *bottom.children)}


def test_explorer_waits_when_asked_then_redraws_on_each_change(calls):
    box = widgets_decay.explorer(rows_per_month=200, draw_now=False)
    assert calls == []
    controls = _controls(box)
    controls["drift severity"].value = 1.5
    assert calls[-1]["severity"] == 1.5 and calls[-1]["policy"] == "drift"
    controls["policy"].value = "periodic"
    controls["periodic: every k months"].value = 6
    assert calls[-1] == dict(severity=1.5, policy="periodic", every=6, scenario="downturn")
    controls["Draw"].click()
    assert len(calls) == 4


def test_run_compares_the_chosen_policy_with_never_retraining():
    never, chosen = widgets_decay.run(1.0, "periodic", every=6, rows_per_month=400)
    assert never.policy == "never" and never.retrainings == 0
    assert chosen.policy == "periodic" and chosen.retrainings > 0
    ax = widgets_decay.draw(never, chosen)
    assert len(ax.get_lines()) >= 2
    plt.close("all")
