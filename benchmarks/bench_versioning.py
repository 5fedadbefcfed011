"""Speed of data fingerprints and of a registry round trip on SQLite (versioning, issue 5)."""

import tempfile
import time

from mlecourse.example.simulate import FEATURES, simulate_loans
from mlecourse.principles.versioning import fingerprint, mlflow_offline, sklearn_pip_requirements


def cases():
    df = simulate_loans(months=50, rows_per_month=20_000, seed=0)  # 1,000,000 rows x 10 columns
    for order_sensitive in (True, False):
        start = time.perf_counter()
        fingerprint(df, order_sensitive=order_sensitive)
        yield (f"fingerprint {len(df):,} rows x {df.shape[1]} columns "
               f"(order_sensitive={order_sensitive})", time.perf_counter() - start, 2.0)

    from mlecourse.example.model import train

    model = train(df.head(20_000))
    x = df[FEATURES].head(1_000)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        start = time.perf_counter()
        with mlflow_offline(tmp):
            import mlflow

            setup = time.perf_counter() - start
            yield ("MLflow offline set-up (import + new SQLite database)", setup, 8.0)
            start = time.perf_counter()
            client = mlflow.MlflowClient()
            client.create_registered_model("bench")
            with mlflow.start_run() as run:
                mlflow.log_params({"C": 1.0})
                info = mlflow.sklearn.log_model(model, name="model",
                                                pip_requirements=sklearn_pip_requirements())
            client.create_model_version("bench", source=info.model_uri, run_id=run.info.run_id,
                                        model_id=info.model_id)
            client.set_registered_model_alias("bench", "champion", "1")
            loaded = mlflow.sklearn.load_model("models:/bench@champion")
            loaded.predict_proba(x)
            yield ("MLflow registry round trip (log + register + alias + load)",
                   time.perf_counter() - start, 6.0)
