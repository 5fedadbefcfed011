"""Safe release of a challenger model: shadow, canary and rollback, replayed on the simulator.

The deployment notebook replays the lender's months through these functions::

    from mlecourse.principles.release import CanaryPolicy, canary_decision, replay_canary
    table, outcome = replay_canary(champion, challenger, live_months, share=0.2)
    outcome.decision, outcome.month           # "promote" / "rollback" / "wait", and when

Shadow
    :func:`shadow_report`: the challenger scores the same requests as the champion; its scores
    are only logged and compared (score PSI, share of equal decisions, mean difference).
Canary
    :func:`canary_split` routes a fixed share of applications (by a hash of the application id,
    so an applicant always meets the same model) to the challenger. :func:`canary_decision`
    turns the canary's logged metrics into ``"promote"``, ``"rollback"`` or ``"wait"`` under a
    :class:`CanaryPolicy` agreed before the release; :func:`replay_canary` applies it month by
    month.
Rollback
    :func:`move_alias` moves a registry alias (``champion``) to another version and returns the
    version it pointed to: promotion and rollback are the same one-line operation.
Cost
    :func:`release_cost` counts, in hindsight with the outcomes known, what a challenger's
    decisions cost compared with the champion's: defaults it approved and applications it sent
    to manual review, with and without the canary.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping, Optional

import numpy as np
import pandas as pd

from mlecourse.example.simulate import TARGET, Scenario, simulate_loans

__all__ = [
    "CanaryPolicy",
    "CANARY_METRICS",
    "canary_decision",
    "canary_split",
    "shadow_report",
    "CanaryOutcome",
    "replay_canary",
    "release_cost",
    "move_alias",
    "ReleaseStory",
    "release_story",
]

#: The metrics a canary logs (the keys :func:`canary_decision` reads).
CANARY_METRICS = ("requests", "errors", "p95_latency_ms", "champion_p95_latency_ms", "score_psi")


@dataclass(frozen=True)
class CanaryPolicy:
    """The rules agreed *before* a canary starts.

    ``min_requests``: below this many canary requests, decide nothing (``"wait"``).
    ``max_error_rate``: share of canary requests that failed. ``max_latency_ratio``: canary p95
    latency over the champion's. ``max_score_psi``: PSI of the canary's scores against the
    champion's on the same traffic (0.1 and 0.25 are the usual "watch" and "act" levels).
    A value exactly at a limit passes.
    """

    min_requests: int = 400
    max_error_rate: float = 0.01
    max_latency_ratio: float = 1.5
    max_score_psi: float = 0.1

    def __post_init__(self):
        if isinstance(self.min_requests, bool) or not isinstance(self.min_requests, int) \
                or self.min_requests < 1:
            raise ValueError(f"CanaryPolicy.min_requests must be a positive int, "
                             f"got {self.min_requests!r}")
        for name in ("max_error_rate", "max_latency_ratio", "max_score_psi"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"CanaryPolicy.{name} must be a finite number >= 0, "
                                 f"got {value!r}")


def _metric(metrics: Mapping, key: str) -> float:
    if key not in metrics:
        raise ValueError(f"canary metrics lack {key!r} "
                         f"(expected keys: {', '.join(CANARY_METRICS)})")
    value = metrics[key]
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"canary metric {key!r} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"canary metric {key!r} must be finite and >= 0, got {value!r}")
    return float(value)


def canary_decision(metrics: Mapping, policy: Optional[CanaryPolicy] = None) -> str:
    """``"wait"``, ``"rollback"`` or ``"promote"`` from a canary's logged metrics.

    In this order: too little traffic (``requests < min_requests``) -> ``"wait"``: with few
    requests every rate and distribution is noise. Then any breach rolls back: error rate
    (``errors / requests``) above ``max_error_rate``, p95 latency above ``max_latency_ratio``
    times the champion's, score PSI above ``max_score_psi``. Otherwise ``"promote"``.
    ``metrics`` holds the keys in :data:`CANARY_METRICS`.
    """
    policy = CanaryPolicy() if policy is None else policy
    values = {key: _metric(metrics, key) for key in CANARY_METRICS}
    if values["requests"] < policy.min_requests:
        return "wait"
    if values["errors"] / values["requests"] > policy.max_error_rate:
        return "rollback"
    champion_p95 = values["champion_p95_latency_ms"]
    if champion_p95 > 0 and values["p95_latency_ms"] / champion_p95 > policy.max_latency_ratio:
        return "rollback"
    if values["score_psi"] > policy.max_score_psi:
        return "rollback"
    return "promote"


def canary_split(application_ids, share: float, seed: int = 0) -> np.ndarray:
    """Boolean mask: True for the applications routed to the canary (about ``share`` of them).

    A hash of the application id (and ``seed``) decides, not a random draw per request, so the
    same application always goes to the same model and a replay is reproducible.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, got {share!r}")
    ids = np.asarray(application_ids, dtype=np.uint64)
    with np.errstate(over="ignore"):
        mixed = (ids + np.uint64(seed)) * np.uint64(0x9E3779B97F4A7C15)
        mixed ^= mixed >> np.uint64(29)
        mixed *= np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> np.uint64(32)
    return (mixed >> np.uint64(11)).astype(np.float64) / 2.0**53 < share


