"""Checks for the ways-of-working exercise: review a pull request, and write a model card's
intended use and caveats for a business case.

:func:`exercise_pull_request` is a change to the running example's monthly retraining job with
four planted defects (another change than the notebook's). :func:`check_review` explains which
defects a learner's findings caught, which they missed (with a hint, not the line) and which
findings are false alarms. :func:`check_card_fields` renders the learner's intended use and
caveats into a real model card and checks the required fields, the sensitive attribute and the
label delay.
"""

from __future__ import annotations

import re
from functools import lru_cache

from mlecourse.exercises.common import (
    as_dict, as_int, as_list, as_text, call, fail, fresh,
)
from mlecourse.principles.review import (
    CATEGORIES, Defect, PullRequest, check_findings, parse_findings,
)

__all__ = [
    "BUSINESS_CASE",
    "exercise_pull_request",
    "check_review",
    "base_card",
    "render_with",
    "check_card_fields",
]

BUSINESS_CASE = (
    "The lender opens an online broker channel. Applications that arrive through brokers are "
    "scored by the model every night; those with a predicted risk below the threshold get a "
    "fast-track offer the next day, the others go to a credit officer as before. A default is "
    "known only twelve months after a loan starts. The model has never seen broker "
    "applications, and the broker channel attracts younger applicants."
)

_BEFORE = '''\
"""Monthly retraining job: fit on the last twelve months, check on the month after."""
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["income", "loan_amount", "term_months", "credit_history_years"]
CATEGORICAL = ["employment_type", "region"]


def inputs(df):
    """Model inputs from raw applications; the scoring service imports this function."""
    return df[NUMERIC + CATEGORICAL]


def build_model(numeric, C, seed):
    pre = ColumnTransformer([("num", StandardScaler(), numeric),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])
    return make_pipeline(pre, LogisticRegression(C=C, max_iter=1000, random_state=seed))


def retrain(history, month, C=1.0, seed=0):
    start = pd.Timestamp(month) - pd.DateOffset(months=12)
    window = history[(history["month"] >= start) & (history["month"] < month)]
    check = history[history["month"] == month]
    model = build_model(NUMERIC, C, seed).fit(inputs(window), window["defaulted"])
    auc = roc_auc_score(check["defaulted"], model.predict_proba(inputs(check))[:, 1])
    return model, {"roc_auc": auc, "C": C, "rows": len(window)}
'''

_AFTER = '''\
"""Monthly retraining job: fit on recent months, check on the month after."""
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["income", "loan_amount", "term_months", "credit_history_years"]
CATEGORICAL = ["employment_type", "region"]
MAX_ROWS = 50_000  # keeps a retraining run under five minutes


def inputs(df):
    """Model inputs from raw applications; the scoring service imports this function."""
    return df[NUMERIC + CATEGORICAL]


def build_model(numeric, C, seed):
    pre = ColumnTransformer([("num", StandardScaler(), numeric),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])
    return make_pipeline(pre, LogisticRegression(C=C, max_iter=1000, random_state=seed))


def region_trend(df):
    """Smoothed monthly default rate of each region."""
    monthly = df.groupby(["region", "month"])["defaulted"].mean()
    smooth = monthly.groupby(level="region").transform(
        lambda s: s.rolling(3, center=True, min_periods=1).mean())
    return df.join(smooth.rename("region_trend"), on=["region", "month"])


def retrain(history, month, seed=0):
    start = pd.Timestamp(month) - pd.DateOffset(months=12)
    window = history[(history["month"] >= start) & (history["month"] <= month)]
    if len(window) > MAX_ROWS:
        window = window.sample(MAX_ROWS)
    window = region_trend(window)
    window = window.assign(loan_amount=window["loan_amount"] * 1000)  # finance reports EUR
    train = window[window["month"] < month]
    check = window[window["month"] == month]
    numeric = NUMERIC + ["region_trend"]
    best = None
    for C in (0.01, 0.1, 1.0, 10.0):
        model = build_model(numeric, C, seed)
        model.fit(train[numeric + CATEGORICAL], train["defaulted"])
        auc = roc_auc_score(check["defaulted"], model.predict_proba(check)[:, 1])
        if best is None or auc > best[1]["roc_auc"]:
            best = (model, {"roc_auc": auc, "C": C, "rows": len(train)})
    return best
'''


