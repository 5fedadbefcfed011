"""Code review of ML changes: a pull request with planted defects and a findings checker.

:func:`example_pull_request` is a realistic change to the running example's training script
(``train.py``). It looks like an improvement (a new feature, a tuned threshold, more data for
training) and hides four defects a reviewer must catch, one per category in
:data:`CATEGORIES`. :func:`check_findings` compares a reviewer's findings, each a line number
of the new file and a category, with the planted defects and explains every hit, miss and
false alarm. :func:`defect_effects` measures what each defect does to the metrics.

Both versions of the script are real, runnable code (:func:`load_script`).
"""

from __future__ import annotations

import difflib
import types
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "CATEGORIES",
    "Defect",
    "PullRequest",
    "Finding",
    "ReviewReport",
    "example_pull_request",
    "load_script",
    "parse_findings",
    "check_findings",
    "defect_effects",
    "REVIEW_CHECKLIST",
]

#: The fixed list of defect categories a finding may name.
CATEGORIES = {
    "temporal-leakage": "a feature or a split uses information from after the prediction time",
    "test-set-tuning": "a choice (threshold, hyperparameter, model) is tuned on the test set",
    "unseeded-randomness": "a random step without a fixed seed: results change from run to run",
    "training-serving-skew": "training prepares inputs differently from the scoring service",
}

#: What a reviewer of an ML pull request asks, one question per way such changes go wrong.
REVIEW_CHECKLIST = [
    ("Time", "Is every feature computable at prediction time from data that exist then? Is "
             "the split by time, with the test months after the training months?"),
    ("Test set", "Is the test set used once, at the end? Are thresholds and hyperparameters "
                 "chosen on training or validation data only?"),
    ("Randomness", "Is every random step (split, sampling, model) seeded from a parameter, so "
                   "two runs give the same model?"),
    ("Serving", "Does the scoring service prepare inputs with the same code? Did the feature "
                "code change without a matching change (and test) on the serving side?"),
    ("Policy", "Does the change move a business decision (the review threshold) that is not "
               "the team's to move alone?"),
    ("Evidence", "Are the new metrics compared with the champion on the same evaluation data, "
                 "and does the quality gate pass?"),
]

_BEFORE = '''\
"""Train the loan-default model; evaluate it on the months after training."""
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["income", "loan_amount", "term_months", "credit_history_years"]
CATEGORICAL = ["employment_type", "region"]
THRESHOLD = 0.2  # the lender's review policy: flag applications at this risk or above


def prepare(df):
    """Model inputs from raw applications; the scoring service imports this function."""
    return df[NUMERIC + CATEGORICAL]


def build_model(numeric, seed):
    pre = ColumnTransformer([("num", StandardScaler(), numeric),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])
    return make_pipeline(pre, LogisticRegression(max_iter=1000, random_state=seed))


def train_and_evaluate(df, cutoff="2024-07-01", seed=0):
    train = df[df["month"] < cutoff]
    test = df[df["month"] >= cutoff]
    model = build_model(NUMERIC, seed).fit(prepare(train), train["defaulted"])
    scores = model.predict_proba(prepare(test))[:, 1]
    return model, {"roc_auc": roc_auc_score(test["defaulted"], scores),
                   "f1": f1_score(test["defaulted"], scores >= THRESHOLD),
                   "threshold": THRESHOLD}
'''

