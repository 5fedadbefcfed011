"""A small, real model service: the champion behind FastAPI, served by uvicorn on loopback.

The parts, each usable on its own::

    from mlecourse.principles.serving import create_app, registry_loader, serve_in_thread
    loader = registry_loader("loan-default")              # reads the MLflow registry by alias
    app = create_app(loader, alias="champion")
    with serve_in_thread(app) as server:                   # uvicorn on 127.0.0.1, a free port
        with server.client() as http:                      # httpx, no proxies
            http.post("/predict", json={"applications": [application]}).json()

Request model
    :func:`application_model` builds the pydantic model of one application from the course's
    pandera schema (:func:`mlecourse.principles.checks.loan_schema`): the model inputs
    (``FEATURES``) with the schema's types, ranges and allowed categories. Serving and training
    therefore agree on what a valid input is by construction; a field outside the schema gets
    HTTP 422 with a message naming it. Unknown fields are refused too (a misspelt field would
    otherwise be dropped silently).

Endpoints
    ``POST /predict`` (``{"applications": [...]}``, one or many), ``GET /health`` (the process
    is up), ``GET /ready`` (a model is loaded: name, alias, version), ``POST /reload`` (look the
    alias up again: after a promotion or a rollback in the registry; if that fails, HTTP 409 and
    the loaded version keeps serving). Every response carries the
    model version in the ``X-Model-Version`` header, and the JSON of ``/predict`` and ``/ready``
    carries it too.

One feature path
    :func:`to_frame` and :func:`score` are the only way from applications to scores, used by the
    endpoint *and* by the batch job :func:`score_batch` / :func:`score_snapshot`: no
    training/serving skew by construction.

Prediction hook
    ``create_app(..., on_prediction=callback)`` calls ``callback(record)`` once per scored
    application, before the response is sent, with a plain dict: ``request_id``, ``model``,
    ``alias``, ``version``, ``application_id`` (or None), ``features`` (dict), ``score``,
    ``decision`` and, when a shadow model runs, ``shadow_version`` and ``shadow_score`` (None
    if the shadow failed; a failing shadow never fails the request). A
    monitoring log can append these records; an exception in the callback is logged and never
    fails the request. A ``list`` works as a sink: pass ``records.append``.

Server
    :func:`serve_in_thread` binds a socket on 127.0.0.1 (port 0: the system picks a free port),
    runs ``uvicorn.Server`` in a background thread and, on leaving the ``with`` block, also
    after an exception, sets ``should_exit``, waits for the thread and closes the socket, so
    no server or port outlives the block.
"""

from __future__ import annotations

import contextlib
import logging
import math
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Literal, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from mlecourse.example.simulate import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES

__all__ = [
    "MODEL_NAME",
    "MAX_BATCH",
    "VERSION_HEADER",
    "LoadedModel",
    "application_model",
    "schema_bounds",
    "to_frame",
    "score",
    "decisions",
    "register_version",
    "registry_loader",
    "ModelService",
    "create_app",
    "RunningServer",
    "serve_in_thread",
    "port_is_free",
    "score_batch",
    "score_snapshot",
    "latency_summary",
]

#: The registered model's name (as in the versioning notebook).
MODEL_NAME = "loan-default"
#: Most applications one request may carry (bigger batches belong to the batch job).
MAX_BATCH = 1_000
#: Response header that names the model version behind every response.
VERSION_HEADER = "X-Model-Version"

logger = logging.getLogger(__name__)


# --- the request model, from the pandera schema -------------------------------------------------

def schema_bounds(schema=None) -> dict:
    """Per model input: ``{"type": float|int|str, "min", "max", "allowed"}`` from the schema.

    Reads the pandera checks ``in_range`` (``min``/``max``) and ``isin`` (``allowed``) of
    :func:`~mlecourse.principles.checks.loan_schema` (or ``schema``); batch-level statistical
    checks (a mean income band) do not apply to one application and are left out.
    """
    if schema is None:
        from mlecourse.principles.checks import loan_schema

        schema = loan_schema()
    bounds = {}
    for name in FEATURES:
        if name not in schema.columns:
            raise ValueError(f"the schema has no column {name!r}, a model input")
        column = schema.columns[name]
        dtype = str(column.dtype)
        kind = float if dtype.startswith("float") else int if dtype.startswith("int") else str
        spec = {"type": kind, "min": None, "max": None, "allowed": None}
        for check in column.checks:
            stats = check.statistics or {}
            if check.name == "in_range":
                spec["min"], spec["max"] = stats["min_value"], stats["max_value"]
            elif check.name == "isin":
                spec["allowed"] = tuple(stats["allowed_values"])
        bounds[name] = spec
    return bounds


