"""Ways-of-working artefacts generated from data: model cards, datasheets and a CI workflow.

A team's documents go stale when people retype them. Here they are *generated*: data in,
Markdown out, through Jinja2 templates shipped with the package (``templates/*.j2``)::

    record = registry_record(client, "loan-default", alias="champion")   # from MLflow
    card = model_card_data(record, gate, fairness, training=..., evaluation=...)
    text = render_model_card(card)                                        # Markdown
    changed_fields(card_v1, card_v2)                                      # what retraining changed

Model card
    The sections of Mitchell et al. (2019): model details, intended use, factors, metrics,
    evaluation data, training data, ethical considerations, caveats and recommendations. The
    details come from the model registry (version, run, code commit, data fingerprint,
    parameters), the metrics from the quality gate and the fairness report of
    :mod:`mlecourse.principles.checks`.
Datasheet
    The questions of Gebru et al. (2021) for the simulated loan data: motivation, composition,
    collection, known biases, uses, maintenance; the composition is computed from the data.
CI workflow
    :func:`ci_workflow` writes a GitHub Actions workflow for the running example's project;
    :func:`workflow_errors` validates workflow text against the official JSON Schema that
    ``check-jsonschema`` ships (offline, no download).

Every value a template prints is escaped for Markdown, so user text cannot break a table or
inject HTML. Missing or empty fields raise one ``ValueError`` that names the field.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import pandas as pd

__all__ = [
    "MODEL_CARD_SECTIONS",
    "INTENDED_USE_FIELDS",
    "DEFAULT_INTENDED_USE",
    "DEFAULT_CAVEATS",
    "md_escape",
    "registry_record",
    "data_summary",
    "model_card_data",
    "render_model_card",
    "card_fields",
    "changed_fields",
    "save_model_card",
    "datasheet_data",
    "render_datasheet",
    "ci_workflow",
    "workflow_errors",
]

#: The sections of a model card (Mitchell et al. 2019), in order.
MODEL_CARD_SECTIONS = ("model_details", "intended_use", "factors", "metrics", "evaluation_data",
                       "training_data", "ethical_considerations", "caveats")
#: The fields of the intended-use section.
INTENDED_USE_FIELDS = ("primary_uses", "primary_users", "out_of_scope")

DEFAULT_INTENDED_USE = {
    "primary_uses": "Rank incoming loan applications by predicted risk of default, so that "
                    "applications at or above the decision threshold go to manual review.",
    "primary_users": "The lender's credit officers, who make the final decision on every "
                     "application the model flags.",
    "out_of_scope": "Rejecting applications automatically; setting interest rates; any use on "
                    "applicants outside the lender's four regions or on business loans.",
}
DEFAULT_CAVEATS = [
    "Defaults are known only months after a loan is granted (label delay): the metrics describe "
    "the evaluation months, not today's applicants. Monitor input drift meanwhile.",
    "The age band is the sensitive attribute. It is not a model input, but income and credit "
    "history depend on age, so flag rates differ by age band: review the fairness table on "
    "every retraining.",
    "Outcomes exist only for granted loans in real data (selective labels); this model was "
    "trained on simulated data that has outcomes for every applicant.",
]
DEFAULT_FACTORS = [
    "Age band (the sensitive attribute, not a model input): metrics are reported per band.",
    "Employment type and region (model inputs): the model's errors differ between them.",
    "Time: the relation between inputs and default drifts; evaluation uses later months.",
]
DEFAULT_ETHICS = [
    "A flag sends an application to a person, never to an automatic rejection.",
    "Age is protected in lending in many jurisdictions: the age band is kept out of the inputs "
    "and measured instead.",
]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#&~])")


def md_escape(value) -> str:
    """Text safe inside a Markdown paragraph, list item or table cell.

    Backslash-escapes the characters that start emphasis, code, links, HTML, tables or
    headings, and turns line breaks into spaces (a line break would end a table row).
    """
    text = "" if value is None else str(value)
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("mlecourse.principles", "templates"),
        finalize=md_escape, undefined=jinja2.StrictUndefined, autoescape=False,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def _render(template: str, data: Mapping) -> str:
    import jinja2

    try:
        return _environment().get_template(template).render(**data)
    except jinja2.UndefinedError as exc:  # a field the validation did not know about
        raise ValueError(f"{template}: a field is missing: {exc}") from None


# --- registry ---------------------------------------------------------------------------------

def registry_record(client, name: str, *, alias: str | None = None,
                    version: str | int | None = None) -> dict:
    """What the MLflow registry knows about one model version, as plain values.

    Give ``alias`` (e.g. ``"champion"``) or ``version``. Returns ``name``, ``version``,
    ``aliases``, ``run_id``, ``parameters`` (text, as MLflow stores them), ``metrics`` and the
    lineage tags the course writes (``code_commit``, ``code_tag``, ``data_fingerprint``,
    ``data_snapshot``; ``"not recorded"`` when absent). Raises ``ValueError`` naming the model,
    alias or version the registry does not have.
    """
    from mlflow.exceptions import MlflowException

    from mlecourse.principles.versioning import (
        TAG_DATA_FINGERPRINT, TAG_DATA_SNAPSHOT, TAG_GIT_COMMIT, TAG_GIT_TAG)

    if (alias is None) == (version is None):
        raise ValueError("registry_record: give exactly one of alias= or version=")
    try:
        client.get_registered_model(name)
    except MlflowException:
        raise ValueError(f"the registry has no model named {name!r}") from None
    try:
        if alias is not None:
            mv = client.get_model_version_by_alias(name, alias)
        else:
            mv = client.get_model_version(name, str(version))
    except MlflowException:
        what = f"alias {alias!r}" if alias is not None else f"version {version!r}"
        raise ValueError(f"model {name!r} has no {what} in the registry") from None
    mv = client.get_model_version(name, mv.version)  # the alias lookup omits other aliases
    run = client.get_run(mv.run_id)
    tags = run.data.tags
    missing = "not recorded"
    return {
        "name": name,
        "version": str(mv.version),
        "aliases": sorted(mv.aliases),
        "run_id": mv.run_id,
        "parameters": dict(sorted(run.data.params.items())),
        "metrics": dict(sorted(run.data.metrics.items())),
        "code_commit": tags.get(TAG_GIT_COMMIT, missing),
        "code_tag": tags.get(TAG_GIT_TAG, missing),
        "data_fingerprint": tags.get(TAG_DATA_FINGERPRINT, missing),
        "data_snapshot": tags.get(TAG_DATA_SNAPSHOT, missing),
    }


def save_model_card(client, record: Mapping, text: str, *,
                    artifact_file: str = "model_card.md") -> str:
    """Store the card as an artifact of the version's run (beside the model); return its URI.

    The model version gets a ``model_card`` tag naming the file, so a reader of the registry
    finds it.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("save_model_card: the card text is empty")
    client.log_text(record["run_id"], text, artifact_file)
    client.set_model_version_tag(record["name"], record["version"], "model_card", artifact_file)
    return f"runs:/{record['run_id']}/{artifact_file}"


