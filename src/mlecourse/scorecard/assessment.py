"""The assessment interchange format shared by the notebook widget, the static page and the CLI.

An assessment is a plain JSON object (a ``dict`` in Python)::

    {
      "format": "mlecourse-assessment", "format_version": 1,
      "rubric": {"id": "mle-maturity", "version": "1.0.0"},
      "answers": {"versioning.code": 2, "testing.data": 1},    # ml-test-score: {"data.1": 0.5}
      "notes": {"versioning.code": "plain text"},                # optional
      "evidence": {"versioning.code": [{"signal": "git-tag", "path": "...", "line": 3,
                    "detail": "..."}]},                          # optional
      "prefilled": ["versioning.code"],                          # optional: cells a scan filled
      "created": "2026-11-28T10:00:00+00:00"                     # ISO 8601
    }

:func:`validate_assessment` checks one against its rubric and returns a normalised copy;
anything wrong raises ``ValueError`` with a message naming the source and the field.

The format is defined once, by the JSON Schema ``assessment.schema.json`` shipped next to this
module; Python checks it with ``jsonschema`` and the static page with its own small validator
driven by the same file (the tests run shared valid and invalid files through both).
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from mlecourse.scorecard.rubric import Rubric, load_rubric, load_rubric_id
from mlecourse.scorecard.scoring import Comparison, ScoreResult, compare, score

FORMAT = "mlecourse-assessment"
FORMAT_VERSION = 1


SCHEMA_FILE = Path(__file__).with_name("assessment.schema.json")

_TYPE_WORDS = {"object": "a JSON object", "array": "a list", "string": "text", "number": "a number",
               "integer": "a whole number", "null": "null", "boolean": "true or false"}


def _rubric(rubric: Rubric | str) -> Rubric:
    return rubric if isinstance(rubric, Rubric) else load_rubric(rubric)


@functools.lru_cache(maxsize=1)
def assessment_schema() -> dict:
    """The assessment format's JSON Schema (``assessment.schema.json``, shipped in the package)."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def max_bytes() -> int:
    """The largest assessment file accepted (the schema's ``x-max-bytes``)."""
    return int(assessment_schema()["x-max-bytes"])


def max_note_length() -> int:
    """The longest note accepted, in characters (from the schema)."""
    return int(assessment_schema()["properties"]["notes"]["additionalProperties"]["maxLength"])


@functools.lru_cache(maxsize=1)
def _validator():
    """A jsonschema validator for the schema, without format checking, imported on first use
    (without jsonschema's slow optional IRI checker: the schema asserts no ``format``)."""
    from mlecourse._jsonschema import import_jsonschema

    validator_for = import_jsonschema().validators.validator_for
    schema = assessment_schema()
    return validator_for(schema)(schema)


def _where(path) -> str:
    """``answers["versioning.code"]`` for a JSON path (the page's validator writes the same)."""
    parts = list(path)
    if not parts:
        return ""
    return str(parts[0]) + "".join(f"[{p}]" if isinstance(p, int) else f"[{json.dumps(p)}]"
                                   for p in parts[1:])


def _problem_text(error) -> str:
    """One sentence for a jsonschema error; ``static/scorecard.js`` words it the same way."""
    path = list(error.absolute_path)
    node, kw, value, inst = error.schema, error.validator, error.validator_value, error.instance
    if kw == "required":
        missing = next(n for n in value if n not in inst)
        return f"field '{_where(path + [missing])}' is missing"
    if kw == "additionalProperties":
        extra = next(k for k in inst if k not in error.schema.get("properties", {}))
        return f"field '{_where(path + [extra])}' is not a known field"
    if isinstance(node, dict) and "x-error" in node:
        reason = node["x-error"]
    elif kw == "type":
        kinds = value if isinstance(value, list) else [value]
        reason = "must be " + " or ".join(_TYPE_WORDS[k] for k in kinds)
    elif kw == "const":
        reason = "must be " + json.dumps(value)
    elif kw == "maxLength":
        reason = f"is longer than {value} characters"
    elif kw in ("maxItems", "maxProperties"):
        reason = f"has more than {value} entries"
    elif kw == "minimum":
        reason = f"must be at least {value}"
    else:
        reason = "has the wrong form"
    if "propertyNames" in list(error.absolute_schema_path):
        key = json.dumps(str(inst)[:60], ensure_ascii=False)
        return f"field '{_where(path)}' has a key {key} that {reason}"
    return f"field '{_where(path)}' {reason}" if path else f"the assessment {reason}"


