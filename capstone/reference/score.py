"""Score new loan applications with the registry's champion.

    python score.py applications.csv scores.csv

Loads ``models:/loan-default@champion`` (never a hand-copied file), checks the batch against
the schema, scores it with the same feature code as training, writes ``application_id``,
``score``, ``decision`` (approve or decline) and the model version, and appends every
prediction to the prediction log (logs/predictions.db) that monitoring reads.
"""

import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import yaml

from loans import model as loan_model
from loans.schema import validate
from mlecourse.principles.monitoring import PredictionLog
from mlecourse.principles.versioning import configure_mlflow_offline

MODEL_URI = "models:/loan-default@champion"


def decide(scores, threshold: float) -> list:
    """The lender's policy: decline at or above the threshold (params.yaml), else approve.

    These are the decisions the prediction log records (and monitoring reads). The course's
    serving app words the same cut as "review" in its HTTP answer.
    """
    return ["decline" if s >= threshold else "approve" for s in scores]


def main(source: str, target: str) -> None:
    threshold = yaml.safe_load(Path("params.yaml").read_text())["gate"]["threshold"]
    configure_mlflow_offline("registry", experiment="loan-default")
    import mlflow
    from mlflow import MlflowClient

    version = MlflowClient().get_model_version_by_alias("loan-default", "champion").version
    model = mlflow.sklearn.load_model(MODEL_URI)
    start = time.perf_counter()
    batch = validate(pd.read_csv(source))
    batch["score"] = loan_model.scores(model, batch)
    batch["decision"] = decide(batch["score"], threshold)
    batch["model_version"] = str(version)
    batch[["application_id", "score", "decision", "model_version"]].to_csv(target, index=False)

    per_row_ms = 1000 * (time.perf_counter() - start) / max(len(batch), 1)
    records = batch.assign(request_id=[uuid.uuid4().hex for _ in range(len(batch))],
                           ts=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                           holdout=0, latency_ms=per_row_ms, status="ok", source="score.py")
    Path("logs").mkdir(exist_ok=True)
    with PredictionLog(Path("logs") / "predictions.db") as log:
        log.log_predictions(records)
    print(f"scored {len(batch)} applications with {MODEL_URI} (version {version})")


if __name__ == "__main__":
    main(*sys.argv[1:3])