_DEFAULT_MODEL = []  # the request model of the course's schema, built once


def application_model(schema=None):
    """The pydantic model of one loan application, derived from the pandera schema.

    Numbers get the schema's range (``ge``/``le``, no NaN or infinity), categories and the
    term become ``Literal`` types of the allowed values; every model input is required, an
    optional positive ``application_id`` is echoed back, any other field is refused. Values
    are not coerced from text (``"12"`` is not a term): ``strict`` mode.
    """
    from pydantic import ConfigDict, Field, create_model

    if schema is None and _DEFAULT_MODEL:
        return _DEFAULT_MODEL[0]
    fields = {}
    for name, spec in schema_bounds(schema).items():
        if spec["allowed"] is not None:
            annotation = Literal[spec["allowed"]]
            fields[name] = (annotation, Field(...))
        else:
            fields[name] = (spec["type"], Field(..., ge=spec["min"], le=spec["max"],
                                                allow_inf_nan=False))
    fields["application_id"] = (Optional[int], Field(None, gt=0))
    model = create_model("Application", __config__=ConfigDict(extra="forbid", strict=True),
                         **fields)
    model.__doc__ = "One loan application: the model inputs, as the pandera schema allows them."
    if schema is None:
        _DEFAULT_MODEL.append(model)
    return model


# --- one feature path -------------------------------------------------------------------------

def to_frame(applications: Sequence[Mapping]) -> pd.DataFrame:
    """The model-input frame of a list of applications (dicts): FEATURES in order, fixed dtypes.

    The endpoint and the batch job both build their input here, so a request and a snapshot
    row with the same values give the same frame (and the same score).
    """
    if isinstance(applications, pd.DataFrame):
        missing = [c for c in FEATURES if c not in applications.columns]
        if missing:
            raise ValueError(f"the batch lacks the model input column(s): {', '.join(missing)}")
        return applications[FEATURES].reset_index(drop=True).astype(_DTYPES)
    rows = list(applications)
    for i, row in enumerate(rows):
        missing = [c for c in FEATURES if c not in row]
        if missing:
            raise ValueError(f"application {i} lacks the field(s): {', '.join(missing)}")
    # Column by column into typed arrays: several times faster than a frame from a list of
    # dicts followed by astype, which matters for one application per request.
    columns = {}
    for column, dtype in _DTYPES.items():
        try:
            columns[column] = np.array([row[column] for row in rows], dtype=dtype)
        except (TypeError, ValueError):
            raise ValueError(f"column {column!r} holds a value that is not {dtype}") from None
    return pd.DataFrame(columns, columns=FEATURES)


_DTYPES = {**{c: "float64" for c in NUMERIC_FEATURES}, "term_months": "int64",
           **{c: "object" for c in CATEGORICAL_FEATURES}}


def score(model, applications) -> np.ndarray:
    """Predicted default probabilities for applications (dicts or a frame), via :func:`to_frame`."""
    frame = to_frame(applications)
    if len(frame) == 0:
        return np.empty(0)
    return np.asarray(model.predict_proba(frame)[:, 1], dtype=float)


def decisions(scores, threshold: Optional[float] = None) -> list[str]:
    """``"review"`` where the risk is at least ``threshold`` (default: the lender's), else
    ``"approve"``."""
    if threshold is None:
        from mlecourse.principles.checks import DECISION_THRESHOLD as threshold
    return ["review" if s >= threshold else "approve" for s in np.asarray(scores, dtype=float)]


# --- models from the registry -----------------------------------------------------------------

@dataclass(frozen=True)
class LoadedModel:
    """A model with the registry coordinates it was loaded from."""

    model: object
    version: str
    alias: str
    name: str = MODEL_NAME


