"""A month scrubber for the monitoring notebook: the dashboard as it looked at the end of a month.

A thin ipywidgets layer over :func:`mlecourse.principles.monitoring.plot_dashboard`; the numbers
come from the prediction log. Each redraw asks the log what was known at the end of the chosen
month (labels arrive late), so scrubbing shows the realised-performance panel filling in.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pandas as pd

from mlecourse.principles.monitoring import PredictionLog, plot_dashboard, realised_performance


def scrubber(log: PredictionLog, metrics: pd.DataFrame, daily_quality: pd.DataFrame,
             daily_service: pd.DataFrame, title: str = "") -> widgets.Widget:
    """A slider over the months of ``metrics``; redraws the dashboard for the chosen month."""
    months = list(metrics.index)
    slider = widgets.SelectionSlider(options=[(f"{m:%Y-%m}", m) for m in months],
                                     value=months[0], description="end of month",
                                     style={"description_width": "initial"},
                                     layout=widgets.Layout(width="60%"))
    out = widgets.Output()

    def redraw(*_):
        month = slider.value
        as_of = month + pd.offsets.MonthBegin(1) - pd.Timedelta(seconds=1)
        realised = realised_performance(log, as_of)
        out.clear_output(wait=True)
        with out:
            fig = plot_dashboard(metrics, daily_quality, daily_service, realised, month,
                                 title=f"{title}end of {month:%B %Y}" if title else "")
            plt.show()
            plt.close(fig)

    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, out])
