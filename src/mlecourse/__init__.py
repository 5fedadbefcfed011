"""Machine Learning Engineering course: the code that notebooks, tests, the site and the CLI share.

Modules, following the data through the course:

- ``simulate``: the running example, a lender's loan applications month by month.
- ``drift``: drift measures and performance over time (model decay, monitoring).
- ``versioning``: dataset fingerprints and manifests (MLflow does the rest).
- ``checks``: data schemas, behavioural and fairness tests, the quality gate.
- ``rubric``, ``scoring``, ``assessment``: the scorecard's rubrics, pure scoring and JSON format.
- ``scan``: read-only evidence from a repository for ``mlecourse assess``.
- ``widgets``: thin ipywidgets layers over the pure functions.
- ``exercises``: generates student notebooks from ``solutions/`` with nbgrader's preprocessors.
"""

__version__ = "0.1.0"
