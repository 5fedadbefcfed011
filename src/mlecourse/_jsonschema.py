"""Import jsonschema without its optional IRI format checker (shared by the schema users).

When jsonschema is first imported it tries ``rfc3987_syntax``, which builds a large grammar: over
a second of CPU in every process that validates anything. The course's schemas assert no
``format`` and nothing here checks formats, so that optional import is skipped.
"""

from __future__ import annotations

import sys


def import_jsonschema():
    """Return the ``jsonschema`` module, importing it without ``rfc3987_syntax`` if it is not
    imported yet (a later explicit ``import rfc3987_syntax`` still works)."""
    if "jsonschema" in sys.modules:
        return sys.modules["jsonschema"]
    hide = "rfc3987_syntax" not in sys.modules
    if hide:
        sys.modules["rfc3987_syntax"] = None  # makes "import rfc3987_syntax" raise ImportError
    try:
        import jsonschema
    finally:
        if hide and sys.modules.get("rfc3987_syntax", 0) is None:
            del sys.modules["rfc3987_syntax"]
    return jsonschema