# --- model card -------------------------------------------------------------------------------

def _months(df: pd.DataFrame) -> str:
    return f"{df['month'].min():%B %Y} to {df['month'].max():%B %Y}"


def data_summary(df: pd.DataFrame, description: str, *, snapshot: str = "-") -> dict:
    """Rows, months and content fingerprint of a data set, for the card's data sections."""
    from mlecourse.principles.versioning import fingerprint

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"data_summary expects a pandas DataFrame, got {type(df).__name__}")
    if "month" not in df.columns or len(df) == 0:
        raise ValueError("data_summary: the data need rows and a 'month' column")
    return {"description": description, "snapshot": snapshot, "rows": f"{len(df):,}",
            "months": _months(df), "fingerprint": fingerprint(df)}


def _number(value, digits: int = 3) -> str:
    return f"{float(value):.{digits}f}"


def model_card_data(record: Mapping, gate, fairness, *, training: Mapping, evaluation: Mapping,
                    intended_use: Mapping | None = None, caveats=None, factors=None,
                    ethical_considerations=None, owner: str = "Credit risk modelling team",
                    model_type: str = "scikit-learn pipeline: scaling, one-hot encoding, "
                                      "logistic regression",
                    threshold: float | None = None, champion: str | None = None) -> dict:
    """The model card as nested plain data (every leaf a string), ready for the template.

    ``record`` is :func:`registry_record`'s output, ``gate`` a
    :class:`~mlecourse.principles.checks.GateDecision`, ``fairness`` a
    :class:`~mlecourse.principles.checks.FairnessReport`, ``training``/``evaluation`` are
    :func:`data_summary` outputs. When the registry recorded a data fingerprint, the training
    data must have it (otherwise the card would describe other data than the model saw).
    ``champion`` names the version the gate compared with (``None``: no champion yet).
    """
    from mlecourse.principles.checks import DECISION_THRESHOLD

    recorded = record.get("data_fingerprint")
    if recorded not in (None, "not recorded") and recorded != training.get("fingerprint"):
        raise ValueError(
            f"training data: fingerprint {str(training.get('fingerprint'))[:12]}... is not the "
            f"{recorded[:12]}... the registry recorded for version {record.get('version')}: "
            "describe the data the model was trained on")
    checks = [{"area": r.area, "check": r.check, "observed": str(r.observed),
               "required": str(r.required), "passed": bool(r.passed)}
              for r in gate.details.itertuples(index=False)]
    groups = [{"group": str(group), "n": f"{int(row['n']):,}",
               "default_rate": _number(row["default_rate"]), "flagged": _number(row["flagged"]),
               "recall": _number(row["recall"]),
               "false_positive_rate": _number(row["false_positive_rate"])}
              for group, row in fairness.by_group.iterrows()]
    params = ", ".join(f"{k} = {v}" for k, v in record["parameters"].items()) or "none recorded"
    return {
        "model_details": {
            "name": record["name"], "version": record["version"],
            "aliases": ", ".join(record["aliases"]) or "none", "model_type": model_type,
            "owner": owner, "run_id": record["run_id"], "code_commit": record["code_commit"],
            "code_tag": record["code_tag"], "parameters": params,
        },
        "intended_use": dict(DEFAULT_INTENDED_USE if intended_use is None else intended_use),
        "factors": list(DEFAULT_FACTORS if factors is None else factors),
        "metrics": {
            "threshold": f"{DECISION_THRESHOLD if threshold is None else threshold:g}",
            "gate": "accepted" if gate.accepted else "rejected",
            "champion": f"version {champion}" if champion else "no champion (first model)",
            "checks": checks, "sensitive": fairness.sensitive,
            "demographic_parity_difference": _number(fairness.demographic_parity_difference),
            "fairness": groups,
        },
        "evaluation_data": dict(evaluation),
        "training_data": dict(training),
        "ethical_considerations": list(DEFAULT_ETHICS if ethical_considerations is None
                                       else ethical_considerations),
        "caveats": list(DEFAULT_CAVEATS if caveats is None else caveats),
    }


