"""The model service (in-process and on a real loopback server), the batch job and safe release.

The MLflow registry is built once per session (it is slow to set up); tests that move an alias
put it back.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from mlecourse.example.model import train
from mlecourse.example.simulate import FEATURES, simulate_loans
from mlecourse.principles.release import (
    CanaryPolicy,
    canary_decision,
    canary_split,
    move_alias,
    release_cost,
    release_story,
    replay_canary,
    shadow_report,
)
from mlecourse.principles.serving import (
    MAX_BATCH,
    VERSION_HEADER,
    LoadedModel,
    application_model,
    create_app,
    latency_summary,
    port_is_free,
    register_version,
    registry_loader,
    schema_bounds,
    score,
    score_batch,
    score_snapshot,
    serve_in_thread,
    to_frame,
)

with warnings.catch_warnings():  # Starlette's TestClient warns about its httpx dependency
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def data():
    return simulate_loans(months=3, rows_per_month=400, seed=3)


@pytest.fixture(scope="module")
def models(data):
    return {"1": train(data, seed=0), "2": train(data[data["month"] >= "2024-02-01"], seed=0)}


def _plain(row: pd.Series) -> dict:
    return {c: (v.item() if hasattr(v, "item") else v) for c, v in row[FEATURES].items()}


@pytest.fixture(scope="module")
def applications(data):
    return [_plain(row) for _, row in data.head(5).iterrows()]


def _memory_loader(models, versions):
    """A loader over a dict alias -> version (the test moves aliases by editing it)."""
    return lambda alias: LoadedModel(models[versions[alias]], versions[alias], alias)


@pytest.fixture
def client(models):
    app = create_app(_memory_loader(models, {"champion": "1"}))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """A real SQLite-backed MLflow registry with versions 1 (champion) and 2 (challenger)."""
    from mlecourse.principles.versioning import mlflow_offline

    data = simulate_loans(months=3, rows_per_month=400, seed=3)
    with mlflow_offline(tmp_path_factory.mktemp("mlflow")) as offline:
        v1 = register_version(train(data, seed=0), data, alias="champion")
        v2 = register_version(train(data[data["month"] >= "2024-02-01"]), data,
                              alias="challenger")
        yield {"uri": offline.tracking_uri, "v1": v1, "v2": v2, "data": data}


# --- the request model agrees with the pandera schema -------------------------------------------

def test_request_model_is_derived_from_the_schema():
    bounds = schema_bounds()
    assert set(bounds) == set(FEATURES)
    assert (bounds["income"]["min"], bounds["income"]["max"]) == (0.0, 1000.0)
    assert bounds["term_months"]["allowed"] == (12, 24, 36, 48, 60)
    assert "east" in bounds["region"]["allowed"]


def _schema_accepts(row: dict) -> bool:
    from mlecourse.principles.checks import loan_schema, validate_batch

    frame = pd.DataFrame([{**row, "month": pd.Timestamp("2024-01-01"), "application_id": 1,
                           "age_band": "26-40", "defaulted": 0}])
    # One row: only the per-value checks apply, so the two batch-level bands are opened wide.
    schema = loan_schema(mean_income=(-1e9, 1e9), default_rate=(-1.0, 2.0))
    return validate_batch(frame.astype({"term_months": "int64"}), schema).ok


@pytest.mark.parametrize("field, value", [
    ("income", 1000.5), ("income", -1.0), ("loan_amount", 2000.1), ("credit_history_years", 81.0),
    ("term_months", 30), ("employment_type", "retired"), ("region", "centre"),
])
def test_pydantic_and_pandera_refuse_the_same_values(applications, field, value):
    from pydantic import ValidationError

    Application = application_model()
    good = applications[0]
    assert _schema_accepts(good)
    Application(**good)
    bad = {**good, field: value}
    assert not _schema_accepts(bad)
    with pytest.raises(ValidationError, match=field):
        Application(**bad)


def test_every_simulated_application_is_valid(data):
    Application = application_model()
    for _, row in data.head(200).iterrows():
        Application(**_plain(row))


# --- in-process -----------------------------------------------------------------------------

def test_predict_one_and_many_with_the_version(client, models, applications):
    one = client.post("/predict", json={"applications": applications[:1]})
    assert one.status_code == 200
    body = one.json()
    assert body["model_version"] == "1" and one.headers[VERSION_HEADER] == "1"
    expected = models["1"].predict_proba(to_frame(applications))[:, 1]
    assert body["predictions"][0]["default_probability"] == expected[0]
    many = client.post("/predict", json={"applications": applications}).json()
    assert [p["default_probability"] for p in many["predictions"]] == expected.tolist()
    assert {p["decision"] for p in many["predictions"]} <= {"approve", "review"}


def test_health_and_ready_carry_the_version(client):
    health = client.get("/health")
    assert health.json() == {"status": "ok"} and health.headers[VERSION_HEADER] == "1"
    ready = client.get("/ready").json()
    assert ready["ready"] is True and ready["model_version"] == "1"
    assert ready["alias"] == "champion"


@pytest.mark.parametrize("change, field", [
    (lambda a: {k: v for k, v in a.items() if k != "region"}, "region"),
    (lambda a: {**a, "income": "lots"}, "income"),
    (lambda a: {**a, "income": 5000.0}, "income"),
    (lambda a: {**a, "loan_amount": -2.0}, "loan_amount"),
    (lambda a: {**a, "employment_type": "astronaut"}, "employment_type"),
    (lambda a: {**a, "term_months": "36"}, "term_months"),
    (lambda a: {**a, "incme": 50.0}, "incme"),
])
def test_bad_input_gets_422_naming_the_field(client, applications, change, field):
    response = client.post("/predict", json={"applications": [applications[0],
                                                              change(applications[1])]})
    assert response.status_code == 422
    body = response.json()
    assert body["message"].startswith(f"applications[1].{field}:")
    assert body["model_version"] == "1" and response.headers[VERSION_HEADER] == "1"
    assert client.post("/predict", json={"applications": applications}).status_code == 200


@pytest.mark.parametrize("payload, words", [
    ({"applications": []}, "at least 1"),
    ({}, "applications: Field required"),
    ({"applications": "x"}, "applications"),
])
def test_malformed_bodies_get_422(client, payload, words):
    response = client.post("/predict", json=payload)
    assert response.status_code == 422 and words in response.json()["message"]


def test_a_batch_over_the_limit_is_refused(client, applications):
    response = client.post("/predict", json={"applications": applications[:1] * (MAX_BATCH + 1)})
    assert response.status_code == 422 and "applications" in response.json()["message"]


def test_not_a_number_is_refused(client, applications):
    body = json.dumps({"applications": [{**applications[0], "income": math.nan}]})  # NaN in JSON
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and "income" in response.json()["message"]


def test_prediction_hook_gets_records_and_shadow_scores(models, applications):
    records = []
    versions = {"champion": "1", "challenger": "2"}
    app = create_app(_memory_loader(models, versions), shadow_alias="challenger",
                     on_prediction=records.append)
    with TestClient(app) as c:
        body = c.post("/predict", json={"applications": [{**applications[0],
                                                           "application_id": 7}]}).json()
        assert c.get("/ready").json()["shadow_version"] == "2"
    assert len(records) == 1 and records[0]["application_id"] == 7
    assert records[0]["version"] == "1" and records[0]["shadow_version"] == "2"
    expected = score(models["2"], applications[:1])[0]
    assert records[0]["shadow_score"] == expected
    assert records[0]["score"] == body["predictions"][0]["default_probability"] != expected
    assert "shadow" not in str(body)  # the shadow's answer is never returned


def test_a_failing_hook_never_fails_the_request(models, applications):
    def broken(record):
        raise RuntimeError("log is full")

    app = create_app(_memory_loader(models, {"champion": "1"}), on_prediction=broken)
    with TestClient(app) as c:
        assert c.post("/predict", json={"applications": applications}).status_code == 200


def test_reload_follows_the_alias_in_process(models, applications):
    versions = {"champion": "1"}
    with TestClient(create_app(_memory_loader(models, versions))) as c:
        first = c.post("/predict", json={"applications": applications}).json()
        versions["champion"] = "2"
        assert c.get("/ready").json()["model_version"] == "1"  # no reload, no change
        assert c.post("/reload").json() == {"previous": "1", "version": "2"}
        second = c.post("/predict", json={"applications": applications}).json()
    assert second["model_version"] == "2"
    assert first["predictions"] != second["predictions"]


# --- a real server on loopback --------------------------------------------------------------

def test_real_server_serves_and_frees_its_port(models, applications):
    app = create_app(_memory_loader(models, {"champion": "1"}))
    with serve_in_thread(app) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert not port_is_free(server.port)
        with server.client() as http:
            response = http.post("/predict", json={"applications": applications})
            bad = http.post("/predict", json={"applications": [{**applications[0],
                                                                "region": "mars"}]})
        assert response.status_code == 200 and response.headers[VERSION_HEADER] == "1"
        assert bad.status_code == 422 and "region" in bad.json()["message"]
    assert not server.thread.is_alive()
    assert port_is_free(server.port)


def test_the_listener_is_tcp_so_responses_are_not_held_back(models):
    # asyncio sets TCP_NODELAY only on sockets whose proto says TCP; with proto 0 each
    # response waited for the client's delayed ACK (about 40 ms a request on Linux).
    import socket

    app = create_app(_memory_loader(models, {"champion": "1"}))
    with serve_in_thread(app) as server:
        (listener,) = [s for srv in server.server.servers for s in srv.sockets]
        assert listener.proto == socket.IPPROTO_TCP


def test_server_is_stopped_after_an_exception(models):
    app = create_app(_memory_loader(models, {"champion": "1"}))
    seen = {}
    with pytest.raises(ZeroDivisionError):
        with serve_in_thread(app) as server:
            seen["server"] = server
            with server.client() as http:
                assert http.get("/health").status_code == 200
            1 / 0
    server = seen["server"]
    assert not server.thread.is_alive()
    assert port_is_free(server.port)


def test_a_server_whose_model_cannot_load_does_not_start(models):
    def missing(alias):
        raise ValueError(f"no alias {alias!r}")

    with pytest.raises(RuntimeError, match="did not start"):
        with serve_in_thread(create_app(missing)):
            pass  # pragma: no cover - never reached


# --- the registry: load by alias, promote, roll back ----------------------------------------------

def test_alias_switch_on_a_real_server(registry, applications):
    uri, v1, v2 = registry["uri"], registry["v1"], registry["v2"]
    app = create_app(registry_loader(tracking_uri=uri))
    try:
        with serve_in_thread(app) as server, server.client() as http:
            assert http.get("/ready").json()["model_version"] == v1
            assert move_alias("champion", v2, tracking_uri=uri) == v1   # promote
            assert http.post("/reload").json() == {"previous": v1, "version": v2}
            promoted = http.post("/predict", json={"applications": applications}).json()
            assert promoted["model_version"] == v2
            assert move_alias("champion", v1, tracking_uri=uri) == v2   # roll back
            http.post("/reload")
            assert http.get("/ready").json()["model_version"] == v1
            back = http.post("/predict", json={"applications": applications})
            assert back.headers[VERSION_HEADER] == v1
            assert back.json()["predictions"] != promoted["predictions"]
    finally:
        move_alias("champion", v1, tracking_uri=uri)


def test_unknown_alias_is_a_clear_error(registry):
    with pytest.raises(ValueError, match="no alias 'nope'"):
        registry_loader(tracking_uri=registry["uri"])("nope")


def test_batch_job_and_endpoint_give_identical_scores(registry, tmp_path):
    from mlecourse.principles.versioning import write_snapshot

    data = registry["data"]
    write_snapshot(data, tmp_path / "snapshots", "loans")
    loaded = registry_loader(tracking_uri=registry["uri"])("champion")
    batch, path = score_snapshot(loaded, tmp_path / "snapshots", "loans", tmp_path / "out",
                                 month="2024-03")
    assert path.exists() and len(batch) == 400
    assert set(batch["model_version"]) == {registry["v1"]}
    assert pd.read_parquet(path)["default_probability"].tolist() == \
        batch["default_probability"].tolist()
    rows = data[data["month"] == "2024-03-01"]
    payload = [{**_plain(r), "application_id": int(r["application_id"])}
               for _, r in rows.iterrows()]
    app = create_app(registry_loader(tracking_uri=registry["uri"]))
    with serve_in_thread(app) as server, server.client() as http:
        online = http.post("/predict", json={"applications": payload}).json()
    assert [p["application_id"] for p in online["predictions"]] == batch["application_id"].tolist()
    assert [p["default_probability"] for p in online["predictions"]] == \
        batch["default_probability"].tolist()


def test_score_snapshot_refuses_an_empty_month(registry, tmp_path):
    from mlecourse.principles.versioning import write_snapshot

    write_snapshot(registry["data"], tmp_path, "loans")
    loaded = registry_loader(tracking_uri=registry["uri"])("champion")
    with pytest.raises(ValueError, match="no applications in 2030-01"):
        score_snapshot(loaded, tmp_path, "loans", tmp_path / "out", month="2030-01")


def test_score_batch_names_a_missing_column(models, data):
    with pytest.raises(ValueError, match="region"):
        score_batch(LoadedModel(models["1"], "1", "champion"), data.drop(columns="region"))


# --- latency -----------------------------------------------------------------------------------

def test_latency_summary():
    summary = latency_summary([0.001] * 98 + [0.010, 0.100], rows_per_request=10)
    assert summary["requests"] == 100 and summary["p50_ms"] == pytest.approx(1.0)
    assert summary["p99_ms"] > summary["p95_ms"] >= 1.0
    assert summary["rows_per_s"] == pytest.approx(10 * summary["requests_per_s"])
    assert summary["requests_per_s"] == pytest.approx(100 / 0.208)
    with pytest.raises(ValueError):
        latency_summary([])
    with pytest.raises(ValueError):
        latency_summary([0.1, math.nan])


# --- safe release -------------------------------------------------------------------------------

GOOD = {"requests": 1000, "errors": 2, "p95_latency_ms": 5.0, "champion_p95_latency_ms": 4.0,
        "score_psi": 0.03}


@pytest.mark.parametrize("change, decision", [
    ({}, "promote"),
    ({"requests": 399, "errors": 300}, "wait"),
    ({"errors": 11}, "rollback"),
    ({"errors": 10}, "promote"),                   # exactly at the limit passes
    ({"p95_latency_ms": 6.1}, "rollback"),
    ({"p95_latency_ms": 6.0}, "promote"),
    ({"score_psi": 0.11}, "rollback"),
])
def test_canary_decision(change, decision):
    assert canary_decision({**GOOD, **change}) == decision


def test_canary_decision_refuses_bad_metrics():
    with pytest.raises(ValueError, match="score_psi"):
        canary_decision({k: v for k, v in GOOD.items() if k != "score_psi"})
    with pytest.raises(ValueError, match="errors"):
        canary_decision({**GOOD, "errors": math.nan})
    with pytest.raises(ValueError, match="min_requests"):
        CanaryPolicy(min_requests=0)


def test_canary_split_is_deterministic_and_near_the_share():
    ids = np.arange(1, 20_001)
    mask = canary_split(ids, 0.2)
    assert abs(mask.mean() - 0.2) < 0.01
    assert np.array_equal(mask, canary_split(ids[::-1], 0.2)[::-1])  # per id, not per position
    assert not canary_split(ids, 0.0).any() and canary_split(ids, 1.0).all()


def test_shadow_report():
    report = shadow_report([0.1, 0.3, 0.5, 0.05], [0.1, 0.1, 0.5, 0.25], threshold=0.2)
    assert report["decision_agreement"] == 0.5 and report["requests"] == 4
    assert report["mean_difference"] == pytest.approx(0.0)
    with pytest.raises(ValueError):
        shadow_report([0.1], [0.1, 0.2])


@pytest.fixture(scope="module")
def story():
    return release_story()


def test_replay_promotes_the_retrained_and_rolls_back_the_unit_bug(story):
    _, good = replay_canary(story.champion, story.challengers["retrained"], story.live)
    table, bad = replay_canary(story.champion, story.challengers["unit_bug"], story.live)
    assert good.decision == "promote" and bad.decision == "rollback"
    assert (table["decision"].iloc[:-1] == "wait").all()          # waited for enough traffic
    assert table["score_psi"].iloc[-1] > 1.0
    cost = release_cost(story.champion, story.challengers["unit_bug"], story.live,
                        canary_until=bad.month, promoted=False)
    assert cost["without_canary"]["reviews"] > 5 * cost["with_canary"]["reviews"] > 0


def test_the_canary_cannot_see_a_subtly_worse_model(story):
    # Its scores look like the champion's, so the canary's metrics promote it; the outcomes,
    # known later, show that it approves more defaults.
    model = story.challengers["partial_bug"]
    _, outcome = replay_canary(story.champion, model, story.live)
    assert outcome.decision == "promote"
    cost = release_cost(story.champion, model, story.live, canary_until=outcome.month,
                        promoted=True)
    assert cost["without_canary"]["missed_defaults"] > 0


def test_a_crashing_challenger_is_rolled_back(story):
    class Crashes:
        def predict_proba(self, frame):
            raise RuntimeError("boom")

    table, outcome = replay_canary(story.champion, Crashes(), story.live)
    assert outcome.decision == "rollback" and table["errors"].iloc[-1] > 0


# --- the exercise "promote or roll back?" ---------------------------------------------------------

def _decide(metrics, policy):
    if metrics["requests"] < policy["min_requests"]:
        return "wait"
    if metrics["errors"] / metrics["requests"] > policy["max_error_rate"]:
        return "rollback"
    if metrics["p95_latency_ms"] / metrics["champion_p95_latency_ms"] > policy["max_latency_ratio"]:
        return "rollback"
    return "rollback" if metrics["score_psi"] > policy["max_score_psi"] else "promote"


STRICT = {"min_requests": 1000, "max_error_rate": 0.001, "max_latency_ratio": 1.1,
          "max_score_psi": 0.05}


def test_exercise_decide_solution_passes():
    from mlecourse.exercises.deployment import check_decide

    check_decide(_decide)
    check_decide(_decide, STRICT)


@pytest.mark.parametrize("wrong, words", [
    # the error count compared with the rate limit
    (lambda m, p: "rollback" if m["requests"] >= p["min_requests"] and m["errors"]
     > p["max_error_rate"] else _decide(m, p), "error *rate*"),
    # absolute latency instead of the ratio
    (lambda m, p: "rollback" if m["requests"] >= p["min_requests"] and m["p95_latency_ms"]
     > p["max_latency_ratio"] else _decide(m, p), "ratio to the champion"),
    # the latency ratio upside down
    (lambda m, p: _decide({**m, "p95_latency_ms": m["champion_p95_latency_ms"],
                           "champion_p95_latency_ms": m["p95_latency_ms"]}, p),
     "compare the ratio"),
    # >= instead of > at the limits
    (lambda m, p: "rollback" if m["requests"] >= p["min_requests"] and m["score_psi"]
     >= p["max_score_psi"] else _decide(m, p), "use > for the limits"),
    # traffic checked last: the shifted scores win
    (lambda m, p: "rollback" if m["score_psi"] > p["max_score_psi"] else _decide(m, p),
     "checks the traffic first"),
    # never waits
    (lambda m, p: _decide({**m, "requests": max(m["requests"], p["min_requests"])}, p),
     "too little traffic"),
    # not written yet
    (lambda m, p: (_ for _ in ()).throw(NotImplementedError()), "not written yet"),
    # a lying object
    (lambda m, p: type("Liar", (), {"__eq__": lambda s, o: True})(), "should be text"),
    # upper case
    (lambda m, p: _decide(m, p).upper(), "lower case"),
])
def test_exercise_decide_wrong_answers_are_explained(wrong, words):
    from mlecourse.exercises.common import CheckFailed
    from mlecourse.exercises.deployment import check_decide

    with pytest.raises(CheckFailed, match=words.replace("*", r"\*")):
        check_decide(wrong)


def test_exercise_decide_must_read_the_policy():
    from mlecourse.exercises.common import CheckFailed
    from mlecourse.exercises.deployment import POLICY, check_decide

    def hard_coded(metrics, policy):
        return _decide(metrics, POLICY)

    check_decide(hard_coded)                       # right for the stated numbers ...
    with pytest.raises(CheckFailed, match="policy"):
        check_decide(hard_coded, STRICT)           # ... but not for another policy


def test_exercise_decide_refuses_the_package_function():
    from mlecourse.exercises.common import CheckFailed
    from mlecourse.exercises.deployment import check_decide

    def wrapped(metrics, policy):
        return canary_decision(metrics, CanaryPolicy(**policy))

    with pytest.raises(CheckFailed, match="package's own"):
        check_decide(wrapped)


def _metrics(log):
    from mlecourse.principles.drift import psi

    canary, champion = log[log["arm"] == "canary"], log[log["arm"] == "champion"]
    return {"requests": len(canary), "errors": int(canary["error"].sum()),
            "p95_latency_ms": float(np.percentile(canary["latency_ms"], 95)),
            "champion_p95_latency_ms": float(np.percentile(champion["latency_ms"], 95)),
            "score_psi": psi(champion["score"].dropna(), canary["score"].dropna())}


def test_exercise_metrics_solution_passes():
    from mlecourse.exercises.deployment import check_canary_metrics

    check_canary_metrics(_metrics)
    check_canary_metrics(_metrics, seed=1)


@pytest.mark.parametrize("wrong, words", [
    (lambda log: {**_metrics(log), "errors": int(log["error"].sum())}, "errors of"),
    (lambda log: {**_metrics(log), "requests": len(log)}, "requests of"),
    (lambda log: {**_metrics(log), "p95_latency_ms":
                  float(log[log["arm"] == "canary"]["latency_ms"].mean())}, "not the mean"),
    (lambda log: {**_metrics(log), "score_psi": _metrics(log)["score_psi"] * 1.1}, "score_psi"),
    (lambda log: {k: v for k, v in _metrics(log).items() if k != "score_psi"}, "lacks the key"),
    (lambda log: {**_metrics(log), "score_psi": math.nan}, "NaN"),
])
def test_exercise_metrics_wrong_answers_are_explained(wrong, words):
    from mlecourse.exercises.common import CheckFailed
    from mlecourse.exercises.deployment import check_canary_metrics

    with pytest.raises(CheckFailed, match=words):
        check_canary_metrics(wrong)


def test_exercise_logs_lead_to_the_expected_decisions():
    from mlecourse.exercises.deployment import POLICY, request_log

    decided = {k: _decide(_metrics(request_log(k)), POLICY)
               for k in ("good", "slower", "shifted", "little traffic", "champion errors")}
    assert decided == {"good": "promote", "slower": "rollback", "shifted": "rollback",
                       "little traffic": "wait", "champion errors": "promote"}


def test_a_failed_reload_keeps_serving_the_current_version(models, applications):
    versions = {"champion": "1"}

    def loader(alias):
        if versions.get(alias) is None:
            raise ValueError(f"the registry has no alias {alias!r}")
        return LoadedModel(models[versions[alias]], versions[alias], alias)

    with TestClient(create_app(loader)) as c:
        del versions["champion"]
        response = c.post("/reload")
        assert response.status_code == 409 and "still serving version 1" in \
            response.json()["message"]
        assert c.post("/predict", json={"applications": applications}).json()[
            "model_version"] == "1"


def test_a_failing_shadow_never_fails_the_request(models, applications):
    class Broken:
        def predict_proba(self, frame):
            raise RuntimeError("shadow down")

    records = []
    table = {"champion": LoadedModel(models["1"], "1", "champion"),
             "challenger": LoadedModel(Broken(), "9", "challenger")}
    app = create_app(table.__getitem__, shadow_alias="challenger", on_prediction=records.append)
    with TestClient(app) as c:
        assert c.post("/predict", json={"applications": applications}).status_code == 200
    assert len(records) == len(applications)
    assert all(r["shadow_version"] == "9" and r["shadow_score"] is None for r in records)
