"""A "pre-fill from a folder" control for the notebook scorecard (thin layer over the scan).

    from mlecourse.scorecard.widgets import Scorecard
    from mlecourse.scorecard.widgets_scan import add_prefill_control

    card = Scorecard("mle-maturity")
    add_prefill_control(card)      # a folder box and a button in the card's toolbar
    card

The button runs the same read-only scan as ``mlecourse assess`` (:func:`mlecourse.scorecard.scan.assess`)
and shows the result with ``card.apply_assessment(assessment, prefilled=True)``: every cell gets
the suggested level, its evidence and a note, and is marked as pre-filled until the learner
changes it. On a bad folder nothing changes and the card shows why.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import ipywidgets as w

from mlecourse.scorecard.scan import SUPPORTED_RUBRICS, scan, suggest, trust_text


@dataclass
class PrefillControl:
    """The widgets of the control; ``run()`` does what the button does."""

    card: object
    folder: w.Text
    button: w.Button
    box: w.HBox

    def run(self, path: str | None = None) -> bool:
        """Scan ``path`` (default: the text box) and pre-fill the card; True on success."""
        path = self.folder.value if path is None else path
        card = self.card
        try:
            if not str(path).strip():
                raise ValueError("type the path of a project folder first")
            result = scan(str(path).strip())
            card.apply_assessment(suggest(result, card.rubric), prefilled=True)
        except (ValueError, OSError) as exc:
            card.message.value = (f"<span style='color:#9b1c1c'>Could not pre-fill: "
                                  f"{escape(str(exc))}. Your current answers are unchanged."
                                  f"</span>")
            return False
        s = result.stats
        extra = f" {len(result.problems)} file(s) could not be read." if result.problems else ""
        card.message.value = (
            f"<span style='color:#1d4d6e'>Pre-filled {len(card.prefilled)} cells from a scan of "
            f"{escape(str(path))} ({s['files']:,} files). These are suggestions: change any "
            f"level that is wrong; cells marked 'answer it yourself' cannot be seen in files. "
            f"{escape(trust_text(card.rubric.id))}{escape(extra)}</span>")
        return True


def add_prefill_control(card, placeholder: str = "path/to/your/project") -> PrefillControl:
    """Add a folder box and a "Pre-fill from folder" button to ``card``'s toolbar.

    Only rubrics the scan supports (``mle-maturity``) get a working button; for others the
    button is disabled with a tooltip saying why.
    """
    folder = w.Text(description="Folder", placeholder=placeholder,
                    layout=w.Layout(width="22em"))
    button = w.Button(description="Pre-fill from folder", icon="search",
                      tooltip="scan the folder read-only and suggest a level for each cell")
    supported = card.rubric.id in SUPPORTED_RUBRICS
    if not supported:
        button.disabled = True
        button.tooltip = (f"the repository scan supports only {', '.join(SUPPORTED_RUBRICS)}")
    box = w.HBox([folder, button])
    control = PrefillControl(card, folder, button, box)
    button.on_click(lambda _: control.run())
    card.add_control(box)
    return control
