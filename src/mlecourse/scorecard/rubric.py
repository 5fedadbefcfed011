"""Scorecard rubrics as data: load, validate and list the YAML files in ``rubrics/``.

Every rubric uses ONE schema, so a teacher adds a rubric by adding a file (no code change)::

    schema: mlecourse-rubric/1          # optional marker
    id: mle-maturity                    # lower-case letters, digits and '-'
    version: 1.0.0
    title: ...
    description: ...
    scoring: maturity                   # or: min-of-sections   (see mlecourse.scorecard.scoring)
    group_label: Principle              # what a row is called   (e.g. Section)
    item_label: Aspect                  # what a column is called (e.g. Test)
    levels:                             # the allowed answers, lowest first
      - {value: 1, name: Manual, description: ...}
    default_next: {1: ...}              # optional: "to reach the next level" when a cell has none
    foundation_gap: 1.5                 # optional (maturity): see scoring.ahead_of_foundations
    bands:                              # required for min-of-sections: first band with up_to >= score
      - {up_to: 0, label: ...}          # up_to: null = no upper bound (must be last)
    groups:                             # rows, in their implicit order
      - {id: versioning, name: Versioning, description: ..., depends_on: []}
    items:                              # columns, in order
      - {id: code, name: Code}
    sources:                            # optional: reference keys used by cells
      breck2017: {title: ..., bibkey: breck2017mltestscore, url: ...}
    cells:                              # exactly one per group x item, id "<group>.<item>"
      - id: versioning.code
        question: ...
        detail: ...                     # optional
        levels: {1: ..., 2: ..., 3: ...}  # optional when every level has a description
        next: {1: ..., 2: ...}          # every level but the top, here or in default_next
        references: [{source: breck2017, detail: Model 1}]

A broken file is refused with a ``ValueError`` that names the file and the field.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

RUBRIC_DIR = Path(__file__).parent / "rubrics"

#: Scoring kinds that :mod:`mlecourse.scorecard.scoring` implements.
SCORING_KINDS = ("maturity", "min-of-sections")

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_ITEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Level:
    """One allowed answer: its value (int or float), short name and generic description."""

    value: int | float
    name: str
    description: str = ""


@dataclass(frozen=True)
class Group:
    """A row of the rubric: a principle (mle-maturity) or a section (ml-test-score)."""

    id: str
    name: str
    description: str = ""
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Item:
    """A column of the rubric: an aspect (code, model, data) or a test number."""

    id: str
    name: str


@dataclass(frozen=True)
class Cell:
    """One question of the rubric, identified by ``"<group>.<item>"``."""

    id: str
    group: str
    item: str
    question: str
    detail: str
    levels: dict  # level value -> descriptor
    next: dict  # level value -> what to do to reach the next level (all but the top level)
    references: tuple[dict, ...] = ()


@dataclass(frozen=True)
class Rubric:
    """A validated rubric. Build it with :func:`load_rubric`."""

    id: str
    version: str
    title: str
    description: str
    scoring: str
    group_label: str
    item_label: str
    levels: tuple[Level, ...]
    groups: tuple[Group, ...]
    items: tuple[Item, ...]
    cells: dict  # cell id -> Cell, in group-then-item order
    bands: tuple[dict, ...] = ()
    foundation_gap: float | None = None
    sources: dict = field(default_factory=dict)
    path: str = ""

    @property
    def cell_ids(self) -> list[str]:
        """Cell ids in rubric order (group order, then item order)."""
        return list(self.cells)

    @property
    def level_values(self) -> list:
        """The allowed answer values, lowest first."""
        return [lv.value for lv in self.levels]

    def level_index(self, value) -> int:
        """Rank of an answer value (0 = lowest level)."""
        return self.level_values.index(value)

    def level(self, value) -> Level:
        """The :class:`Level` for an answer value."""
        return self.levels[self.level_index(value)]

    def group(self, group_id: str) -> Group:
        """The :class:`Group` with this id."""
        for g in self.groups:
            if g.id == group_id:
                return g
        raise ValueError(f"rubric {self.id!r}: unknown {self.group_label.lower()} {group_id!r}")

    def normalise_value(self, value, where: str = "value"):
        """Return the canonical level value equal to ``value`` or raise ValueError.

        Accepts ints and floats (``2.0`` means level ``2``); refuses booleans, strings and numbers
        that are not a level of this rubric. ``where`` names the field in the message.
        """
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(
                f"{where}: level must be a number, one of {self.level_labels()}, got {value!r}"
            )
        for lv in self.levels:
            if float(lv.value) == float(value):
                return lv.value
        raise ValueError(f"{where}: level {value!r} is out of range; allowed: {self.level_labels()}")

    def level_labels(self) -> str:
        """The allowed values as text, e.g. ``"1, 2, 3"``."""
        return ", ".join(format_value(v) for v in self.level_values)

    def to_dict(self) -> dict:
        """A JSON-ready description of the rubric (embedded in the static page for the script)."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "scoring": self.scoring,
            "group_label": self.group_label,
            "item_label": self.item_label,
            "levels": [
                {"value": lv.value, "key": format_value(lv.value), "name": lv.name,
                 "description": lv.description}
                for lv in self.levels
            ],
            "groups": [
                {"id": g.id, "name": g.name, "depends_on": list(g.depends_on)} for g in self.groups
            ],
            "items": [{"id": it.id, "name": it.name} for it in self.items],
            "cells": {
                cid: {
                    "group": c.group,
                    "item": c.item,
                    "question": c.question,
                    "levels": {format_value(k): v for k, v in c.levels.items()},
                    "next": {format_value(k): v for k, v in c.next.items()},
                }
                for cid, c in self.cells.items()
            },
            "bands": [dict(b) for b in self.bands],
            "foundation_gap": self.foundation_gap,
        }


