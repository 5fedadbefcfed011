"""Score an ML system: rubrics, scoring, the assessment format, the repository scan, widgets, page."""