def _line_of(snippet: str) -> int:
    hits = [i for i, line in enumerate(_AFTER.splitlines(), 1) if snippet in line]
    if len(hits) != 1:  # pragma: no cover - guards the material itself
        raise RuntimeError(f"snippet {snippet!r} found {len(hits)} times")
    return hits[0]


def exercise_pull_request() -> PullRequest:
    """The exercise's pull request to ``retrain.py`` (a fresh object on every call)."""
    at = _line_of
    defects = (
        Defect("temporal-leakage", (at("center=True"), at("smooth = monthly.groupby")),
               "a centred three-month rolling mean averages each month with the *next* month's "
               "defaults, which are unknown when the month's applications are scored",
               hint="Look at how the new feature averages over months: which months does each "
                    "value use, and which of them exist when an application is scored?"),
        Defect("test-set-tuning", (at("for C in (0.01"), at("if best is None or auc >")),
               "C is chosen by the AUC on the check month, the same month whose AUC is "
               "reported: the report is the best of four tries on the test data",
               hint="Which data decide the choice of the model, and which data report its "
                    "quality?"),
        Defect("unseeded-randomness", (at("window.sample(MAX_ROWS)"),),
               "sample() without random_state: two runs of the job train on different rows",
               hint="Find the random step that takes no seed."),
        Defect("training-serving-skew", (at("loan_amount=window"),),
               "loan amounts are multiplied by 1000 in training only; inputs(), which the "
               "scoring service uses, still passes thousands of EUR",
               hint="Compare what the training code feeds the model with what inputs(), used "
                    "by the scoring service, feeds it."),
    )
    notes = {
        at('"""Monthly retraining job: fit on recent'): "a docstring",
        at("MAX_ROWS = 50_000"): "a limit on the rows is fine; how the rows are picked is the "
                                 "question",
        at("def region_trend"): "the function definition",
        at('"""Smoothed monthly default rate'): "a docstring",
        at('monthly = df.groupby(["region", "month"])'): "monthly means of past outcomes are "
                                                         "fine; the smoothing is the problem",
        at("return df.join(smooth"): "joins the computed column",
        at("def retrain(history, month, seed=0)"): "the signature",
        at('(history["month"] <= month)]'): "the window now includes the check month, which "
                                            "is split off again below",
        at("if len(window) > MAX_ROWS"): "a size guard",
        at("window = region_trend(window)"): "calls the feature function",
        at('train = window[window["month"] < month]'): "the training months are before the "
                                                       "check month",
        at('check = window[window["month"] == month]'): "the check month",
        at('numeric = NUMERIC + ["region_trend"]'): "adds the new feature to the inputs",
        at("best = None"): "initialises the search",
        at("model = build_model(numeric, C, seed)"): "a seeded model",
        at("model.fit(train[numeric"): "fitted on the training months",
        at("auc = roc_auc_score(check"): "computing a metric on the check month is fine; "
                                        "choosing by it is the defect",
        at("best = (model"): "keeps the best candidate",
        at("return best"): "returns the result",
    }
    return PullRequest("retrain.py", _BEFORE, _AFTER, defects, notes)


# --- part 1: the review -----------------------------------------------------------------------