def register_version(model, sample: pd.DataFrame, *, name: str = MODEL_NAME,
                     alias: Optional[str] = None, tags: Optional[Mapping] = None) -> str:
    """Log ``model`` in a new MLflow run, register it as a new version of ``name``; return the
    version number (text). ``alias`` (e.g. ``"champion"``) is pointed at it when given.

    ``sample`` (a few rows of applications) gives the model's signature. MLflow must already be
    pointed somewhere, e.g. by :func:`~mlecourse.principles.versioning.configure_mlflow_offline`.
    The model is stored with cloudpickle, not MLflow's default skops format: skops is the safer
    choice for files from strangers, but importing it scans all of scikit-learn (seconds); this
    registry is our own.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    from mlecourse.principles.versioning import no_distribution_index, sklearn_pip_requirements

    client = MlflowClient()
    if not client.search_registered_models(filter_string=f"name='{name}'"):
        client.create_registered_model(name)
    inputs = to_frame(sample.head(5))
    with mlflow.start_run(run_name=f"{name} candidate") as run, no_distribution_index():
        if tags:
            mlflow.set_tags(dict(tags))
        info = mlflow.sklearn.log_model(
            model, name="model", pip_requirements=sklearn_pip_requirements(),
            signature=infer_signature(inputs, score(model, inputs)),
            serialization_format="cloudpickle")
    version = client.create_model_version(name, source=info.model_uri, run_id=run.info.run_id,
                                          model_id=info.model_id)
    if alias is not None:
        client.set_registered_model_alias(name, alias, version.version)
    return str(version.version)


def registry_loader(name: str = MODEL_NAME, tracking_uri: Optional[str] = None
                    ) -> Callable[[str], LoadedModel]:
    """A function ``alias -> LoadedModel`` that reads the MLflow model registry.

    The alias is resolved to a version number first and that exact version is loaded
    (``models:/<name>/<version>``), so the version reported is the version that scores, even
    if the alias moves in between. Loaded versions are cached: a rollback to a version loaded
    before is instant. ``tracking_uri`` defaults to MLflow's current one (see
    :func:`~mlecourse.principles.versioning.configure_mlflow_offline`).
    """
    cache: dict = {}
    lock = threading.Lock()

    def load(alias: str) -> LoadedModel:
        import mlflow
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        try:
            version = str(client.get_model_version_by_alias(name, alias).version)
        except Exception as exc:  # MlflowException: unknown model or alias
            raise ValueError(f"the registry has no alias {alias!r} for model {name!r}: "
                             f"{exc}") from None
        with lock:
            if version not in cache:
                cache[version] = mlflow.sklearn.load_model(f"models:/{name}/{version}")
        return LoadedModel(cache[version], version, alias, name)

    return load


# --- the service ------------------------------------------------------------------------------

class ModelService:
    """What the app serves: the model behind ``alias`` (and an optional shadow model).

    Thread-safe: ``reload()`` swaps the loaded model in one assignment, so a request scores
    with one version from start to end.
    """

    def __init__(self, loader: Callable[[str], LoadedModel], alias: str = "champion",
                 shadow_alias: Optional[str] = None):
        self.loader, self.alias, self.shadow_alias = loader, alias, shadow_alias
        self.current: Optional[LoadedModel] = None
        self.shadow: Optional[LoadedModel] = None
        self._lock = threading.Lock()

    def reload(self) -> dict:
        """Look the alias(es) up again; return ``{"previous": v, "version": v}``."""
        with self._lock:
            previous = self.current.version if self.current else None
            self.current = self.loader(self.alias)
            if self.shadow_alias:
                self.shadow = self.loader(self.shadow_alias)
            return {"previous": previous, "version": self.current.version}

    @property
    def version(self) -> Optional[str]:
        return self.current.version if self.current else None


def _error_message(errors: list) -> str:
    """One line per validation error, naming the field: ``applications[0].income: ...``."""
    lines = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        where = ""
        for part in loc:
            where += f"[{part}]" if part.isdigit() else (f".{part}" if where else part)
        lines.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(lines)


def create_app(loader: Callable[[str], LoadedModel], *, alias: str = "champion",
               shadow_alias: Optional[str] = None,
               on_prediction: Optional[Callable[[dict], None]] = None,
               schema=None, threshold: Optional[float] = None):
    """The FastAPI app serving the model behind ``alias`` (see the module docstring).

    ``loader`` maps an alias to a :class:`LoadedModel` (:func:`registry_loader` for the MLflow
    registry); it is called at start-up, so a missing alias stops the server from starting.
    ``shadow_alias`` names a model that scores every request too; its scores go to
    ``on_prediction`` only, never into a response. ``on_prediction(record)`` is the hook for a
    prediction log (record fields in the module docstring). ``schema``: a pandera schema to
    derive the request model from (default: the course's).
    """
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, Field

    Application = application_model(schema)

    class PredictRequest(BaseModel):
        """One or more applications to score."""

        model_config = {"extra": "forbid"}
        applications: list[Application] = Field(..., min_length=1, max_length=MAX_BATCH)

    service = ModelService(loader, alias, shadow_alias)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        service.reload()
        yield

    app = FastAPI(title="loan-default model service", lifespan=lifespan)
    app.state.service = service

    @app.middleware("http")
    async def version_header(request: Request, call_next):
        response = await call_next(request)
        response.headers[VERSION_HEADER] = str(service.version or "none")
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")}
                  for e in exc.errors()]
        return JSONResponse(status_code=422, content={
            "message": _error_message(errors), "detail": errors,
            "model_version": service.version})

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/ready")
    def ready():
        current = service.current
        if current is None:
            return JSONResponse(status_code=503, content={"ready": False, "model_version": None})
        return {"ready": True, "model": current.name, "alias": current.alias,
                "model_version": current.version,
                "shadow_version": service.shadow.version if service.shadow else None}

    @app.post("/reload")
    def reload():
        try:
            return service.reload()
        except ValueError as err:  # e.g. the alias was deleted: keep serving what we have
            return JSONResponse(status_code=409, content={
                "message": f"reload failed, still serving version {service.version}: {err}",
                "model_version": service.version})

    def predict(body) -> dict:
        current, shadow = service.current, service.shadow   # one version per request
        rows = [a.model_dump() for a in body.applications]
        scores = score(current.model, rows)
        labels = decisions(scores, threshold)
        predictions = [{"application_id": r["application_id"], "default_probability": float(s),
                        "decision": d} for r, s, d in zip(rows, scores, labels)]
        if on_prediction is not None:
            shadow_scores = _shadow_scores(shadow, rows)
            _emit(on_prediction, rows, scores, labels, current, shadow, shadow_scores)
        return {"model": current.name, "alias": current.alias, "model_version": current.version,
                "predictions": predictions}

    # The request class is local to this factory, so it is given to FastAPI as an object (a
    # string annotation, as `from __future__ import annotations` makes it, would not resolve).
    predict.__annotations__["body"] = PredictRequest
    app.post("/predict")(predict)
    return app


def _shadow_scores(shadow, rows):
    """The shadow model's scores, or None: a failing shadow never fails the request."""
    if shadow is None:
        return None
    try:
        return score(shadow.model, rows)
    except Exception:
        logger.exception("the shadow model %s failed", shadow.version)
        return None


def _emit(on_prediction, rows, scores, labels, current, shadow, shadow_scores) -> None:
    """Call the prediction hook once per application; its failures never fail the request."""
    request_id = uuid.uuid4().hex
    for i, row in enumerate(rows):
        record = {"request_id": request_id, "model": current.name, "alias": current.alias,
                  "version": current.version, "application_id": row["application_id"],
                  "features": {c: row[c] for c in FEATURES}, "score": float(scores[i]),
                  "decision": labels[i]}
        if shadow is not None:
            record.update(shadow_version=shadow.version, shadow_score=(
                None if shadow_scores is None else float(shadow_scores[i])))
        try:
            on_prediction(record)
        except Exception:  # monitoring must never take serving down
            logger.exception("on_prediction hook failed")


# --- a real server on loopback ----------------------------------------------------------------

@dataclass
class RunningServer:
    """A uvicorn server running in a background thread; ``url`` is ``http://127.0.0.1:<port>``."""

    host: str
    port: int
    server: object = field(repr=False)
    thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def client(self, timeout: float = 10.0):
        """An ``httpx.Client`` for this server (ignores proxy settings: loopback only)."""
        import httpx

        return httpx.Client(base_url=self.url, timeout=timeout, trust_env=False)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a new socket can bind ``host:port`` (no server holds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def serve_in_thread(app, *, host: str = "127.0.0.1", port: int = 0,
                    start_timeout: float = 20.0, stop_timeout: float = 10.0
                    ) -> Iterator[RunningServer]:
    """Run ``app`` with uvicorn on ``host:port`` in a background thread for a ``with`` block.

    ``port=0`` lets the system pick a free port (we bind the socket ourselves, so no other
    process can take it between choosing and serving). The block starts once the server
    accepts requests (a start-up failure, such as a missing model alias, raises
    ``RuntimeError``). On exit, normal or by an exception, the server is told to stop
    (``should_exit``), the thread is joined and the socket closed: the port is free again.
    """
    import uvicorn

    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # accepted connections inherit the listener's proto. With proto 0 every response waited
    # for the client's delayed ACK (about 40 ms per request on Linux loopback).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ValueError(f"serve_in_thread: cannot bind {host}:{port}: {exc}") from None
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)

    def run():
        try:
            server.run(sockets=[sock])
        except SystemExit:  # uvicorn exits when the app's start-up fails; reported below
            pass

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"the server on {host}:{port} did not start (see the log "
                                   "above: the app's start-up failed)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server on {host}:{port} did not start within "
                                   f"{start_timeout:g} s")
            time.sleep(0.01)
        yield RunningServer(host, port, server, thread)
    finally:
        server.should_exit = True
        thread.join(stop_timeout)
        if thread.is_alive():  # a request that hangs: stop waiting for it
            server.force_exit = True
            thread.join(stop_timeout)
        sock.close()