_AFTER = '''\
"""Train the loan-default model; evaluate it on held-out applications."""
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["income", "loan_amount", "term_months", "credit_history_years"]
CATEGORICAL = ["employment_type", "region"]
SEGMENT = ["employment_type", "region", "term_months", "month"]
THRESHOLD = 0.2  # the lender's review policy: flag applications at this risk or above


def prepare(df):
    """Model inputs from raw applications; the scoring service imports this function."""
    return df[NUMERIC + CATEGORICAL]


def build_model(numeric, seed):
    pre = ColumnTransformer([("num", StandardScaler(), numeric),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])
    return make_pipeline(pre, LogisticRegression(max_iter=1000, random_state=seed))


def add_segment_rate(df):
    """Default rate of similar applicants: a strong new signal."""
    rate = df.groupby(SEGMENT)["defaulted"].transform("mean")
    return df.assign(segment_default_rate=rate)


def best_threshold(y, scores):
    """The threshold with the highest F1 score."""
    precision, recall, thresholds = precision_recall_curve(y, scores)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[np.argmax(f1[:-1])])


def train_and_evaluate(df, seed=0):
    df = add_segment_rate(df)
    df = df.assign(income=np.log1p(df["income"]))  # incomes are skewed: use their log
    train, test = train_test_split(df, test_size=0.25)  # more data to train on
    numeric = NUMERIC + ["segment_default_rate"]
    model = build_model(numeric, seed)
    model.fit(train[numeric + CATEGORICAL], train["defaulted"])
    scores = model.predict_proba(test[numeric + CATEGORICAL])[:, 1]
    threshold = best_threshold(test["defaulted"], scores)
    return model, {"roc_auc": roc_auc_score(test["defaulted"], scores),
                   "f1": f1_score(test["defaulted"], scores >= threshold),
                   "threshold": threshold}
'''


@dataclass(frozen=True)
class Defect:
    """A planted defect: its category, the lines of the new file that show it, and why."""

    category: str
    lines: tuple[int, ...]
    reason: str
    hint: str = ""


@dataclass(frozen=True)
class PullRequest:
    """A change to one file: old and new text, the unified diff and the planted defects.

    ``notes`` explains the changed lines that are *not* defects (line -> why it is fine).
    """

    path: str
    before: str
    after: str
    defects: tuple[Defect, ...]
    notes: dict = field(default_factory=dict)

    @property
    def diff(self) -> str:
        """The unified diff, as ``git diff`` shows it."""
        return "".join(difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
            fromfile=f"a/{self.path}", tofile=f"b/{self.path}"))

    @property
    def changed_lines(self) -> list[int]:
        """Line numbers of the new file that the pull request added or changed."""
        matcher = difflib.SequenceMatcher(a=self.before.splitlines(), b=self.after.splitlines(),
                                          autojunk=False)
        return [j + 1 for tag, _, _, j1, j2 in matcher.get_opcodes() if tag != "equal"
                for j in range(j1, j2)]

    def numbered(self, first: int = 1, last: int | None = None) -> str:
        """The new file with line numbers (``first``..``last``), for reading and citing."""
        lines = self.after.splitlines()
        last = len(lines) if last is None else last
        return "\n".join(f"{i:3d}  {lines[i - 1]}" for i in range(first, last + 1))


def _line_of(text: str, snippet: str) -> int:
    hits = [i for i, line in enumerate(text.splitlines(), 1) if snippet in line]
    if len(hits) != 1:  # pragma: no cover - guards the material itself
        raise RuntimeError(f"snippet {snippet!r} found {len(hits)} times")
    return hits[0]


