"""Stage 2 of the pipeline (dvc.yaml): train, evaluate, register; promote only through the gate.

    python train.py

Reads the snapshot prepare.py wrote (running prepare.py first when it is missing), checks it
against the schema, trains with the seed from params.yaml, and records the run in MLflow
(parameters, metrics, the data fingerprint, the model). The model becomes a new version of
``loan-default`` in the registry (registry/mlflow.db); the alias ``champion``, which scoring
and the service load, moves to it only when its test AUC passes the gate.
"""

import json
from pathlib import Path

import yaml
from sklearn.metrics import roc_auc_score

import prepare
from loans import model as loan_model
from loans.schema import validate
from mlecourse.principles.versioning import (configure_mlflow_offline, read_snapshot,
                                             sklearn_pip_requirements)

MODEL_NAME = "loan-default"


def split_by_time(df, test_months: int):
    """Train on the earlier months, test on the last ``test_months`` (as it will be used)."""
    months = sorted(df["month"].unique())
    cut = months[-test_months]
    return df[df["month"] < cut], df[df["month"] >= cut]


def main() -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())
    if not (prepare.DATA / "applications.parquet").exists():
        prepare.main()
    df, manifest = read_snapshot(prepare.DATA, "applications")  # refuses a changed file
    df = validate(df, training=True)
    train, test = split_by_time(df, params["train"]["test_months"])
    model = loan_model.fit(train, C=params["train"]["C"], seed=params["train"]["seed"])
    auc = float(roc_auc_score(test["defaulted"], loan_model.scores(model, test)))
    metrics = {"test_auc": round(auc, 4), "train_rows": len(train), "test_rows": len(test)}

    configure_mlflow_offline("registry", experiment=MODEL_NAME)
    import mlflow
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    sample = test[loan_model.INPUTS].head(5)
    with mlflow.start_run(run_name="train"):
        mlflow.log_params({**params["train"], **{f"data_{k}": v for k, v in
                                                 params["data"].items()}})
        mlflow.log_metrics(metrics)
        mlflow.set_tag("data_fingerprint", manifest.fingerprint)
        info = mlflow.sklearn.log_model(model, name="model",
                                        registered_model_name=MODEL_NAME,
                                        serialization_format="cloudpickle",
                                        pip_requirements=sklearn_pip_requirements(),
                                        signature=infer_signature(
                                            sample, loan_model.scores(model, sample)))
    version = info.registered_model_version
    promoted = auc >= params["gate"]["min_auc"]
    if promoted:
        MlflowClient().set_registered_model_alias(MODEL_NAME, "champion", version)
    Path("metrics.json").write_text(json.dumps({**metrics, "version": str(version),
                                                "promoted": promoted}, indent=2) + "\n")
    print(f"{MODEL_NAME} version {version}: test AUC {auc:.3f}, "
          f"{'now champion' if promoted else 'below the gate, champion unchanged'}")


if __name__ == "__main__":
    main()
