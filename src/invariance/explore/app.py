"""The explorer's web application: a JSON API over the transform catalogue, and the page itself.

Uploaded files are read from the request body into memory and kept there, per session id, in a
small bounded store; nothing is written to disk and nothing is sent anywhere.
"""

from __future__ import annotations

import base64
import io
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.middleware.trustedhost import TrustedHostMiddleware

import invariance as A
from invariance.core.errors import ParameterError
from invariance.data import sample_scene
from invariance.explore.catalogue import catalogue, describe, editable_args, plain, transform_classes
from invariance.explore.inputs import (
    MAX_UPLOAD_BYTES,
    UploadError,
    decode_image,
    decode_mask,
    parse_boxes,
    parse_keypoints,
)
from invariance.explore.panels import (
    MAX_POLICY_CHARS,
    load_policy_text,
    policy_diff,
    policy_steps,
    profile_steps,
    thumbnail,
)
from invariance.explore.worker import DEFAULT_MEMORY_BYTES, DEFAULT_TIMEOUT_S, JobError, WorkerPool
from invariance.viz import draw_targets, png_bytes

STATIC = Path(__file__).parent / "static"
SAMPLE = "sample"
MAX_SESSIONS = 32
MAX_STEPS = 64
SEED_MAX = 2**32 - 1
#: Limits on the transform arguments a request may carry (every number must also be finite).
MAX_ARG_MAGNITUDE = 1e9
MAX_ARG_DEPTH = 6
MAX_ARG_ITEMS = 256
MAX_ARG_TEXT = 1000


def check_argument(value: Any, where: str, depth: int = 0) -> None:
    """Refuse a transform argument that is not small, plain and finite (``ValueError`` naming it)."""
    if depth > MAX_ARG_DEPTH:
        raise ValueError(f"{where}: nested deeper than {MAX_ARG_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{where}: {value!r} is not a finite number")
        if abs(value) > MAX_ARG_MAGNITUDE:
            raise ValueError(f"{where}: a number of magnitude above {MAX_ARG_MAGNITUDE:g} is not accepted")
        return
    if isinstance(value, str):
        if len(value) > MAX_ARG_TEXT:
            raise ValueError(f"{where}: text longer than {MAX_ARG_TEXT} characters")
        return
    if isinstance(value, (list, dict)):
        if len(value) > MAX_ARG_ITEMS:
            raise ValueError(f"{where}: more than {MAX_ARG_ITEMS} items")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            check_argument(item, f"{where}[{key!r:.40}]", depth + 1)
        return
    raise ValueError(f"{where}: {type(value).__name__} is not accepted")