def shadow_report(champion_scores, shadow_scores, threshold: Optional[float] = None) -> dict:
    """Compare a shadow model's scores with the champion's on the same requests.

    Returns ``requests``, ``score_psi`` (shadow against champion), ``mean_difference``
    (shadow minus champion), ``decision_agreement`` (share of requests with the same
    approve/review decision) and ``review_rate`` of each.
    """
    from mlecourse.principles.drift import psi

    if threshold is None:
        from mlecourse.principles.checks import DECISION_THRESHOLD as threshold
    champion = np.asarray(champion_scores, dtype=float)
    shadow = np.asarray(shadow_scores, dtype=float)
    if champion.shape != shadow.shape or champion.ndim != 1 or champion.size == 0:
        raise ValueError("shadow_report needs two equally long, non-empty lists of scores "
                         f"(got {champion.shape} and {shadow.shape})")
    return {
        "requests": int(champion.size),
        "score_psi": psi(champion, shadow, name="score"),
        "mean_difference": float(np.mean(shadow - champion)),
        "decision_agreement": float(np.mean((champion >= threshold) == (shadow >= threshold))),
        "champion_review_rate": float(np.mean(champion >= threshold)),
        "shadow_review_rate": float(np.mean(shadow >= threshold)),
    }


@dataclass(frozen=True)
class CanaryOutcome:
    """How a replayed canary ended: ``decision`` and the ``month`` it was taken (None: never)."""

    decision: str
    month: Optional[pd.Timestamp]
    requests: int

    def to_dict(self) -> dict:
        return asdict(self)


def _safe_scores(model, frame) -> tuple[np.ndarray, int]:
    """Scores and the number of failed requests (an exception or a non-finite score)."""
    from mlecourse.principles.serving import score

    if len(frame) == 0:
        return np.empty(0), 0
    try:
        scores = score(model, frame)
    except Exception:  # a model that crashes fails every request it gets
        return np.full(len(frame), np.nan), len(frame)
    bad = ~np.isfinite(scores)
    return scores, int(bad.sum())


def replay_canary(champion, challenger, live: pd.DataFrame, *, share: float = 0.2,
                  policy: Optional[CanaryPolicy] = None, latency_ms: tuple = (1.0, 1.0),
                  seed: int = 0) -> tuple[pd.DataFrame, CanaryOutcome]:
    """Replay a canary release month by month over ``live`` (the simulator's applications).

    Each month ``share`` of the applications (:func:`canary_split`) are scored by the
    challenger, the rest by the champion. The canary's metrics accumulate from the first month
    and :func:`canary_decision` is taken at the end of every month; the replay stops at the
    first ``"promote"`` or ``"rollback"``. ``latency_ms`` gives the (champion, challenger) p95
    latency measured elsewhere (a replay does not time requests). Returns one row per month
    (month, canary and champion requests, errors, score PSI, decision) and the outcome.
    """
    from mlecourse.principles.drift import psi

    policy = CanaryPolicy() if policy is None else policy
    rows, champion_scores, canary_scores = [], [], []
    requests = errors = 0
    outcome = CanaryOutcome("wait", None, 0)
    for month, batch in live.groupby("month", sort=True):
        to_canary = canary_split(batch["application_id"], share, seed)
        champ, _ = _safe_scores(champion, batch[~to_canary])
        canary, failed = _safe_scores(challenger, batch[to_canary])
        champion_scores.append(champ)
        canary_scores.append(canary[np.isfinite(canary)])
        requests += int(to_canary.sum())
        errors += failed
        ok_canary = np.concatenate(canary_scores)
        score_psi = (psi(np.concatenate(champion_scores), ok_canary, name="score")
                     if ok_canary.size else 0.0)
        metrics = {"requests": requests, "errors": errors, "p95_latency_ms": latency_ms[1],
                   "champion_p95_latency_ms": latency_ms[0], "score_psi": score_psi}
        decision = canary_decision(metrics, policy)
        rows.append({"month": month, "canary_requests": requests,
                     "champion_requests": int(sum(len(c) for c in champion_scores)),
                     "errors": errors, "score_psi": score_psi, "decision": decision})
        if decision != "wait":
            outcome = CanaryOutcome(decision, month, requests)
            break
    else:
        outcome = CanaryOutcome("wait", None, requests)
    return pd.DataFrame(rows), outcome


