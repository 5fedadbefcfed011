"""The model service: the registry's champion behind the course's FastAPI app.

    uvicorn serve:app --port 8000

Endpoints /predict, /health, /ready and /reload come from the course's serving module; this
file adds Prometheus metrics at /metrics (counts by decision, the score distribution) and
writes every prediction to the prediction log. alerts.yml holds the alert rules on these
metrics.
"""

from datetime import datetime, timezone
from pathlib import Path

import yaml
from prometheus_client import Counter, Histogram, make_asgi_app

from mlecourse.principles.monitoring import PredictionLog
from mlecourse.principles.serving import create_app, registry_loader
from mlecourse.principles.versioning import configure_mlflow_offline
from score import decide

THRESHOLD = yaml.safe_load(Path("params.yaml").read_text())["gate"]["threshold"]

PREDICTIONS = Counter("loan_predictions_total", "Applications scored", ["decision", "version"])
SCORES = Histogram("loan_default_score", "Predicted default probability",
                   buckets=[0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0])


def on_prediction(record: dict) -> None:
    """Count the prediction and append it to the prediction log (decision: the lender's
    policy, as in score.py)."""
    decision = decide([record["score"]], THRESHOLD)[0]
    PREDICTIONS.labels(decision, record["version"]).inc()
    SCORES.observe(record["score"])
    Path("logs").mkdir(exist_ok=True)
    with PredictionLog(Path("logs") / "predictions.db") as log:
        log.log_predictions({
            "request_id": record["request_id"], "model_version": record["version"],
            "ts": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
            **record["features"], "score": record["score"], "decision": decision,
            "holdout": 0, "latency_ms": 0.0, "status": "ok", "source": "serve.py"})


def build_app():
    """The app (it loads the champion when the server starts)."""
    configure_mlflow_offline("registry", experiment="loan-default")
    app = create_app(registry_loader("loan-default"), alias="champion",
                     on_prediction=on_prediction, threshold=THRESHOLD)
    app.mount("/metrics", make_asgi_app())
    return app


app = build_app()
