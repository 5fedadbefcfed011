"""pytest plugin, loaded first (``-p`` in pyproject.toml): jsonschema without the IRI grammar.

Plugins such as nbval import nbformat, and so jsonschema, before any conftest runs; jsonschema's
optional ``rfc3987_syntax`` would then cost about two seconds of CPU in every test process
(each xdist worker and the main one). Importing jsonschema here first, the course's way, skips it.
"""

from mlecourse._jsonschema import import_jsonschema

import_jsonschema()