def schema_problem(data: Any) -> str | None:
    """The first way ``data`` breaks the JSON Schema, as one sentence, or None if it fits."""
    try:
        error = next(iter(_validator().iter_errors(data)), None)
    except RecursionError:
        return "the assessment is nested too deeply"
    return None if error is None else _problem_text(error)


def new_assessment(rubric: Rubric | str, answers: Mapping | None = None,
                   notes: Mapping | None = None, evidence: Mapping | None = None,
                   prefilled=None, created: str | datetime | None = None) -> dict:
    """Build a validated assessment for ``rubric``; ``created`` defaults to now (UTC)."""
    rubric = _rubric(rubric)
    if created is None:
        created = datetime.now(timezone.utc).replace(microsecond=0)
    if isinstance(created, datetime):
        created = created.isoformat()
    data = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "rubric": {"id": rubric.id, "version": rubric.version},
        "answers": dict(answers or {}),
        "notes": dict(notes or {}),
        "evidence": {k: list(v) for k, v in (evidence or {}).items()},
        "prefilled": list(prefilled or []),
        "created": created,
    }
    return validate_assessment(data, rubric, source="new assessment")


def validate_assessment(data: Any, rubric: Rubric | str | None = None,
                        source: str = "assessment") -> dict:
    """Check ``data`` against the JSON Schema and the rubric; return a normalised copy.

    Two layers, in this order, in Python and in the page alike: the format
    (``assessment.schema.json``: fields, types, lengths, the form of ids and timestamps), then
    the rubric (``rubric`` defaults to the rubric the file names, looked up by id only): known
    cells, allowed levels, a compatible rubric version, a real calendar date. The first
    problem raises ``ValueError("<source>: field '<path>' <reason>")``.
    Answers come back in rubric order with canonical values (``2.0`` -> ``2``); ``None``
    answers are dropped.
    """
    problem = schema_problem(data)
    if problem:
        raise ValueError(f"{source}: {problem}")
    ref = data["rubric"]
    if rubric is None:
        try:
            rubric = load_rubric_id(ref["id"])
        except ValueError as exc:
            raise ValueError(f"{source}: field 'rubric[\"id\"]': {exc}") from None
    rubric = _rubric(rubric)
    if ref["id"] != rubric.id:
        raise ValueError(f"{source}: this is an assessment for rubric {ref['id']!r}, "
                         f"not {rubric.id!r}")
    version = ref["version"]
    if version.split(".")[0] != rubric.version.split(".")[0]:
        raise ValueError(f"{source}: field 'rubric[\"version\"]' {version!r} is incompatible "
                         f"with rubric {rubric.id!r} version {rubric.version}")

    def unknown(field: str, cid: str) -> ValueError:
        return ValueError(f"{source}: field '{field}' has unknown cell {cid!r} for rubric "
                          f"{rubric.id!r}")

    clean = {}
    for cid, value in data.get("answers", {}).items():
        if cid not in rubric.cells:
            raise unknown("answers", cid)
        if value is None:
            continue
        try:
            clean[cid] = rubric.normalise_value(value)
        except ValueError:
            raise ValueError(f"{source}: field '{_where(['answers', cid])}' level {value!r} is "
                             f"out of range; allowed: {rubric.level_labels()}") from None
    notes = data.get("notes") or {}
    evidence = data.get("evidence") or {}
    prefilled = data.get("prefilled") or []
    for field, cells in (("notes", notes), ("evidence", evidence), ("prefilled", prefilled)):
        for cid in cells:
            if cid not in rubric.cells:
                raise unknown(field, cid)
    created = data.get("created")
    if created is not None:
        try:  # the schema fixed the form; this checks the calendar (no 30 February)
            datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{source}: field 'created' is not a real date and time: "
                             f"{created!r}") from None

    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "rubric": {"id": rubric.id, "version": version},
        "answers": {cid: clean[cid] for cid in rubric.cells if cid in clean},
        "notes": {c: notes[c] for c in rubric.cells if c in notes},
        "evidence": {c: [dict(i) for i in evidence[c]] for c in rubric.cells if c in evidence},
        "prefilled": [c for c in rubric.cells if c in prefilled],
        "created": created,
    }