# --- the batch twin of the endpoint -----------------------------------------------------------

def score_batch(loaded: LoadedModel, batch: pd.DataFrame, *,
                threshold: Optional[float] = None) -> pd.DataFrame:
    """Score a batch of applications with the endpoint's feature path; one row per application.

    Columns: ``application_id`` and ``month`` (when the batch has them), ``default_probability``,
    ``decision``, ``model``, ``model_version``.
    """
    if not isinstance(batch, pd.DataFrame):
        raise TypeError(f"score_batch expects a pandas DataFrame, got {type(batch).__name__}")
    scores = score(loaded.model, batch)
    out = batch[[c for c in ("application_id", "month") if c in batch.columns]].reset_index(
        drop=True)
    return out.assign(default_probability=scores, decision=decisions(scores, threshold),
                      model=loaded.name, model_version=str(loaded.version))


def score_snapshot(loaded: LoadedModel, snapshot_dir, name: str, out_dir, *,
                   month: Optional[str] = None) -> tuple[pd.DataFrame, Path]:
    """The batch job: read a verified snapshot, score (one month of) it, write the predictions.

    The snapshot is read with :func:`~mlecourse.principles.versioning.read_snapshot` (its
    fingerprint checked); ``month`` (``"2025-01"`` or a date) keeps one month only. The
    predictions, with their model version, go to ``<out_dir>/<name>.predictions.parquet``.
    Returns the predictions and the file's path.
    """
    from mlecourse.principles.versioning import read_snapshot

    data, _ = read_snapshot(snapshot_dir, name)
    if month is not None:
        period = pd.Period(month, freq="M")
        data = data[data["month"].dt.to_period("M") == period]
        if data.empty:
            raise ValueError(f"snapshot {name!r} holds no applications in {period}")
    predictions = score_batch(loaded, data)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.predictions.parquet"
    predictions.to_parquet(path, index=False)
    return predictions, path


# --- latency ----------------------------------------------------------------------------------

def latency_summary(seconds: Sequence[float], rows_per_request: int = 1) -> dict:
    """p50/p95/p99 latency in milliseconds and throughput (requests and rows per second).

    ``seconds`` are the wall times of requests sent one after another, so throughput is
    ``requests / sum(seconds)``.
    """
    values = np.asarray(list(seconds), dtype=float)
    if values.size == 0:
        raise ValueError("latency_summary needs at least one timing")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("latency_summary: timings must be finite and non-negative")
    p50, p95, p99 = np.percentile(values * 1000.0, [50, 95, 99])
    total = float(values.sum())
    per_second = len(values) / total if total > 0 else math.inf
    return {"requests": int(values.size), "p50_ms": float(p50), "p95_ms": float(p95),
            "p99_ms": float(p99), "requests_per_s": float(per_second),
            "rows_per_s": float(per_second * rows_per_request)}
