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
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from mlecourse.scorecard.rubric import Rubric, load_rubric
from mlecourse.scorecard.scoring import Comparison, ScoreResult, compare, score

FORMAT = "mlecourse-assessment"
FORMAT_VERSION = 1
_KNOWN_KEYS = {"format", "format_version", "rubric", "answers", "notes", "evidence", "prefilled",
               "created"}


def _rubric(rubric: Rubric | str) -> Rubric:
    return rubric if isinstance(rubric, Rubric) else load_rubric(rubric)


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
    """Check ``data`` against the interchange format and the rubric; return a normalised copy.

    ``rubric`` defaults to the packaged rubric named in ``data``. Refused (ValueError): wrong
    format marker or version, another rubric's assessment, unknown cells, out-of-range levels,
    notes that are not text, malformed evidence, a ``created`` that is not ISO 8601.
    Answers come back in rubric order with canonical values (``2.0`` -> ``2``); ``None`` answers
    are dropped.
    """
    if not isinstance(data, dict):
        raise ValueError(f"{source}: an assessment must be a JSON object, "
                         f"got {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise ValueError(f"{source}: field 'format' must be {FORMAT!r}, got {data.get('format')!r}")
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{source}: field 'format_version' must be {FORMAT_VERSION}, "
                         f"got {data.get('format_version')!r}")
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ValueError(f"{source}: unknown field(s) {', '.join(map(repr, unknown))}")
    ref = data.get("rubric")
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
        raise ValueError(f"{source}: field 'rubric' must be {{\"id\": ..., \"version\": ...}}")
    if rubric is None:
        try:
            rubric = load_rubric(ref["id"])
        except ValueError as exc:
            raise ValueError(f"{source}: field 'rubric.id': {exc}") from None
    rubric = _rubric(rubric)
    if ref["id"] != rubric.id:
        raise ValueError(f"{source}: this is an assessment for rubric {ref['id']!r}, "
                         f"not {rubric.id!r}")
    version = ref.get("version")
    if not isinstance(version, str):
        raise ValueError(f"{source}: field 'rubric.version' must be a string")
    if version.split(".")[0] != rubric.version.split(".")[0]:
        raise ValueError(f"{source}: field 'rubric.version' {version!r} is incompatible with "
                         f"rubric {rubric.id!r} version {rubric.version}")

    answers = data.get("answers", {})
    if not isinstance(answers, dict):
        raise ValueError(f"{source}: field 'answers' must be an object of cell -> level")
    clean = {}
    for cid, value in answers.items():
        if cid not in rubric.cells:
            raise ValueError(f"{source}: field 'answers' has unknown cell {cid!r} for rubric "
                             f"{rubric.id!r}")
        if value is None:
            continue
        try:
            clean[cid] = rubric.normalise_value(value, where=f"answers[{cid!r}]")
        except ValueError as exc:
            raise ValueError(f"{source}: field {exc}") from None
    clean = {cid: clean[cid] for cid in rubric.cells if cid in clean}

    notes = data.get("notes") or {}
    if not isinstance(notes, dict):
        raise ValueError(f"{source}: field 'notes' must be an object of cell -> text")
    for cid, text in notes.items():
        if cid not in rubric.cells:
            raise ValueError(f"{source}: field 'notes' has unknown cell {cid!r}")
        if not isinstance(text, str):
            raise ValueError(f"{source}: field 'notes[{cid!r}]' must be text")

    evidence = data.get("evidence") or {}
    if not isinstance(evidence, dict):
        raise ValueError(f"{source}: field 'evidence' must be an object of cell -> list")
    for cid, items in evidence.items():
        if cid not in rubric.cells:
            raise ValueError(f"{source}: field 'evidence' has unknown cell {cid!r}")
        if not isinstance(items, list):
            raise ValueError(f"{source}: field 'evidence[{cid!r}]' must be a list")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("signal"), str):
                raise ValueError(f"{source}: field 'evidence[{cid!r}][{i}]' must be an object "
                                 f"with a 'signal' string")

    prefilled = data.get("prefilled") or []
    if not isinstance(prefilled, list) or not all(isinstance(c, str) for c in prefilled):
        raise ValueError(f"{source}: field 'prefilled' must be a list of cell ids")
    for cid in prefilled:
        if cid not in rubric.cells:
            raise ValueError(f"{source}: field 'prefilled' has unknown cell {cid!r}")

    created = data.get("created")
    if created is not None:
        if not isinstance(created, str):
            raise ValueError(f"{source}: field 'created' must be an ISO 8601 timestamp string")
        try:
            datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{source}: field 'created' is not an ISO 8601 timestamp: "
                             f"{created!r}") from None

    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "rubric": {"id": rubric.id, "version": version},
        "answers": clean,
        "notes": {c: notes[c] for c in rubric.cells if c in notes},
        "evidence": {c: [dict(i) for i in evidence[c]] for c in rubric.cells if c in evidence},
        "prefilled": [c for c in rubric.cells if c in prefilled],
        "created": created,
    }


def parse_assessment(text: str, rubric: Rubric | str | None = None,
                     source: str = "assessment") -> dict:
    """Parse JSON text and validate it (malformed JSON -> ValueError naming ``source``)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                         f"column {exc.colno})") from None
    return validate_assessment(data, rubric, source=source)


def load_assessment(path: str | Path, rubric: Rubric | str | None = None) -> dict:
    """Read and validate an assessment JSON file (the rubric defaults to the one it names)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such assessment file")
    return parse_assessment(path.read_text(encoding="utf-8"), rubric, source=str(path))


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
    return score(_rubric(rubric or clean["rubric"]["id"]), clean["answers"])


def compare_assessments(before: Mapping, after: Mapping,
                        rubric: Rubric | str | None = None) -> Comparison:
    """Compare two assessments of the same rubric cell by cell (ValueError if rubrics differ)."""
    b = validate_assessment(dict(before), rubric, source="earlier assessment")
    rubric = _rubric(rubric or b["rubric"]["id"])
    a = validate_assessment(dict(after), rubric, source="later assessment")
    return compare(rubric, b["answers"], a["answers"])