_REQUIRED = {
    "model_details": ("name", "version", "aliases", "model_type", "owner", "run_id",
                      "code_commit", "code_tag", "parameters"),
    "intended_use": INTENDED_USE_FIELDS,
    "metrics": ("threshold", "gate", "champion", "checks", "sensitive",
                "demographic_parity_difference", "fairness"),
    "evaluation_data": ("description", "rows", "months", "fingerprint"),
    "training_data": ("description", "snapshot", "rows", "months", "fingerprint"),
}


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, (list, tuple, dict)) and not value)


def _validate_card(card) -> None:
    if not isinstance(card, Mapping):
        raise TypeError(f"a model card must be a mapping of sections, got {type(card).__name__}")
    for section in MODEL_CARD_SECTIONS:
        if _empty(card.get(section)):
            raise ValueError(f"model card section {section!r} is missing or empty")
    for section, names in _REQUIRED.items():
        if not isinstance(card[section], Mapping):
            raise ValueError(f"model card section {section!r} must be a mapping of fields")
        for name in names:
            if _empty(card[section].get(name)):
                raise ValueError(f"model card field '{section}.{name}' is missing or empty")
    for section in ("factors", "ethical_considerations", "caveats"):
        items = card[section]
        if isinstance(items, str) or not isinstance(items, (list, tuple)):
            raise ValueError(f"model card section {section!r} must be a list of sentences")
        for i, item in enumerate(items):
            if _empty(item):
                raise ValueError(f"model card field '{section}[{i}]' is empty")


def render_model_card(card: Mapping) -> str:
    """Markdown of a model card built by :func:`model_card_data` (or by hand, same shape).

    Raises ``ValueError`` naming the first missing or empty field.
    """
    _validate_card(card)
    data = {"details": card["model_details"], **{k: card[k] for k in MODEL_CARD_SECTIONS[1:]}}
    return _render("model_card.md.j2", data)


def card_fields(card: Mapping) -> dict:
    """The card as ``{"section.field": text}``; table rows are keyed by their check or group."""
    flat: dict = {}

    def walk(prefix, value):
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, (list, tuple)):
            for i, inner in enumerate(value):
                label = i
                if isinstance(inner, Mapping):
                    label = inner.get("check", inner.get("group", i))
                walk(f"{prefix}[{label}]", inner)
        else:
            flat[prefix] = str(value)

    walk("", card)
    return flat


def changed_fields(old: Mapping, new: Mapping) -> list[str]:
    """The fields (as in :func:`card_fields`) whose text differs between two cards, sorted."""
    a, b = card_fields(old), card_fields(new)
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


# --- datasheet --------------------------------------------------------------------------------