@dataclass
class Session:
    """One user's inputs, in memory."""

    image: np.ndarray
    mask: np.ndarray | None = None
    bboxes: list[list[float]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    keypoints: list[list[float]] = field(default_factory=list)
    keypoint_labels: list[str] = field(default_factory=list)

    def summary(self, session_id: str) -> dict[str, Any]:
        return {
            "session": session_id,
            "width": int(self.image.shape[1]),
            "height": int(self.image.shape[0]),
            "mask": self.mask is not None,
            "bboxes": len(self.bboxes),
            "keypoints": len(self.keypoints),
        }


class Step(BaseModel):
    """One transform of the pipeline as the page sends it."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    args: dict[str, Any] = Field(default_factory=dict)
    p: float = Field(1.0, ge=0.0, le=1.0)

    @field_validator("args")
    @classmethod
    def _plain_finite(cls, args: dict[str, Any]) -> dict[str, Any]:
        check_argument(args, "args")
        return args


class PipelineRequest(BaseModel):
    """A pipeline to run on (or export for) a session's inputs."""

    model_config = ConfigDict(extra="forbid")
    session: str = Field(SAMPLE, min_length=1, max_length=64)
    pipeline: list[Step] = Field(default_factory=list, max_length=MAX_STEPS)
    seed: int | None = Field(None, ge=0, le=SEED_MAX)
    draw_targets: bool = True
    max_side: int | None = Field(None, ge=64, le=16384)


class ExportRequest(PipelineRequest):
    format: Literal["yaml", "python"] = "yaml"


MAX_GRID = 64


class GridRequest(PipelineRequest):
    """``count`` samples of the pipeline, seeds ``seed``, ``seed + 1``, ..., each shrunk to ``tile_side``."""

    count: int = Field(16, ge=1, le=MAX_GRID)
    tile_side: int = Field(256, ge=64, le=1024)


class ProfileRequest(PipelineRequest):
    """At most ``runs`` timed calls of the pipeline (fewer when they would not fit the time budget)."""

    runs: int = Field(20, ge=1, le=200)


class DiffRequest(PipelineRequest):
    """The page's pipeline and the text of a policy file to compare it with."""

    policy: str = Field(min_length=1, max_length=MAX_POLICY_CHARS)
    filename: str = Field("policy.yaml", min_length=1, max_length=255)


class SessionStore:
    """Sessions by id, the oldest dropped past ``limit``; the built-in sample is always there."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self._items: OrderedDict[str, Session] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()
        scene = sample_scene()
        self._sample = Session(
            image=scene["image"],
            mask=scene["mask"],
            bboxes=[list(map(float, b)) for b in scene["bboxes"]],
            labels=list(scene["labels"]),
            keypoints=[list(map(float, k)) for k in scene["keypoints"]],
            keypoint_labels=list(scene["keypoint_labels"]),
        )

    def add(self, session: Session) -> str:
        session_id = secrets.token_urlsafe(16)
        with self._lock:
            self._items[session_id] = session
            while len(self._items) > self._limit:
                self._items.popitem(last=False)
        return session_id

    def get(self, session_id: str) -> Session:
        if session_id == SAMPLE:
            return self._sample
        with self._lock:
            session = self._items.get(session_id)
            if session is not None:
                self._items.move_to_end(session_id)
        if session is None:
            raise HTTPException(404, f"unknown session {session_id!r}: upload the image again")
        return session


def _short(value: Any) -> Any:
    """Applied parameters made small and JSON-safe for display (big arrays summarised)."""
    if isinstance(value, np.ndarray):
        if value.size <= 16:
            return _short(value.tolist())
        return f"array {'x'.join(map(str, value.shape))} {value.dtype}"
    if isinstance(value, dict):
        return {str(k): _short(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if len(value) > 16:
            return f"{len(value)} values"
        return [_short(v) for v in value]
    try:
        return plain(value)
    except TypeError:
        return type(value).__name__


def build_pipeline(request: PipelineRequest, session: Session, seed: int, record: bool) -> A.Compose:
    """The Compose a request describes; 422 naming the step for unknown names or bad arguments."""
    classes = transform_classes()
    transforms = []
    for index, step in enumerate(request.pipeline):
        cls = classes.get(step.name)
        where = f"step {index + 1} ({step.name})"
        if cls is None:
            raise HTTPException(422, f"{where}: unknown transform {step.name!r}")
        if describe(step.name)["needs_metadata"]:
            raise HTTPException(
                422, f"{where}: needs metadata (reference images or other samples) the explorer cannot give"
            )
        unknown = sorted(set(step.args) - set(cls.InitSchema.model_fields))
        if unknown:
            raise HTTPException(
                422, f"{where}: unknown argument(s) {unknown}; valid: {list(cls.InitSchema.model_fields)}"
            )
        args = editable_args(step.name, step.args)
        args["p"] = step.p
        try:
            transforms.append(cls(**args))
        except (ParameterError, TypeError, ValueError) as error:
            raise HTTPException(422, f"{where}: {error}") from None
    return A.Compose(
        transforms,
        bbox_params={"format": "pascal_voc", "label_fields": ["labels"]} if session.bboxes else None,
        keypoint_params={"format": "xy", "label_fields": ["keypoint_labels"], "remove_invisible": True}
        if session.keypoints
        else None,
        seed=seed,
        save_applied_params=record,
    )


def inputs_of(session: Session) -> dict[str, Any]:
    """The keyword arguments a pipeline built for ``session`` is called with."""
    data: dict[str, Any] = {"image": session.image}
    if session.mask is not None:
        data["mask"] = session.mask
    if session.bboxes:
        data["bboxes"] = np.asarray(session.bboxes, np.float32)
        data["labels"] = list(session.labels)
    if session.keypoints:
        data["keypoints"] = np.asarray(session.keypoints, np.float32)
        data["keypoint_labels"] = list(session.keypoint_labels)
    return data


def python_code(document: dict[str, Any]) -> str:
    """Python source that builds the same pipeline as the policy ``document`` (from ``to_dict``)."""
    body = document["transform"]
    lines = ["import invariance as A", "", "pipeline = A.Compose(", "    ["]
    for step in body["transforms"]:
        args = ", ".join(f"{k}={v!r}" for k, v in step.items() if k != "__class_fullname__")
        lines.append(f"        A.{step['__class_fullname__']}({args}),")
    lines.append("    ],")
    lines.extend(
        f"    {key}={body[key]!r}," for key in ("bbox_params", "keypoint_params") if body.get(key) is not None
    )
    lines.append(f"    seed={body['seed']!r},")
    lines.append(")")
    lines.append("")
    lines.append("# result = pipeline(image=image)  # image: an RGB uint8 array (HxWx3)")
    return "\n".join(lines) + "\n"


def run_sample(pipeline: A.Compose, data: dict[str, Any]) -> dict[str, Any]:
    """One call of ``pipeline``; a failure inside the library is answered as a 422 naming it."""
    try:
        result: dict[str, Any] = pipeline(**data)
    except Exception as error:
        raise HTTPException(
            422, f"the pipeline failed on this image: {type(error).__name__}: {error}"
        ) from None
    return result


def _job_pipeline(request: PipelineRequest, session: Session, seed: int, record: bool) -> A.Compose:
    try:
        return build_pipeline(request, session, seed, record=record)
    except HTTPException as error:
        raise JobError(error.status_code, str(error.detail)) from None


def _job_sample(pipeline: A.Compose, data: dict[str, Any]) -> dict[str, Any]:
    try:
        return run_sample(pipeline, data)
    except HTTPException as error:
        raise JobError(error.status_code, str(error.detail)) from None


def grid_job(job: tuple[dict[str, Any], Session, int]) -> dict[str, Any]:
    """``/api/grid`` (in a worker process): ``count`` samples for consecutive seeds, as tiles."""
    data_in, session, base = job
    request = GridRequest.model_validate(data_in)
    data = inputs_of(session)
    tiles = []
    kept_boxes = kept_points = 0
    start = time.perf_counter()
    for index in range(request.count):
        seed = (base + index) % (SEED_MAX + 1)
        result = _job_sample(_job_pipeline(request, session, seed, record=True), data)
        boxes, points = len(result.get("bboxes", [])), len(result.get("keypoints", []))
        kept_boxes += boxes
        kept_points += points
        tiles.append(
            {
                "seed": seed,
                "image": _data_url(thumbnail(result, request.tile_side, request.draw_targets)),
                "width": int(result["image"].shape[1]),
                "height": int(result["image"].shape[0]),
                "applied": [
                    {"name": name, "params": _short(params)} for name, params in result["applied_transforms"]
                ],
                "bboxes": boxes,
                "keypoints": points,
            }
        )
    boxes_in, points_in = len(session.bboxes) * request.count, len(session.keypoints) * request.count
    return {
        "seed": base,
        "tiles": tiles,
        "boxes_in": boxes_in,
        "boxes_kept": kept_boxes,
        "keypoints_in": points_in,
        "keypoints_kept": kept_points,
        "boxes_dropped": 1 - kept_boxes / boxes_in if boxes_in else None,
        "keypoints_dropped": 1 - kept_points / points_in if points_in else None,
        "ms": 1000 * (time.perf_counter() - start),
    }


def profile_job(job: tuple[dict[str, Any], Session, int]) -> dict[str, Any]:
    """``/api/profile`` (in a worker process): the library profiler's time per step."""
    data_in, session, seed = job
    request = ProfileRequest.model_validate(data_in)
    pipeline = _job_pipeline(request, session, seed, record=False)
    data = inputs_of(session)
    _job_sample(pipeline, data)  # a pipeline that fails is reported as it is in /api/apply
    answer: dict[str, Any] = profile_steps(pipeline, data, request.runs)
    return answer


def apply_job(job: tuple[dict[str, Any], Session, int]) -> dict[str, Any]:
    """Build and run one ``/api/apply`` request (in a worker process); the JSON answer."""
    data, session, seed = job
    request = PipelineRequest.model_validate(data)
    try:
        pipeline = build_pipeline(request, session, seed, record=True)
    except HTTPException as error:
        raise JobError(error.status_code, str(error.detail)) from None
    result = pipeline(**inputs_of(session))
    full = draw_targets(**result) if request.draw_targets else result["image"]
    shown = fit(full, request.max_side)
    applied = [{"name": name, "params": _short(params)} for name, params in result["applied_transforms"]]
    return {
        "seed": seed,
        "image": _data_url(shown),
        "width": int(result["image"].shape[1]),
        "height": int(result["image"].shape[0]),
        "scaled": shown.shape[:2] != full.shape[:2],
        "applied": applied,
        "bboxes": len(result.get("bboxes", [])),
        "keypoints": len(result.get("keypoints", [])),
    }


def fit(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """``image`` shrunk (area interpolation) so its longer side is at most ``max_side``, for display."""
    longest = max(image.shape[:2])
    if max_side is None or longest <= max_side:
        return image
    scale = max_side / longest
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))


