"""nbgrader settings for a teacher's release of solutions/ (``nbgrader generate_assignment``).

The same settings drive ``make exercises`` (mlecourse.exercises.generate), so a teacher's
release and the committed exercises/ have the same stubs and locked check cells.
"""

from mlecourse.exercises.generate import nbgrader_config

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
c.merge(nbgrader_config())