def example_pull_request() -> PullRequest:
    """The notebook's pull request to ``train.py``, with its four planted defects."""
    at = lambda snippet: _line_of(_AFTER, snippet)  # noqa: E731 - short local alias
    defects = (
        Defect("temporal-leakage",
               (at('SEGMENT = ["employment_type"'), at('df.groupby(SEGMENT)'),
                at("df = add_segment_rate(df)")),
               "the segment's default rate is computed over each whole month, outcomes included: "
               "at prediction time those defaults lie months in the future (and the row's own "
               "label is in the mean)"),
        Defect("test-set-tuning", (at("threshold = best_threshold(test"),
                                   at('"f1": f1_score(test["defaulted"], scores >= threshold)')),
               "the threshold is chosen to maximise F1 on the test set, so the reported F1 is "
               "optimistic; it also replaces the lender's review policy (0.2) silently"),
        Defect("unseeded-randomness", (at("train_test_split(df, test_size=0.25)"),),
               "train_test_split without random_state: every run splits differently, so the "
               "model and its metrics change from run to run (and a random split mixes months)"),
        Defect("training-serving-skew", (at("income=np.log1p"),),
               "the log of income is taken in the training function, not in prepare(), which "
               "the scoring service imports: the served model receives raw incomes"),
    )
    notes = {
        at("import numpy as np"): "a new import, needed by the code below",
        at("precision_recall_curve, roc_auc"): "a new import; the problem is how it is used",
        at("from sklearn.model_selection import"): "a new import; the problem is where the "
                                                   "split is called",
        at("def add_segment_rate"): "the function definition; the leak is in the groupby line",
        at("Default rate of similar applicants"): "a docstring",
        at("def best_threshold"): "defining a tuning helper is fine; calling it on the test set "
                                  "is the defect",
        at('"""The threshold with the highest F1'): "a docstring",
        at("precision, recall, thresholds ="): "a correct F1 computation",
        at("f1 = 2 * precision"): "a correct F1 computation",
        at("return float(thresholds"): "a correct F1 computation",
        at("return df.assign(segment_default_rate"): "adds the column computed above",
        at("def train_and_evaluate(df, seed=0)"): "the signature lost the cutoff, a consequence "
                                                  "of the random split flagged there",
        at('numeric = NUMERIC + ["segment_default_rate"]'): "uses the new feature; the leak is "
                                                           "flagged where it is computed",
        at("model = build_model(numeric, seed)"): "seeded model construction",
        at("model.fit(train[numeric"): "fits on the training part",
        at("scores = model.predict_proba(test[numeric"): "scores the test part",
        at('"threshold": threshold}'): "reports the threshold used",
        at('"""Train the loan-default model; evaluate it on held-out'): "a docstring",
    }
    return PullRequest("train.py", _BEFORE, _AFTER, defects, notes)


def load_script(text: str, name: str = "train_pr") -> types.ModuleType:
    """Execute a version of ``train.py`` as a module and return it (to run the reviewed code)."""
    module = types.ModuleType(name)
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)  # noqa: S102 - our own material
    return module


# --- findings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One review finding: a line of the new file and a category from :data:`CATEGORIES`."""

    line: int
    category: str


def parse_findings(findings, pr: PullRequest) -> list[Finding]:
    """Turn ``[(line, category), ...]`` (or dicts with ``line`` and ``category``) into
    :class:`Finding` objects; ``ValueError`` names the first malformed finding."""
    if isinstance(findings, (str, bytes)) or not isinstance(findings, Iterable):
        raise TypeError("findings must be a list of (line, category) pairs, "
                        f"got {type(findings).__name__}")
    n_lines = len(pr.after.splitlines())
    out = []
    for i, item in enumerate(findings):
        if isinstance(item, dict):
            if set(item) != {"line", "category"}:
                raise ValueError(f"finding {i}: a dict needs exactly the keys 'line' and "
                                 f"'category', got {sorted(map(str, item))}")
            line, category = item["line"], item["category"]
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            line, category = item
        else:
            raise ValueError(f"finding {i}: expected a (line, category) pair, got {item!r}")
        if isinstance(line, bool) or not isinstance(line, (int, np.integer)):
            raise ValueError(f"finding {i}: the line must be a whole number, got {line!r}")
        if not 1 <= int(line) <= n_lines:
            raise ValueError(f"finding {i}: line {line} is outside {pr.path}, which has "
                             f"{n_lines} lines")
        if not isinstance(category, str) or category not in CATEGORIES:
            raise ValueError(f"finding {i}: unknown category {category!r}; use one of "
                             f"{', '.join(CATEGORIES)}")
        out.append(Finding(int(line), str(category)))
    return out