_MEANINGS = {
    "month": "first day of the month the application arrived",
    "application_id": "unique number of the application",
    "income": "annual income, thousand EUR",
    "loan_amount": "amount requested, thousand EUR",
    "term_months": "repayment term in months (12 to 60)",
    "credit_history_years": "years since the first credit record",
    "employment_type": "employed, self-employed, contract or unemployed",
    "region": "north, south, east or west",
    "age_band": "applicant's age band: the sensitive attribute, not a model input",
    "defaulted": "1 if the loan defaulted, else 0 (the label)",
}

_DATASHEET_TEXT = {
    "motivation": "A course's running example: a lender's monthly loan applications with their "
                  "outcomes, to practise versioning, testing, deployment and monitoring of a "
                  "default-risk model without touching anybody's personal data.",
    "collection": "Simulated by mlecourse.example.simulate.simulate_loans from a fixed seed: "
                  "age band, employment, region and term are drawn from fixed mixes, income and "
                  "loan amount from log-normal distributions that depend on them, and default "
                  "from a logistic rule of the inputs. No real person is in the data.",
    "uses": "Teaching and testing ML engineering practice. Not for calibrating real credit "
            "decisions: the relations are invented and simpler than real lending.",
    "maintenance": "Regenerated on demand from the code and the seed; the fingerprint above "
                   "identifies this exact table. Changes to the simulator are reviewed like any "
                   "code change and show up as a new fingerprint.",
}


def datasheet_data(df: pd.DataFrame, *, name: str = "Simulated loan applications",
                   sensitive: str = "age_band") -> dict:
    """The datasheet of a loan table as plain data: composition computed, the rest stated."""
    from mlecourse.example.simulate import COLUMNS, TARGET
    from mlecourse.principles.versioning import fingerprint

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"datasheet_data expects a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"datasheet_data: the data lack column(s) {', '.join(missing)}")
    if len(df) == 0:
        raise ValueError("datasheet_data: the data have no rows")
    by = df.groupby(sensitive, observed=True)
    groups = pd.DataFrame({"share": by.size() / len(df), "default_rate": by[TARGET].mean(),
                           "median_income": by["income"].median()})
    low, high = groups["default_rate"].idxmin(), groups["default_rate"].idxmax()
    biases = [
        f"The {sensitive} groups differ: default rates range from "
        f"{groups.loc[low, 'default_rate']:.1%} ({low}) to {groups.loc[high, 'default_rate']:.1%} "
        f"({high}), and income and credit history depend on age, so a model can treat age groups "
        "differently without reading the age band.",
        "Selective labels: every simulated applicant has an outcome. A real lender observes "
        "defaults only for loans it granted, so its training data under-represent the applicants "
        "it turned down.",
        "Label delay: a real default is known only months after the loan starts; the simulator "
        "attaches it at once.",
        "Simulated data: the relations are chosen by the course authors and are simpler than "
        "real lending; drifts appear only when a scenario switches them on.",
    ]
    return {
        "name": name, "rows": f"{len(df):,}", "months": _months(df),
        "fingerprint": fingerprint(df), "target": TARGET,
        "default_rate": f"{df[TARGET].mean():.1%}", "sensitive": sensitive,
        "columns": [{"name": c, "dtype": str(df[c].dtype), "meaning": _MEANINGS.get(c, "-")}
                    for c in df.columns],
        "groups": [{"group": str(g), "share": f"{r['share']:.1%}",
                    "default_rate": f"{r['default_rate']:.1%}",
                    "median_income": f"{r['median_income']:.1f}"} for g, r in groups.iterrows()],
        "biases": biases, **_DATASHEET_TEXT,
    }


def render_datasheet(data: Mapping) -> str:
    """Markdown of a datasheet built by :func:`datasheet_data`; ``ValueError`` names a missing
    field."""
    if not isinstance(data, Mapping):
        raise TypeError(f"a datasheet must be a mapping, got {type(data).__name__}")
    for name in ("name", "rows", "months", "fingerprint", "target", "default_rate", "sensitive",
                 "columns", "groups", "biases", *_DATASHEET_TEXT):
        if _empty(data.get(name)):
            raise ValueError(f"datasheet field {name!r} is missing or empty")
    return _render("datasheet.md.j2", data)


# --- CI workflow ------------------------------------------------------------------------------

