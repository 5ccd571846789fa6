"""Hostile inputs against the readers, the policy loader and the explore API (issue 20, part A).

The contract asserted here, and nothing more: every input gets either a correct result or the
documented error (``ImageFileError``, ``SerializationError``, an HTTP 4xx), in bounded time, and
the server keeps answering afterwards.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import invariance as A
from invariance.core import image_io
from invariance.core.serialization import parse_policy

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

import contextlib

from fastapi.testclient import TestClient

from invariance.explore.app import create_app
from invariance.explore.worker import JobError, WorkerPool

#: Generous wall-clock bound for one hostile input on a loaded CI machine (seconds).
BOUND = 20.0
HYPOTHESIS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(pipeline_timeout_s=4))


@pytest.fixture(scope="module")
def session(client: TestClient) -> str:
    response = client.post("/api/upload", content=png(np.full((60, 80, 3), 120, np.uint8)))
    assert response.status_code == 200, response.text
    return str(response.json()["session"])


def apply(client: TestClient, session: str, pipeline: list[dict[str, Any]], **extra: Any) -> Any:
    return client.post("/api/apply", json={"session": session, "pipeline": pipeline, "seed": 1, **extra})


def still_up(client: TestClient, session: str) -> None:
    response = apply(client, session, [{"name": "HorizontalFlip", "args": {}}])
    assert response.status_code == 200, response.text


# -- image readers ---------------------------------------------------------------------------------


def sample_files() -> list[bytes]:
    picture = np.random.default_rng(1).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    files = [cv2.imencode(s, picture)[1].tobytes() for s in (".png", ".jpg", ".bmp", ".tiff")]
    files.append(cv2.imencode(".webp", picture, [cv2.IMWRITE_WEBP_QUALITY, 101])[1].tobytes())
    return files


SAMPLES = sample_files()


def check_decoded(data: bytes, limit: int) -> None:
    started = time.perf_counter()
    try:
        image = image_io.decode_image(data, max_pixels=limit)
    except A.ImageFileError:
        pass
    else:
        assert isinstance(image, np.ndarray) and image.shape[0] * image.shape[1] <= limit
    assert time.perf_counter() - started < BOUND


@HYPOTHESIS
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_decode_or_raise_image_file_error(data):
    check_decoded(data, 10_000)


@HYPOTHESIS
@given(
    st.sampled_from(range(len(SAMPLES))),
    st.lists(st.tuples(st.integers(0, 63), st.integers(0, 255)), min_size=1, max_size=6),
)
def test_damaged_headers_decode_or_raise_image_file_error(which, edits):
    data = bytearray(SAMPLES[which])
    for position, value in edits:  # the first 64 bytes hold every accepted format's header
        data[position % len(data)] = value
    check_decoded(bytes(data), 10_000)


# -- policies --------------------------------------------------------------------------------------

NAMES = st.sampled_from(["Compose", "OneOf", "Blur", "Rotate", "CoarseDropout", "Resize", "NoOp", "Nope", ""])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
ARG_NAMES = st.sampled_from(
    [
        "p",
        "blur_limit",
        "limit",
        "height",
        "width",
        "num_holes_range",
        "transforms",
        "bbox_params",
        "seed",
        "x",
    ]
)
NODES = st.recursive(
    st.builds(
        lambda name, args: {"__class_fullname__": name, **args},
        NAMES,
        st.dictionaries(ARG_NAMES, VALUES, max_size=3),
    ),
    lambda inner: st.builds(
        lambda name, children, args: {"__class_fullname__": name, **args, "transforms": children},
        NAMES,
        st.lists(inner, max_size=3),
        st.dictionaries(ARG_NAMES, VALUES, max_size=2),
    ),
    max_leaves=6,
)


@pytest.mark.filterwarnings("ignore:.*unknown argument:UserWarning")
@HYPOTHESIS
@given(st.one_of(NODES, VALUES))
def test_from_dict_builds_or_raises_serialization_error(document):
    started = time.perf_counter()
    try:
        built = A.from_dict(document)
    except A.SerializationError:
        pass
    else:
        assert isinstance(built, A.BasicTransform | A.BaseCompose)
        A.fingerprint(built)
    assert time.perf_counter() - started < BOUND


@HYPOTHESIS
@given(st.one_of(NODES, VALUES), st.one_of(NODES, VALUES))
def test_diff_and_fingerprint_of_raw_documents_answer_or_raise_serialization_error(left, right):
    for call in (lambda: A.diff(left, right), lambda: A.fingerprint(left)):
        if not isinstance(left, dict) or not isinstance(right, dict):
            continue
        with contextlib.suppress(A.SerializationError):
            call()


YAML_PIECES = st.sampled_from(
    [
        "a: ",
        "&x ",
        "*x",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "- ",
        "\n",
        "  ",
        "1",
        "9" * 60,
        "'s'",
        "!!python/object ",
        ": ",
        "<<: *x",
    ]
)


@HYPOTHESIS
@given(st.lists(YAML_PIECES, max_size=60).map("".join), st.sampled_from(["yaml", "json"]))
def test_load_parses_or_raises_serialization_error(text, data_format):
    started = time.perf_counter()
    with contextlib.suppress(A.SerializationError):
        A.load(io.StringIO(text), data_format=data_format)
    assert time.perf_counter() - started < BOUND


@HYPOTHESIS
@given(st.binary(max_size=512))
def test_policy_bytes_parse_or_raise_serialization_error(data):
    with contextlib.suppress(A.SerializationError):
        parse_policy(data, "yaml")


# -- explore: uploads ------------------------------------------------------------------------------


def test_upload_refuses_a_webp_bomb_from_its_header(client, monkeypatch):
    bomb = cv2.imencode(".webp", np.zeros((4200, 4200, 3), np.uint8), [cv2.IMWRITE_WEBP_QUALITY, 101])[1]
    assert bomb.size < 2500

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the upload was decoded")

    monkeypatch.setattr(cv2, "imdecode", refuse)
    response = client.post("/api/upload", content=bomb.tobytes())
    assert response.status_code == 413 and "4200x4200" in response.json()["detail"]


def test_upload_refuses_a_tiff_bomb_from_its_header(client):
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, "TIFF", compression="group4")
    response = client.post("/api/upload", content=buffer.getvalue())
    assert response.status_code == 413 and "9000x9000" in response.json()["detail"]


BAD_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e300", "9" * 400, '"x"', "true", "null", "[1]"]


@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_bad_numbers_in_boxes_and_keypoints_are_4xx(client, session, number):
    boxes = client.post(f"/api/session/{session}/boxes", content=f"[[1, 2, {number}, 30]]")
    assert boxes.status_code == 422, boxes.text
    coco = client.post(
        f"/api/session/{session}/boxes", content=f'{{"annotations": [{{"bbox": [1, {number}, 3, 4]}}]}}'
    )
    assert coco.status_code == 422, coco.text
    points = client.post(f"/api/session/{session}/keypoints", content=f"[[{number}, 2]]")
    assert points.status_code == 422, points.text
    named = client.post(f"/api/session/{session}/keypoints", content=f'[{{"x": 1, "y": {number}}}]')
    assert named.status_code == 422, named.text


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300", "9" * 400])
def test_bad_numbers_in_yolo_lines_are_4xx(client, session, value):
    response = client.post(
        f"/api/session/{session}/boxes?filename=labels.txt", content=f"0 0.5 {value} 0.2 0.2"
    )
    assert response.status_code == 422 and "YOLO line 1" in response.json()["detail"]


JSON_NUMBERS = st.one_of(
    st.integers(min_value=-(10**500), max_value=10**500).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-0", "0.5"]),
)


@HYPOTHESIS
@given(st.lists(st.lists(JSON_NUMBERS, min_size=2, max_size=5), max_size=4))
def test_explore_targets_answer_200_or_4xx(client, session, rows):
    body = "[" + ",".join("[" + ",".join(row) + "]" for row in rows) + "]"
    for path in ("boxes", "keypoints"):
        response = client.post(f"/api/session/{session}/{path}", content=body)
        assert response.status_code in (200, 422), response.text


# -- explore: pipelines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_args",
    [
        '{"blur_limit": NaN}',
        '{"blur_limit": Infinity}',
        '{"blur_limit": 1e300}',
        '{"limit": ' + "9" * 400 + "}",
    ],
)
def test_bad_numbers_in_transform_arguments_are_4xx(client, session, raw_args):
    body = f'{{"session": "{session}", "pipeline": [{{"name": "MedianBlur", "args": {raw_args}}}]}}'
    response = client.post("/api/apply", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert "args" in response.json()["detail"]


@pytest.mark.parametrize(
    "step",
    [
        {"name": "MedianBlur", "args": {"blur_limit": [99999, 99999]}},
        {"name": "CoarseDropout", "args": {"num_holes_range": [10**8, 10**8]}},
    ],
)
def test_an_extreme_pipeline_is_stopped_and_the_server_stays_up(client, session, step):
    started = time.perf_counter()
    response = apply(client, session, [step])
    assert 400 <= response.status_code < 500, response.text
    assert time.perf_counter() - started < 4 + BOUND
    still_up(client, session)


ARGUMENTS = st.dictionaries(
    st.sampled_from(["blur_limit", "limit", "p", "scale", "hole_height_range"]), VALUES, max_size=2
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["Blur", "Rotate", "Affine", "CoarseDropout", "RandomScale"]), ARGUMENTS)
def test_explore_apply_answers_200_or_4xx(client, session, name, args):
    try:
        body = json.dumps({"session": session, "pipeline": [{"name": name, "args": args}], "seed": 0})
    except ValueError:
        return
    response = client.post("/api/apply", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (200, 422), response.text


# -- the worker pool itself ------------------------------------------------------------------------


def test_worker_pool_kills_a_job_past_its_time_limit_and_starts_a_fresh_worker():
    pool = WorkerPool(size=1, timeout_s=1, preload=None)
    try:
        assert pool.run(abs, -3) == 3
        first = pool.pids()
        started = time.perf_counter()
        with pytest.raises(JobError, match="longer than 1 s") as caught:
            pool.run(time.sleep, 60)
        assert caught.value.status == 422 and time.perf_counter() - started < BOUND
        assert pool.run(abs, -4) == 4
        assert pool.pids() != first
    finally:
        pool.close()


def test_worker_pool_limits_memory():
    if not os.path.exists("/proc/self/statm"):
        pytest.skip("the address-space limit is read from /proc (Linux)")
    pool = WorkerPool(size=1, timeout_s=60, memory_bytes=512 * 1024**2, preload=None)
    try:
        with pytest.raises(JobError, match="memory") as caught:
            pool.run(bytearray, 8 * 1024**3)
        assert caught.value.status == 422
        assert pool.run(len, b"abc") == 3
    finally:
        pool.close()


def test_sigterm_stops_the_server_while_a_pipeline_runs():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = "from invariance.tools.cli import main; main()"
    server = subprocess.Popen(
        [sys.executable, "-c", code, "explore", "--no-browser", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/api/session/sample", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        image = png(np.full((2000, 2000, 3), 90, np.uint8))
        upload = urllib.request.Request(url + "/api/upload", data=image, method="POST")
        session = json.loads(urllib.request.urlopen(upload, timeout=60).read())["session"]
        slow = [{"name": "MedianBlur", "args": {"blur_limit": [255, 255]}}] * 64
        body = json.dumps({"session": session, "pipeline": slow}).encode()
        request = urllib.request.Request(
            url + "/api/apply", data=body, method="POST", headers={"content-type": "application/json"}
        )

        def call() -> None:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(request, timeout=120)

        threading.Thread(target=call, daemon=True).start()
        time.sleep(3)  # the request is in flight
        started = time.perf_counter()
        server.send_signal(signal.SIGTERM)
        server.wait(BOUND)
        assert time.perf_counter() - started < BOUND
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as handle:
            state = next(line for line in handle if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "Z" not in state.split()[1]  # a zombie has exited; only reaping is left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_a_busy_worker_dies_when_the_server_is_killed():
    code = (
        "import time\n"
        "from invariance.explore.worker import WorkerPool\n"
        "if __name__ == '__main__':\n"
        "    pool = WorkerPool(size=1, timeout_s=100, preload=None)\n"
        "    pool.run(abs, 1)\n"
        "    print(pool.pids()[0], flush=True)\n"
        "    pool.run(time.sleep, 100)\n"
    )
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    worker = int(server.stdout.readline())
    assert _running(worker)
    time.sleep(0.5)  # the worker is now inside time.sleep(100)
    server.kill()
    server.wait()
    deadline = time.monotonic() + BOUND
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(worker)


def test_json_bodies_over_the_limit_are_refused(client):
    from invariance.explore.inputs import MAX_UPLOAD_BYTES

    padding = "x" * (MAX_UPLOAD_BYTES + 100 * 1024)
    response = client.post(
        "/api/apply",
        content=f'{{"session": "sample", "pipeline": [], "pad": "{padding}"}}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413

    def chunks():
        yield b'{"session": "sample", "pipeline": [], "pad": "'
        for _ in range(12):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    streamed = client.post("/api/export", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_workers_outlive_the_request_thread_that_started_them():
    pool = WorkerPool(size=1, timeout_s=60, preload=None)
    try:
        thread = threading.Thread(target=pool.run, args=(abs, 1))
        thread.start()
        thread.join()
        time.sleep(0.5)  # the parent-death signal would have fired by now
        before = pool.pids()
        assert len(before) == 1
        assert pool.run(abs, -2) == 2
        assert pool.pids() == before
    finally:
        pool.close()


def test_the_app_starts_a_worker_ahead_and_stops_its_workers_on_shutdown():
    app = create_app()
    with TestClient(app):
        deadline = time.monotonic() + 120
        while not app.state.workers.pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        pids = app.state.workers.pids()
        assert len(pids) == 1
    assert not any(_running(pid) for pid in pids)