@dataclass
class ReviewReport:
    """The outcome of :func:`check_findings`: one explained entry per defect and false alarm.

    ``found`` and ``missed`` hold the categories of the planted defects; ``false_alarms`` the
    findings that point at no defect (or name the wrong category); ``explanations`` one
    sentence per entry, in that order.
    """

    found: list[str]
    missed: list[str]
    false_alarms: list[Finding]
    explanations: list[str]

    @property
    def complete(self) -> bool:
        """Every defect found and no false alarm."""
        return not self.missed and not self.false_alarms

    def __str__(self) -> str:
        head = (f"found {len(self.found)} of {len(self.found) + len(self.missed)} defects, "
                f"{len(self.false_alarms)} false alarm(s)")
        return "\n".join([head, *(f"  - {e}" for e in self.explanations)])


def check_findings(findings, pr: PullRequest | None = None, *,
                   reveal: bool = True) -> ReviewReport:
    """Compare review findings with the pull request's planted defects, with reasons.

    A defect counts as found when a finding names its category and one of its lines. A finding
    is a false alarm when its line is not part of the change, is a changed line without a
    defect, or belongs to a defect of another category. With ``reveal=False`` (exercises) a
    missed defect is described by its category and hint, without its lines, and a finding of
    the wrong category is not told which category is right.
    """
    pr = example_pull_request() if pr is None else pr
    parsed = parse_findings(findings, pr)
    changed = set(pr.changed_lines)
    found, missed, alarms, why = [], [], [], []
    hits = set()
    for defect in pr.defects:
        match = [f for f in parsed if f.category == defect.category and f.line in defect.lines]
        if match:
            found.append(defect.category)
            hits.update(match)
            why.append(f"found: {defect.category} at line {match[0].line}: {defect.reason}")
        else:
            missed.append(defect.category)
            if reveal:
                where = ", ".join(map(str, defect.lines))
                why.append(f"missed: {defect.category} (line {where}): {defect.reason}")
            else:
                why.append(f"missed: a defect of category {defect.category}. "
                           f"{defect.hint or CATEGORIES[defect.category]}")
    for finding in parsed:
        if finding in hits:
            continue
        alarms.append(finding)
        other = [d for d in pr.defects if finding.line in d.lines]
        if other and reveal:
            reason = (f"line {finding.line} is a defect, but of category {other[0].category}, "
                      f"not {finding.category}: {other[0].reason}")
        elif other:
            reason = (f"line {finding.line} does hold a defect, but not of category "
                      f"{finding.category}: {CATEGORIES[finding.category]}, which is not what "
                      "goes wrong there")
        elif not pr.after.splitlines()[finding.line - 1].strip():
            reason = f"line {finding.line} is an empty line"
        elif finding.line not in changed:
            reason = (f"line {finding.line} is not part of this change; review what the pull "
                      "request changes")
        else:
            reason = f"line {finding.line} is fine: {pr.notes.get(finding.line, 'no defect')}"
        why.append(f"false alarm: {reason}")
    return ReviewReport(found, missed, alarms, why)


# --- effects ----------------------------------------------------------------------------------

def _auc(y, scores) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores))


