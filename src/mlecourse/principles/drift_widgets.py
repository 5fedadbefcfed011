"""Live explorer for the model-decay notebook: drift severity x retraining policy.

A thin ipywidgets layer: the numbers come from :func:`mlecourse.example.simulate.simulate_loans` and
:func:`mlecourse.principles.drift.simulate_policy`; this module only wires controls to them and draws.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt

from mlecourse.principles.drift import DEFAULT_THRESHOLD, POLICIES, simulate_policies
from mlecourse.example.simulate import SCENARIOS, simulate_loans


def run(severity: float, policy: str, every: int = 3, threshold: float = DEFAULT_THRESHOLD,
        label_delay: int = 3, scenario: str = "downturn", rows_per_month: int = 3_000,
        seed: int = 0):
    """Simulate ``scenario`` scaled by ``severity``; return (never, chosen policy) results."""
    sc = SCENARIOS[scenario].scaled(severity)
    df = simulate_loans(months=24, rows_per_month=rows_per_month, seed=seed, scenario=sc)
    kwargs = dict(every=every, threshold=threshold, label_delay=label_delay, seed=seed)
    results = simulate_policies(df, ["never", policy], **kwargs)  # one first model for both
    return results["never"], results[policy]


def draw(never, chosen, ax=None):
    """Plot monthly AUC of never retraining against the chosen policy; mark retrainings."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    p0, p1 = never.performance, chosen.performance
    ax.plot(p0["month"], p0["auc"], color="grey", label=f"never (mean AUC {never.mean_auc:.3f})")
    ax.plot(p1["month"], p1["auc"], color="C0", marker="o", markersize=3,
            label=f"{chosen.policy} (mean AUC {chosen.mean_auc:.3f}, "
                  f"{chosen.retrainings} retrainings)")
    for month in p1.loc[p1["retrained"], "month"]:
        ax.axvline(month, color="C1", alpha=0.4, linewidth=1)
    ax.set_ylabel("monthly AUC")
    ax.set_ylim(0.5, 0.9)
    ax.legend(loc="lower left", fontsize=8)
    return ax


def explorer(rows_per_month: int = 3_000, seed: int = 0, draw_now: bool = True) -> widgets.Widget:
    """Controls for scenario, drift severity and policy settings; redraws on every change.

    ``draw_now=False`` waits for the first change (or the Draw button) before computing, so
    that opening the notebook stays fast.
    """
    style = {"description_width": "initial"}
    controls = {
        "scenario": widgets.Dropdown(options=list(SCENARIOS), value="downturn",
                                     description="scenario", style=style),
        "severity": widgets.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.25,
                                        description="drift severity", style=style),
        "policy": widgets.Dropdown(options=[p for p in POLICIES if p != "never"],
                                   value="drift", description="policy", style=style),
        "every": widgets.IntSlider(value=3, min=1, max=12, description="periodic: every k months",
                                   style=style),
        "threshold": widgets.FloatSlider(value=DEFAULT_THRESHOLD, min=0.05, max=0.5, step=0.05,
                                         description="drift: PSI threshold", style=style),
        "label_delay": widgets.IntSlider(value=3, min=0, max=6, description="label delay (months)",
                                         style=style),
    }
    button = widgets.Button(description="Draw", icon="refresh")
    out = widgets.Output()

    def redraw(*_):
        values = {name: control.value for name, control in controls.items()}
        never, chosen = run(values["severity"], values["policy"], values["every"],
                            values["threshold"], values["label_delay"], values["scenario"],
                            rows_per_month, seed)
        out.clear_output(wait=True)
        with out:
            draw(never, chosen)
            plt.show()

    for control in controls.values():
        control.observe(redraw, names="value")
    button.on_click(redraw)
    if draw_now:
        redraw()
    else:
        with out:
            print("Change a control or press Draw.")
    return widgets.VBox([widgets.HBox([controls["scenario"], controls["severity"],
                                       controls["policy"], button]),
                         widgets.HBox([controls["every"], controls["threshold"],
                                       controls["label_delay"]]),
                         out])
