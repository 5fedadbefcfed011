"""Machine Learning Engineering course: the code that notebooks, tests, the site and the CLI share.

Subpackages, grouped by what they serve in the course:

- ``example``: the running example, a lender's loan applications month by month (``simulate``),
  its feature code (``features``) and the shared model pipeline (``model``).
- ``principles``: one module per MLE principle's tools: ``versioning``, ``checks`` (testing),
  ``drift`` (model decay and monitoring), and the notebooks' widgets for them.
- ``scorecard``: rubrics, pure scoring, the assessment JSON format, the repository scan behind
  ``mlecourse assess``, the scorecard widgets and the Sphinx extension for the static page.
- ``exercises``: generation of ``exercises/`` from ``solutions/`` and one check module per exercise.
- ``cli``: the ``mlecourse`` command.
"""

__version__ = "0.1.0"