def ci_workflow(*, python: str = "3.12", branch: str = "main",
                approval_environment: str = "model-approval") -> str:
    """A GitHub Actions workflow (YAML text) that gates every change of the running example.

    On every pull request to ``branch``: lint, unit tests, data schema tests, training, the
    quality gate and the model card, in that order (each job needs the one before). On a push
    to ``branch`` (a merged pull request) a last job registers the model; it runs in the GitHub
    environment ``approval_environment``, whose required reviewers approve the model.
    """
    import yaml

    setup = [
        {"uses": "actions/checkout@v4"},
        {"uses": "actions/setup-python@v5", "with": {"python-version": python,
                                                     "cache": "pip"}},
        {"run": "pip install -r requirements.txt -e ."},
    ]

    def job(name, needs, *commands, **extra):
        spec = {"name": name, "runs-on": "ubuntu-latest"}
        if needs:
            spec["needs"] = needs
        spec.update(extra)
            # Fresh copies: shared dicts would make YAML write anchors (&id001) a reader trips on.
        spec["steps"] = [*copy.deepcopy(setup), *({"run": c} for c in commands)]
        return spec

    artifact = {"name": "model", "path": "artifacts/"}
    jobs = {
        "lint": job("Lint", None, "ruff check ."),
        "unit-tests": job("Unit tests", "lint", "pytest -q tests/unit"),
        "data-tests": job("Data schema tests", "lint",
                          "python -m loans.validate data/latest.parquet"),
        "train": job("Train", ["unit-tests", "data-tests"],
                     "python -m loans.train --seed 0 --out artifacts/"),
        "quality-gate": job("Quality gate", "train", "python -m loans.gate artifacts/ "
                                                     "--champion models:/loan-default@champion"),
        "model-card": job("Model card", "quality-gate",
                          "python -m loans.card artifacts/ > artifacts/MODEL_CARD.md"),
        "register": job("Register the approved model", "model-card",
                        "python -m loans.register artifacts/",
                        environment=approval_environment,
                        **{"if": "github.event_name == 'push'"}),
    }
    jobs["train"]["steps"].append({"uses": "actions/upload-artifact@v4", "with": artifact})
    for name in ("quality-gate", "model-card", "register"):
        jobs[name]["steps"].insert(3, {"uses": "actions/download-artifact@v4",
                                       "with": dict(artifact)})
    workflow = {
        "name": "Loan model: gate every change",
        "on": {"pull_request": {"branches": [branch]}, "push": {"branches": [branch]}},
        "permissions": {"contents": "read"},
        "concurrency": {"group": "${{ github.workflow }}-${{ github.ref }}",
                        "cancel-in-progress": True},
        "jobs": jobs,
    }
    return yaml.safe_dump(workflow, sort_keys=False, width=100)


def _workflow_schema_path() -> Path:
    """check-jsonschema's vendored copy of SchemaStore's GitHub workflow schema.

    Found without importing check-jsonschema (its import pulls in much more than a file).
    """
    from importlib.util import find_spec

    spec = find_spec("check_jsonschema")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("check-jsonschema is not installed; it ships the workflow schema")
    path = Path(list(spec.submodule_search_locations)[0]) / "builtin_schemas" / "vendor"
    return path / "github-workflows.json"


@lru_cache(maxsize=1)
def _workflow_validator():
    from mlecourse._jsonschema import import_jsonschema

    jsonschema = import_jsonschema()
    # The same schema as `check-jsonschema --builtin-schema vendor.github-workflows`; reading
    # the file needs no network.
    schema = json.loads(_workflow_schema_path().read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def workflow_errors(text: str) -> list[str]:
    """Validation errors of a GitHub Actions workflow (YAML text); empty when it is valid.

    Each error names where it is (``jobs.train.steps``) and what is wrong. YAML that does not
    parse is one error. YAML 1.1 reads an unquoted ``on`` key as ``True``; it is read back as
    ``"on"``, as GitHub does.
    """
    import yaml

    if not isinstance(text, str):
        raise TypeError(f"workflow_errors expects YAML text, got {type(text).__name__}")
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        return [f"not valid YAML: {exc}"]
    if isinstance(data, dict) and True in data and "on" not in data:
        data = {("on" if k is True else k): v for k, v in data.items()}
    validator = _workflow_validator()  # first: it imports jsonschema the fast way
    from jsonschema.exceptions import best_match

    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    out = []
    for error in errors:
        # "not valid under any of the given schemas" says little: report the alternative's
        # error that got deepest into the document (e.g. the misspelt key or the bad value).
        while error.context:
            deepest = max(len(e.absolute_path) for e in error.context)
            near = [e for e in error.context if len(e.absolute_path) == deepest]
            keys = [e for e in near if e.validator in ("additionalProperties", "required")]
            error = best_match(keys or [e for e in near if e.validator != "type"] or near)
        where = ".".join(map(str, error.absolute_path)) or "(top level)"
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
        out.append(f"{where}: {message}")
    return out