def release_cost(champion, challenger, live: pd.DataFrame, *, canary_until=None,
                 promoted: bool = False, share: float = 0.2, seed: int = 0,
                 threshold: Optional[float] = None) -> dict:
    """What the challenger's decisions cost over ``live``, compared with the champion's alone.

    Two ways to release: **without a canary** the challenger decides every application; **with
    the canary** it decides the canary share up to and including the month ``canary_until``
    and, from the next month, everything if ``promoted`` else nothing (rolled back).
    Costs, in hindsight (the outcomes are known): ``missed_defaults`` (defaulted applications
    that were approved) and ``reviews`` (applications sent to manual review), as differences
    to the champion deciding alone. Returns ``{"without_canary": {...}, "with_canary": {...}}``.
    """
    from mlecourse.principles.serving import score

    if threshold is None:
        from mlecourse.principles.checks import DECISION_THRESHOLD as threshold
    y = live[TARGET].to_numpy() == 1
    review_champion = score(champion, live) >= threshold
    review_challenger = score(challenger, live) >= threshold
    if canary_until is None:
        by_challenger = np.zeros(len(live), dtype=bool)
    else:
        during = (live["month"] <= pd.Timestamp(canary_until)).to_numpy()
        by_challenger = during & canary_split(live["application_id"], share, seed)
        if promoted:
            by_challenger |= ~during
    with_canary = np.where(by_challenger, review_challenger, review_champion)

    def cost(review):
        return {"missed_defaults": int(((~review) & y).sum() - ((~review_champion) & y).sum()),
                "reviews": int(review.sum() - review_champion.sum())}

    return {"without_canary": cost(review_challenger), "with_canary": cost(with_canary)}


def move_alias(alias: str, version, name: Optional[str] = None,
               tracking_uri: Optional[str] = None) -> Optional[str]:
    """Point the registry alias at ``version``; return the version it pointed to (or None).

    Promotion and rollback are both this call: nothing is redeployed, the service picks the
    new version up when it looks the alias up again (``POST /reload``).
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from mlecourse.principles.serving import MODEL_NAME

    name = MODEL_NAME if name is None else name
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    try:
        previous = str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        previous = None
    client.set_registered_model_alias(name, alias, str(version))
    return previous



# --- the replay's material --------------------------------------------------------------------

@dataclass(frozen=True)
class ReleaseStory:
    """The deployment notebook's replay: the months, the champion and three challengers.

    ``history``: the lender's applications from January 2024 (covariate shift from July 2024,
    ramping up over six months); ``live``: the months the releases are replayed on (from
    ``live_from``). ``champion`` was trained on January to June 2024. The challengers, all
    trained on April to December 2024: ``retrained`` on the data as recorded; ``unit_bug`` on
    data whose income column was recorded in EUR instead of thousands of EUR throughout (a
    broken feed, the simulator's quality break on every row); ``partial_bug`` on data where half
    the incomes from October on were in EUR.
    """

    history: pd.DataFrame
    live: pd.DataFrame
    champion: object
    challengers: dict


def _months_between(df: pd.DataFrame, start: str, stop: str) -> pd.DataFrame:
    return df[(df["month"] >= start) & (df["month"] < stop)].reset_index(drop=True)


def release_story(rows_per_month: int = 1_000, seed: int = 0,
                  live_from: str = "2025-01-01") -> ReleaseStory:
    """Simulate 18 months and train the champion and the three challengers (see
    :class:`ReleaseStory`); a second or so at the default size."""
    from mlecourse.example.model import train

    history = simulate_loans(months=18, rows_per_month=rows_per_month, seed=seed,
                             scenario=Scenario(covariate_shift=(6, 1.0, 6)))
    # The two broken feeds, made as the simulator's quality break makes them (only the recorded
    # income changes, outcomes stay true), without simulating the months twice more.
    in_eur = history.assign(income=history["income"] * 1000.0)
    rng = np.random.default_rng([seed, 9])
    broken = (history["month"] >= "2024-10-01").to_numpy() & (rng.random(len(history)) < 0.5)
    half_eur = history.assign(income=np.where(broken, history["income"] * 1000.0,
                                              history["income"]))
    window = ("2024-04-01", live_from)
    challengers = {
        "retrained": train(_months_between(history, *window), seed=seed),
        "unit_bug": train(_months_between(in_eur, *window), seed=seed),
        "partial_bug": train(_months_between(half_eur, *window), seed=seed),
    }
    champion = train(_months_between(history, "2024-01-01", "2024-07-01"), seed=seed)
    live = history[history["month"] >= live_from].reset_index(drop=True)
    return ReleaseStory(history, live, champion, challengers)