def _plain_findings(value) -> list:
    __tracebackhide__ = True
    items = as_list(value, "my_findings()")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            item = [item.get("line"), item.get("category")]
        pair = as_list(item, f"finding {i}")
        if len(pair) != 2:
            fail(f"finding {i} should be a (line, category) pair, like (12, "
                 f"'temporal-leakage'), but it has {len(pair)} part(s).")
        out.append((as_int(pair[0], f"the line of finding {i}"),
                    as_text(pair[1], f"the category of finding {i}")))
    return out


def check_review(my_findings) -> None:
    """Explain the learner's review of :func:`exercise_pull_request`, or confirm it.

    ``my_findings()`` returns ``[(line, category), ...]`` with lines of the new ``retrain.py``
    and categories from :data:`~mlecourse.principles.review.CATEGORIES`. Every defect must be
    found and no finding may be a false alarm.
    """
    __tracebackhide__ = True
    code = getattr(getattr(my_findings, "__wrapped__", my_findings), "__code__", None)
    if code is not None and "defects" in code.co_names:
        fail("Your function reads the planted defects from the course package. The exercise asks "
             "for your own review: read the diff and list what you find.")
    findings = _plain_findings(call(my_findings, what="my_findings()"))
    pr = exercise_pull_request()
    if not findings:
        fail("my_findings() returned no findings. Read the diff line by line with the four "
             f"categories in mind: {', '.join(CATEGORIES)}.")
    try:
        parse_findings(findings, pr)
    except ValueError as error:
        fail(f"One finding is not valid: {error}.")
    duplicates = sorted({f for f in findings if findings.count(f) > 1})
    if duplicates:
        fail(f"You reported {duplicates[0]} more than once; report each finding once.")
    report = check_findings(findings, pr, reveal=False)
    if not report.complete:
        fail(f"Your review {report}\nFix the false alarms and look again for what you missed.")
    print(f"Well done: you found all {len(report.found)} defects and raised no false alarm.")
    print("\n".join(f"  - {e}" for e in check_findings(findings, pr).explanations))


# --- part 2: the card -------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _card_material():
    from mlecourse.example.model import train
    from mlecourse.example.simulate import simulate_loans
    from mlecourse.principles.cards import data_summary, model_card_data
    from mlecourse.principles.checks import fairness_report, quality_gate

    history = simulate_loans(months=4, rows_per_month=1_000, seed=11)
    data = history[history["month"] < "2024-04-01"].reset_index(drop=True)
    holdout = history[history["month"] >= "2024-04-01"]
    model = train(data)
    record = {"name": "loan-default", "version": "3", "aliases": ["champion"],
              "run_id": "run-of-version-3", "parameters": {"C": "1.0", "seed": "0"},
              "code_commit": "8d3f1e2a9c4b7d6e5f4a3b2c1d0e9f8a7b6c5d4e", "code_tag": "v1.2",
              "data_fingerprint": "not recorded", "data_snapshot": "loans-2024-03"}
    return model_card_data(
        record, quality_gate(model, None, data, holdout), fairness_report(model, holdout),
        training=data_summary(data, "Three months of applications through the branches",
                              snapshot="loans-2024-03"),
        evaluation=data_summary(holdout, "The month after training"))


def base_card() -> dict:
    """A fresh copy of the exercise's model card (generated; intended use and caveats are the
    notebook's defaults, for another business case)."""
    return fresh(_card_material())


def render_with(fields) -> str:
    """The exercise's card rendered with the learner's ``intended_use`` and ``caveats``."""
    from mlecourse.principles.cards import render_model_card

    card = base_card()
    card["intended_use"] = dict(fields["intended_use"])
    card["caveats"] = list(fields["caveats"])
    return render_model_card(card)


_SENSITIVE = re.compile(r"\bage\b|age[ _-]band|\bolder\b|\byounger\b|\bage group", re.I)
_DELAY = re.compile(r"\bdelay|\blag\b|\b(12|twelve)\s+months\b|\bmonths\s+(later|after)\b|"
                    r"\bonly\s+after\b.*\bmonths?\b|\byear\s+later\b", re.I)
_MIN_WORDS = 4