def _data_url(image: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(image, compression=1)).decode("ascii")


async def _body(request: Request, what: str) -> bytes:
    """The raw request body, refused past the upload limit without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"{what} is {declared} bytes; the limit is {MAX_UPLOAD_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"{what} is over the limit of {MAX_UPLOAD_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413, declared or streamed.

    The upload endpoints check their own bodies as they stream them; this covers every other
    endpoint (JSON bodies are read whole by FastAPI before any validation runs).
    """

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if not declared.isdigit() or len(declared) > 15 or int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = over = False

        async def limited_receive() -> Any:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    over = True
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if over and not started:
                return  # the app's own answer to the interrupted body (400) is replaced by 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        with suppress(_BodyTooLargeError):
            await self.app(scope, limited_receive, tracking_send)
        if over and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Any, receive: Any, send: Any) -> None:
        response = JSONResponse(
            {"detail": f"the request body is over the limit of {self.limit} bytes"}, status_code=413
        )
        await response(scope, receive, send)


class _BodyTooLargeError(Exception):
    pass


def create_app(
    allowed_hosts: list[str] | None = None,
    pipeline_timeout_s: float = DEFAULT_TIMEOUT_S,
    pipeline_memory_bytes: int = DEFAULT_MEMORY_BYTES,
) -> FastAPI:
    """The explorer application (a fresh, empty session store each time).

    ``allowed_hosts``: the ``Host`` headers to answer (others get 400), which keeps pages from
    other sites out through DNS rebinding; ``None`` answers any (tests).
    ``pipeline_timeout_s`` and ``pipeline_memory_bytes``: the limits each pipeline runs under
    (in a worker process, see :mod:`invariance.explore.worker`); ``app.state.workers`` is the pool.
    """
    workers = WorkerPool(timeout_s=pipeline_timeout_s, memory_bytes=pipeline_memory_bytes)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        workers.prestart()
        yield
        workers.close()

    app = FastAPI(
        title="invariance explore", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.workers = workers
    app.add_middleware(BodyLimit, limit=MAX_UPLOAD_BYTES + 64 * 1024)
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    store = SessionStore()
    app.state.sessions = store

    @app.exception_handler(UploadError)
    async def upload_error(_: Request, error: UploadError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, error: RequestValidationError) -> JSONResponse:
        messages = [
            f"{'.'.join(str(part) for part in e.get('loc', ()) if part != 'body') or 'body'}: {e.get('msg', '')}"
            for e in error.errors()
        ]
        return JSONResponse({"detail": "; ".join(messages) or "malformed request"}, status_code=422)

    @app.middleware("http")
    async def offline_only(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/transforms")
    def list_transforms() -> list[dict[str, Any]]:
        return catalogue()

    @app.get("/api/transforms/{name}")
    def one_transform(name: str) -> dict[str, Any]:
        if name not in transform_classes():
            raise HTTPException(404, f"unknown transform {name!r}")
        return describe(name)

    @app.post("/api/upload")
    async def upload_image(request: Request) -> dict[str, Any]:
        image = decode_image(await _body(request, "the image"))
        session = Session(image=image)
        return session.summary(store.add(session))

    @app.post("/api/session/{session_id}/mask")
    async def upload_mask(session_id: str, request: Request) -> dict[str, Any]:
        session = store.get(session_id)
        if session_id == SAMPLE:
            raise HTTPException(
                400, "the built-in sample's targets cannot be replaced; upload an image first"
            )
        session.mask = decode_mask(await _body(request, "the mask"), session.image.shape[:2])
        return session.summary(session_id)

    @app.post("/api/session/{session_id}/boxes")
    async def upload_boxes(session_id: str, request: Request, filename: str = "boxes.json") -> dict[str, Any]:
        session = store.get(session_id)
        if session_id == SAMPLE:
            raise HTTPException(
                400, "the built-in sample's targets cannot be replaced; upload an image first"
            )
        session.bboxes, session.labels = parse_boxes(
            await _body(request, "the boxes file"), filename, session.image.shape[:2]
        )
        return session.summary(session_id)

    @app.post("/api/session/{session_id}/keypoints")
    async def upload_keypoints(session_id: str, request: Request) -> dict[str, Any]:
        session = store.get(session_id)
        if session_id == SAMPLE:
            raise HTTPException(
                400, "the built-in sample's targets cannot be replaced; upload an image first"
            )
        session.keypoints, session.keypoint_labels = parse_keypoints(
            await _body(request, "the keypoints file")
        )
        return session.summary(session_id)

    @app.get("/api/session/{session_id}")
    def session_info(session_id: str) -> dict[str, Any]:
        return store.get(session_id).summary(session_id)

    @app.get("/api/session/{session_id}/original.png")
    def original(session_id: str, draw: bool = True, max_side: int | None = None) -> Response:
        session = store.get(session_id)
        if max_side is not None and not 64 <= max_side <= 16384:
            raise HTTPException(422, "max_side: expected 64..16384")
        shown = fit(draw_targets(**inputs_of(session)) if draw else session.image, max_side)
        return Response(png_bytes(shown, compression=1), media_type="image/png")

    @app.post("/api/apply")
    def apply(request: PipelineRequest) -> dict[str, Any]:
        session = store.get(request.session)
        seed = request.seed if request.seed is not None else secrets.randbelow(SEED_MAX + 1)
        try:  # in a worker process, under a time and a memory limit
            answer: dict[str, Any] = workers.run(apply_job, (request.model_dump(), session, seed))
        except JobError as error:
            raise HTTPException(error.status, error.detail) from None
        return answer

    @app.post("/api/export")
    def export(request: ExportRequest) -> dict[str, Any]:
        session = store.get(request.session)
        seed = request.seed if request.seed is not None else 0
        pipeline = build_pipeline(request, session, seed, record=False)
        if request.format == "python":
            return {"format": "python", "filename": "pipeline.py", "text": python_code(A.to_dict(pipeline))}
        buffer = io.StringIO()
        A.save(pipeline, buffer, data_format="yaml")
        return {"format": "yaml", "filename": "policy.yaml", "text": buffer.getvalue()}

    @app.post("/api/grid")
    def grid(request: GridRequest) -> dict[str, Any]:
        session = store.get(request.session)
        base = request.seed if request.seed is not None else secrets.randbelow(SEED_MAX + 1)
        try:  # in a worker process, under a time and a memory limit, as /api/apply
            answer: dict[str, Any] = workers.run(grid_job, (request.model_dump(), session, base))
        except JobError as error:
            raise HTTPException(error.status, error.detail) from None
        return answer

    @app.post("/api/profile")
    def profile(request: ProfileRequest) -> dict[str, Any]:
        session = store.get(request.session)
        seed = request.seed if request.seed is not None else 0
        try:
            answer: dict[str, Any] = workers.run(profile_job, (request.model_dump(), session, seed))
        except JobError as error:
            raise HTTPException(error.status, error.detail) from None
        return answer

    @app.post("/api/policy")
    async def load_policy(request: Request, filename: str = "policy.yaml") -> dict[str, Any]:
        text = (await _body(request, "the policy file")).decode("utf-8-sig", errors="replace")
        policy = load_policy_text(text, filename)
        seed = getattr(policy, "seed", None)
        return {
            "filename": filename,
            "text": text,
            "steps": policy_steps(policy),
            "seed": seed if isinstance(seed, int) and 0 <= seed <= SEED_MAX else None,
        }

    @app.post("/api/diff")
    def diff(request: DiffRequest) -> dict[str, Any]:
        session = store.get(request.session)
        policy = load_policy_text(request.policy, request.filename)
        pipeline = build_pipeline(request, session, request.seed or 0, record=False)
        changes = policy_diff(policy, pipeline)
        return {"same": not changes, "changes": changes}

    return app
