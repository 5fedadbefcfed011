"""The three axes of change of an ML system and the sources of change on each.

After Sato, Wider and Windheuser, "Continuous Delivery for Machine Learning" (martinfowler.com,
2019), whose figure the talk's "What is an ML system?" slide reproduces. The ML systems chapter
draws its figure from this mapping, and a test holds both to the talk.
"""

from __future__ import annotations

AXES_OF_CHANGE: dict[str, tuple[str, ...]] = {
    "Data": ("Schema", "Sampling over time", "Volume"),
    "Model": ("Algorithms", "More training", "Experiments"),
    "Code": ("Business needs", "Bug fixes", "Configuration"),
}