def defect_effects(history: pd.DataFrame, *, cutoff: str = "2024-07-01",
                   fresh_from: str | None = None, seed: int = 0, runs: int = 5) -> pd.DataFrame:
    """What each planted defect does to the metrics, measured with the reviewed code itself.

    ``history`` is simulator output; months before ``cutoff`` train, months from ``cutoff``
    test (as the code before the pull request does); months from ``fresh_from`` (default: the
    last quarter of ``history``) play the applications that arrive after release. One row per
    defect and metric: its value *with* the defect (what the pull request would report or do) and
    *without* it (the honest number), and what the difference means.
    """
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    pr = example_pull_request()
    new = load_script(pr.after, "train_after")
    months = sorted(history["month"].unique())
    if fresh_from is None:
        fresh_from = months[-3]
    before = history[history["month"] < fresh_from]
    fresh = history[history["month"] >= fresh_from]
    train = before[before["month"] < cutoff]
    test = before[before["month"] >= cutoff]
    if min(len(train), len(test), len(fresh)) == 0:
        raise ValueError("defect_effects: the training, test and fresh months must all hold "
                         f"data (cutoff {cutoff}, fresh from {fresh_from})")
    y_test, y_fresh = test["defaulted"], fresh["defaulted"]
    numeric, categorical = list(new.NUMERIC), list(new.CATEGORICAL)
    rows = []

    # Temporal leakage: the segment's same-month default rate as a feature. With the defect it
    # is computed from outcomes (test included); at prediction time only earlier months are
    # known, so the honest value for the test months is the training months' rate.
    leaky = new.add_segment_rate(before)
    extra = numeric + ["segment_default_rate"]
    leak_model = new.build_model(extra, seed).fit(
        leaky[leaky["month"] < cutoff][extra + categorical], train["defaulted"])
    reported = _auc(y_test, leak_model.predict_proba(leaky[leaky["month"] >= cutoff])[:, 1])
    known = train.groupby(new.SEGMENT[:-1])["defaulted"].mean().rename("segment_default_rate")
    at_serving = test.join(known, on=new.SEGMENT[:-1]).fillna(
        {"segment_default_rate": float(train["defaulted"].mean())})
    served = _auc(y_test, leak_model.predict_proba(at_serving)[:, 1])
    rows.append(("temporal-leakage", "ROC AUC on the test months", reported, served,
                 "reported with the leaked feature vs. with the values known at prediction time"))

    # Threshold tuned on the test set: the reported F1 is the best over all thresholds of the
    # very data it is reported on. Honest: tune on the last training month, report on test.
    model = new.build_model(numeric, seed).fit(train[numeric + categorical], train["defaulted"])
    s_test = model.predict_proba(test)[:, 1]
    s_fresh = model.predict_proba(fresh)[:, 1]
    tuned = new.best_threshold(y_test, s_test)
    last = train[train["month"] == train["month"].max()]
    honest = new.best_threshold(last["defaulted"], model.predict_proba(last)[:, 1])
    rows.append(("test-set-tuning", "F1 score on the test months",
                 float(f1_score(y_test, s_test >= tuned)),
                 float(f1_score(y_test, s_test >= honest)),
                 f"threshold tuned on the test months ({tuned:.3f}) vs. on the last training "
                 f"month ({honest:.3f})"))
    rows.append(("test-set-tuning", "share flagged for review", float(np.mean(s_fresh >= tuned)),
                 float(np.mean(s_fresh >= new.THRESHOLD)),
                 f"fresh months at the tuned threshold vs. the policy threshold {new.THRESHOLD}"))

    # Unseeded split: each run draws another split; `runs` seeds stand in for runs.
    aucs = []
    for run in range(runs):
        part, held = train_test_split(before, test_size=0.25, random_state=run)
        m = new.build_model(numeric, seed).fit(part[numeric + categorical], part["defaulted"])
        aucs.append(_auc(held["defaulted"], m.predict_proba(held)[:, 1]))
    rows.append(("unseeded-randomness", f"ROC AUC over {runs} runs", max(aucs), min(aucs),
                 "highest vs. lowest of the runs: the spread is noise, not improvement"))

    # Training-serving skew: trained on log income, served raw incomes through prepare().
    logged = train.assign(income=np.log1p(train["income"]))
    skew_model = new.build_model(numeric, seed).fit(logged[numeric + categorical],
                                                    logged["defaulted"])
    offline = _auc(y_fresh, skew_model.predict_proba(
        fresh.assign(income=np.log1p(fresh["income"])))[:, 1])
    online = skew_model.predict_proba(new.prepare(fresh))[:, 1]
    rows.append(("training-serving-skew", "ROC AUC on the fresh months", _auc(y_fresh, online),
                 offline, "served (raw incomes) vs. evaluated offline (log incomes)"))
    rows.append(("training-serving-skew", "share flagged for review",
                 float(np.mean(online >= new.THRESHOLD)),
                 float(np.mean(skew_model.predict_proba(
                     fresh.assign(income=np.log1p(fresh["income"])))[:, 1] >= new.THRESHOLD)),
                 "served vs. offline, at the policy threshold"))
    return pd.DataFrame(rows, columns=["defect", "metric", "with defect", "without defect",
                                       "comparison"])