def _plain_card_fields(value) -> dict:
    __tracebackhide__ = True
    from mlecourse.principles.cards import INTENDED_USE_FIELDS

    fields = as_dict(value, "my_card_fields()")
    for key in ("intended_use", "caveats"):
        if key not in fields:
            fail(f"my_card_fields() has no {key!r} entry; return a dict with the keys "
                 "'intended_use' (a dict) and 'caveats' (a list of sentences).")
    unknown = sorted(set(map(str, fields)) - {"intended_use", "caveats"})
    if unknown:
        fail(f"my_card_fields() has unexpected key(s) {unknown}; only 'intended_use' and "
             "'caveats' are filled by you.")
    use = as_dict(fields["intended_use"], "the 'intended_use' entry")
    plain_use = {}
    for name in INTENDED_USE_FIELDS:
        if name not in use:
            fail(f"intended_use lacks the field {name!r}. A model card's intended use states "
                 "the primary uses, the primary users and what is out of scope.")
        text = as_text(use[name], f"intended_use[{name!r}]").strip()
        if len(text.split()) < _MIN_WORDS:
            fail(f"intended_use[{name!r}] is {text!r}: too short to guide a reader. Write at "
                 f"least a sentence ({_MIN_WORDS} words or more).")
        plain_use[name] = text
    extra = sorted(set(map(str, use)) - set(INTENDED_USE_FIELDS))
    if extra:
        fail(f"intended_use has unknown field(s) {extra}; use {list(INTENDED_USE_FIELDS)}.")
    caveats = as_list(fields["caveats"], "the 'caveats' entry", as_text)
    caveats = [c.strip() for c in caveats]
    if len(caveats) < 2:
        fail("Give at least two caveats: a card with one warning rarely covers what a user "
             "must know.")
    for i, text in enumerate(caveats):
        if len(text.split()) < _MIN_WORDS:
            fail(f"caveat {i} is {text!r}: too short to be useful. Write a full sentence.")
    return {"intended_use": plain_use, "caveats": caveats}


def check_card_fields(my_card_fields) -> None:
    """Check the learner's intended use and caveats for :data:`BUSINESS_CASE`, or confirm them.

    Required: the three intended-use fields and at least two caveats, each a real sentence; not
    the notebook's text (written for another business case); the text must name the sensitive
    attribute (the age band) and the label delay; the card must render.
    """
    __tracebackhide__ = True
    from mlecourse.principles.cards import DEFAULT_CAVEATS, DEFAULT_INTENDED_USE

    fields = _plain_card_fields(call(my_card_fields, what="my_card_fields()"))
    copied = [k for k, v in fields["intended_use"].items() if v == DEFAULT_INTENDED_USE[k]]
    copied += [f"caveat {i}" for i, c in enumerate(fields["caveats"]) if c in DEFAULT_CAVEATS]
    if copied:
        fail(f"{', '.join(copied)}: that is the notebook's text, written for branch reviews by "
             "credit officers. This business case is different (fast-track offers for broker "
             "applications): write what holds for it.")
    text = " ".join([*fields["intended_use"].values(), *fields["caveats"]])
    if not _SENSITIVE.search(text):
        fail("Your card does not name the sensitive attribute. The broker channel attracts "
             "younger applicants and flag rates differ by age band: say that the age band must "
             "be watched (for example in the caveats).")
    if not _DELAY.search(text):
        fail("Your card does not mention the label delay. Defaults are known only twelve months "
             "after a loan starts, so the model's quality on broker applications stays unknown "
             "for a year: say so, and what to watch meanwhile.")
    try:
        rendered = render_with(fields)
    except ValueError as error:  # pragma: no cover - the checks above cover the fields
        fail(f"The card does not render: {error}")
    print("Well done: the card has every required field, names the age band and the label "
          f"delay, and renders ({len(rendered.splitlines())} lines of Markdown).")