def format_value(value) -> str:
    """Text for a level value: ``1`` -> ``"1"``, ``0.5`` -> ``"0.5"``, ``1.0`` -> ``"1"``."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def list_rubrics() -> list[str]:
    """Ids of the rubrics shipped with the package (``rubrics/*.yaml``), sorted.

    ``*.signals.yaml`` files are not rubrics (they map scan signals to levels, see
    :mod:`mlecourse.scorecard.scan`) and are left out.
    """
    return sorted(p.stem for p in RUBRIC_DIR.glob("*.yaml")
                  if not p.name.endswith(".signals.yaml"))


def rubric_path(id_or_path: str | Path) -> Path:
    """Resolve a rubric id (``"mle-maturity"``) or a path to a YAML file."""
    text = str(id_or_path)
    candidate = Path(text)
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        if not candidate.is_file():
            raise ValueError(f"rubric file {text!r} does not exist")
        return candidate
    packaged = RUBRIC_DIR / f"{text}.yaml"
    if packaged.is_file():
        return packaged
    raise ValueError(f"unknown rubric {text!r}; available: {', '.join(list_rubrics())}")


#: Environment variable naming extra folders (``os.pathsep``-separated) of ``<id>.yaml`` rubrics.
RUBRIC_PATH_ENV = "MLECOURSE_RUBRIC_PATH"


def find_rubric(rubric_id: str) -> Path:
    """The file of a rubric *id* (never a path): packaged, or in a ``$MLECOURSE_RUBRIC_PATH`` folder.

    An id read from an assessment file goes through here, so a file cannot make the program
    open an arbitrary path (``"../../etc/passwd"`` is refused as an id). Paths are accepted
    only where the user types them (``--rubric``, the ``mle-scorecard`` directive).
    """
    if not isinstance(rubric_id, str) or not _ID.match(rubric_id) or len(rubric_id) > 100:
        raise ValueError(f"{rubric_id!r} is not a rubric id (lower-case letters, digits and '-')")
    folders = [RUBRIC_DIR] + [Path(p) for p in os.environ.get(RUBRIC_PATH_ENV, "").split(
        os.pathsep) if p]
    for folder in folders:
        candidate = folder / f"{rubric_id}.yaml"
        if candidate.is_file():
            return candidate
    raise ValueError(f"unknown rubric {rubric_id!r}; available: {', '.join(list_rubrics())}")


def load_rubric_id(rubric_id: str) -> Rubric:
    """Load a rubric by id only (see :func:`find_rubric`); use this for ids read from files."""
    return load_rubric(find_rubric(rubric_id))


def load_rubric(id_or_path: str | Path) -> Rubric:
    """Load and validate a rubric by id (a packaged rubric) or by path to a YAML file.

    Raises ValueError naming the file and the offending field when the file is broken.
    """
    path = rubric_path(id_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from None
    return rubric_from_dict(data, source=str(path))


# ------------------------------------------------------------------------------ validation


def _fail(source: str, fieldname: str, message: str):
    raise ValueError(f"{source}: field {fieldname!r} {message}")


def _text(data: dict, key: str, source: str, where: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        _fail(source, f"{where}{key}", "must be a non-empty string")
    return value.strip()


def _level_map(raw, rubric_levels, source: str, where: str) -> dict:
    """Map YAML keys (1, "1", 0.5) to canonical level values."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        _fail(source, where, "must be a mapping from level to text")
    out = {}
    for key, text in raw.items():
        match = None
        try:
            number = float(key)
        except (TypeError, ValueError):
            number = None
        for lv in rubric_levels:
            if number is not None and float(lv.value) == number:
                match = lv.value
        if match is None or isinstance(key, bool):
            _fail(source, f"{where}.{key}", f"is not a level of this rubric "
                  f"({', '.join(format_value(lv.value) for lv in rubric_levels)})")
        if not isinstance(text, str) or not text.strip():
            _fail(source, f"{where}.{key}", "must be a non-empty string")
        out[match] = text.strip()
    return out


def rubric_from_dict(data: Any, source: str = "rubric") -> Rubric:
    """Validate a parsed rubric mapping and build a :class:`Rubric` (``source`` names it in errors)."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: a rubric must be a YAML mapping, got {type(data).__name__}")
    schema = data.get("schema", "mlecourse-rubric/1")
    if schema != "mlecourse-rubric/1":
        _fail(source, "schema", f"must be 'mlecourse-rubric/1', got {schema!r}")
    rid = data.get("id")
    if not isinstance(rid, str) or not _ID.match(rid):
        _fail(source, "id", f"must be lower-case letters, digits and '-', got {rid!r}")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        _fail(source, "version", "must be a version string such as '1.0.0' (quote it in YAML)")
    title = _text(data, "title", source, "")
    description = _text(data, "description", source, "", required=False)
    scoring = data.get("scoring")
    if scoring not in SCORING_KINDS:
        _fail(source, "scoring", f"must be one of {', '.join(SCORING_KINDS)}, got {scoring!r}")

    # levels
    raw_levels = data.get("levels")
    if not isinstance(raw_levels, list) or len(raw_levels) < 2:
        _fail(source, "levels", "must be a list of at least two levels")
    levels = []
    for i, lv in enumerate(raw_levels):
        where = f"levels[{i}]"
        if not isinstance(lv, dict):
            _fail(source, where, "must be a mapping with value and name")
        value = lv.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            _fail(source, f"{where}.value", f"must be a non-negative number, got {value!r}")
        if levels and float(value) <= float(levels[-1].value):
            _fail(source, f"{where}.value", "must be greater than the previous level (lowest first)")
        levels.append(Level(value, _text(lv, "name", source, f"{where}."),
                            _text(lv, "description", source, f"{where}.", required=False)))
    levels = tuple(levels)

    # groups and items
    groups = []
    raw_groups = data.get("groups")
    if not isinstance(raw_groups, list) or not raw_groups:
        _fail(source, "groups", "must be a non-empty list")
    for i, g in enumerate(raw_groups):
        where = f"groups[{i}]"
        if not isinstance(g, dict):
            _fail(source, where, "must be a mapping with id and name")
        gid = g.get("id")
        if not isinstance(gid, str) or not _ID.match(gid):
            _fail(source, f"{where}.id", f"must be lower-case letters, digits and '-', got {gid!r}")
        if any(other.id == gid for other in groups):
            _fail(source, f"{where}.id", f"repeats {gid!r}")
        deps = g.get("depends_on") or []
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            _fail(source, f"{where}.depends_on", "must be a list of group ids")
        groups.append(Group(gid, _text(g, "name", source, f"{where}."),
                            _text(g, "description", source, f"{where}.", required=False),
                            tuple(deps)))
    group_ids = [g.id for g in groups]
    for i, g in enumerate(groups):
        for d in g.depends_on:
            if d not in group_ids or d == g.id:
                _fail(source, f"groups[{i}].depends_on", f"names unknown group {d!r}")

    items = []
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        _fail(source, "items", "must be a non-empty list")
    for i, it in enumerate(raw_items):
        where = f"items[{i}]"
        if not isinstance(it, dict):
            _fail(source, where, "must be a mapping with id and name")
        iid = it.get("id")
        if isinstance(iid, int) and not isinstance(iid, bool):
            iid = str(iid)
        if not isinstance(iid, str) or not _ITEM_ID.match(iid):
            _fail(source, f"{where}.id", f"must be letters, digits, '-' or '_', got {iid!r}")
        if any(other.id == iid for other in items):
            _fail(source, f"{where}.id", f"repeats {iid!r}")
        name = it.get("name", iid)
        items.append(Item(iid, str(name)))

    default_next = _level_map(data.get("default_next"), levels, source, "default_next")

    sources = data.get("sources") or {}
    if not isinstance(sources, dict):
        _fail(source, "sources", "must be a mapping from key to {title, url, bibkey}")
    for key, src in sources.items():
        if not isinstance(src, dict) or not isinstance(src.get("title"), str):
            _fail(source, f"sources.{key}", "must be a mapping with a title")

    # cells
    raw_cells = data.get("cells")
    if not isinstance(raw_cells, list):
        _fail(source, "cells", "must be a list")
    by_id = {}
    for i, c in enumerate(raw_cells):
        where = f"cells[{i}]"
        if not isinstance(c, dict):
            _fail(source, where, "must be a mapping")
        cid = c.get("id")
        if not isinstance(cid, str) or cid.count(".") != 1:
            _fail(source, f"{where}.id", f"must be '<group>.<item>', got {cid!r}")
        gid, iid = cid.split(".")
        if gid not in group_ids:
            _fail(source, f"{where}.id", f"names unknown group {gid!r}")
        if iid not in [it.id for it in items]:
            _fail(source, f"{where}.id", f"names unknown item {iid!r}")
        if cid in by_id:
            _fail(source, f"{where}.id", f"repeats {cid!r}")
        where = f"cells[{cid}]"
        cell_levels = _level_map(c.get("levels"), levels, source, f"{where}.levels")
        for lv in levels:
            if lv.value not in cell_levels:
                if not lv.description:
                    _fail(source, f"{where}.levels", f"has no descriptor for level "
                          f"{format_value(lv.value)} (and the level has no description)")
                cell_levels[lv.value] = lv.description
        cell_next = _level_map(c.get("next"), levels, source, f"{where}.next")
        if levels[-1].value in cell_next:
            _fail(source, f"{where}.next", "must not describe a next step from the top level")
        for lv in levels[:-1]:
            if lv.value not in cell_next:
                if lv.value not in default_next:
                    _fail(source, f"{where}.next", f"has no step from level "
                          f"{format_value(lv.value)} (and default_next has none)")
                cell_next[lv.value] = default_next[lv.value]
        refs = c.get("references") or []
        if not isinstance(refs, list):
            _fail(source, f"{where}.references", "must be a list")
        for j, ref in enumerate(refs):
            if not isinstance(ref, dict) or ref.get("source") not in sources:
                _fail(source, f"{where}.references[{j}]",
                      "must be {source: <a key of sources>, detail: ...}")
        by_id[cid] = Cell(
            id=cid, group=gid, item=iid,
            question=_text(c, "question", source, f"{where}."),
            detail=_text(c, "detail", source, f"{where}.", required=False),
            levels={lv.value: cell_levels[lv.value] for lv in levels},
            next={lv.value: cell_next[lv.value] for lv in levels[:-1]},
            references=tuple(dict(r) for r in refs),
        )
    expected = [f"{g.id}.{it.id}" for g in groups for it in items]
    missing = [cid for cid in expected if cid not in by_id]
    if missing:
        _fail(source, "cells", f"is missing {', '.join(missing)} (one cell per group x item)")
    cells = {cid: by_id[cid] for cid in expected}

    # scoring-specific fields
    bands = []
    raw_bands = data.get("bands") or []
    if scoring == "min-of-sections" and not raw_bands:
        _fail(source, "bands", "is required for scoring: min-of-sections")
    if not isinstance(raw_bands, list):
        _fail(source, "bands", "must be a list of {up_to, label}")
    previous = None
    for i, b in enumerate(raw_bands):
        where = f"bands[{i}]"
        if not isinstance(b, dict):
            _fail(source, where, "must be a mapping with up_to and label")
        up_to = b.get("up_to")
        if up_to is None:
            if i != len(raw_bands) - 1:
                _fail(source, f"{where}.up_to", "may be null only in the last band")
        elif isinstance(up_to, bool) or not isinstance(up_to, (int, float)):
            _fail(source, f"{where}.up_to", f"must be a number or null, got {up_to!r}")
        elif previous is not None and up_to <= previous:
            _fail(source, f"{where}.up_to", "must increase from band to band")
        previous = up_to
        bands.append({"up_to": up_to, "label": _text(b, "label", source, f"{where}.")})
    if bands and bands[-1]["up_to"] is not None:
        _fail(source, f"bands[{len(bands) - 1}].up_to", "must be null in the last band")

    gap = data.get("foundation_gap")
    if gap is None and scoring == "maturity":
        gap = 1.5
    if gap is not None and (isinstance(gap, bool) or not isinstance(gap, (int, float)) or gap <= 0):
        _fail(source, "foundation_gap", f"must be a positive number, got {gap!r}")

    return Rubric(
        id=rid, version=version.strip(), title=title, description=description, scoring=scoring,
        group_label=str(data.get("group_label") or "Group"),
        item_label=str(data.get("item_label") or "Item"),
        levels=levels, groups=tuple(groups), items=tuple(items), cells=cells,
        bands=tuple(bands), foundation_gap=gap, sources=dict(sources), path=source,
    )
