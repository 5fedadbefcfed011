"""Stage 1 of the pipeline (dvc.yaml): export the training data as a versioned snapshot.

    python prepare.py

Writes data/applications.parquet and its manifest (row count, schema, time range and the
content fingerprint) with the course's versioning helpers. DVC hashes the output (dvc.lock).
"""

from pathlib import Path

import yaml

from mlecourse.example.simulate import simulate_loans  # stands in for the warehouse export
from mlecourse.principles.versioning import write_snapshot

DATA = Path("data")


def main() -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["data"]
    df = simulate_loans(months=params["months"], rows_per_month=params["rows_per_month"],
                        seed=params["seed"])
    manifest = write_snapshot(df, DATA, "applications")
    print(f"wrote {manifest.rows} rows, fingerprint {manifest.fingerprint[:12]}")


if __name__ == "__main__":
    main()