def parse_assessment(text: str | bytes, rubric: Rubric | str | None = None,
                     source: str = "assessment") -> dict:
    """Parse JSON text (or UTF-8 bytes) and validate it; failures are ValueErrors naming ``source``.

    Refused with one line each: a file over the schema's ``x-max-bytes``, bytes that are not
    UTF-8 (a UTF-8 byte-order mark is allowed), malformed JSON, ``NaN``/``Infinity``, nesting
    too deep to parse, and anything :func:`validate_assessment` refuses.
    """
    limit = max_bytes()
    if isinstance(text, (bytes, bytearray)):
        if len(text) > limit:
            raise ValueError(f"{source}: the file is {len(text):,} bytes; an assessment may have "
                             f"at most {limit:,}")
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{source}: not UTF-8 text (byte 0x{text[exc.start]:02x} at "
                             f"position {exc.start}); save the file as UTF-8") from None
    elif len(text) > limit:
        raise ValueError(f"{source}: the text has {len(text):,} characters; an assessment may "
                         f"have at most {limit:,} bytes")

    def no_constant(name):
        raise ValueError(f"{name} is not a JSON number")

    try:
        data = json.loads(text, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                         f"column {exc.colno})") from None
    except ValueError as exc:
        raise ValueError(f"{source}: not valid JSON ({exc})") from None
    except (RecursionError, MemoryError):
        raise ValueError(f"{source}: not a valid assessment (JSON nested too deeply or too "
                         f"large to read)") from None
    return validate_assessment(data, rubric, source=source)


def load_assessment(path: str | Path, rubric: Rubric | str | None = None) -> dict:
    """Read and validate an assessment JSON file (the rubric defaults to the one it names)."""
    path = Path(path)
    try:
        if not path.is_file():
            raise ValueError(f"{path}: no such assessment file")
        size = path.stat().st_size
        if size > max_bytes():  # refuse before reading a huge file into memory
            raise ValueError(f"{path}: the file is {size:,} bytes; an assessment may have at "
                             f"most {max_bytes():,}")
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    return parse_assessment(data, rubric, source=str(path))


def dumps_assessment(assessment: Mapping) -> str:
    """The assessment as pretty JSON text (validated first)."""
    clean = validate_assessment(dict(assessment), source="assessment to save")
    return json.dumps(clean, indent=2, ensure_ascii=False) + "\n"


def save_assessment(assessment: Mapping, path: str | Path) -> Path:
    """Validate and write an assessment as JSON; return the path."""
    path = Path(path)
    path.write_text(dumps_assessment(assessment), encoding="utf-8")
    return path


def score_assessment(assessment: Mapping, rubric: Rubric | str | None = None) -> ScoreResult:
    """Validate an assessment and score its answers."""
    clean = validate_assessment(dict(assessment), rubric)
    return score(_rubric(rubric) if rubric else load_rubric_id(clean["rubric"]["id"]),
                 clean["answers"])


def compare_assessments(before: Mapping, after: Mapping,
                        rubric: Rubric | str | None = None) -> Comparison:
    """Compare two assessments of the same rubric cell by cell (ValueError if rubrics differ)."""
    b = validate_assessment(dict(before), rubric, source="earlier assessment")
    rubric = _rubric(rubric) if rubric else load_rubric_id(b["rubric"]["id"])
    a = validate_assessment(dict(after), rubric, source="later assessment")
    return compare(rubric, b["answers"], a["answers"])
