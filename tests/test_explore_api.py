"""API tests of the explorer (``invariance explore``) with FastAPI's test client."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient

import invariance as A
from invariance.data import sample_scene
from invariance.explore import inputs
from invariance.explore.app import create_app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))[1].tobytes()


def decode(data_url: str) -> np.ndarray:
    assert data_url.startswith("data:image/png;base64,")
    raw = np.frombuffer(base64.b64decode(data_url.split(",", 1)[1]), np.uint8)
    return cv2.cvtColor(cv2.imdecode(raw, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    rng = np.random.default_rng(3)
    picture = cv2.GaussianBlur(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8), (5, 5), 0)
    cv2.circle(picture, (60, 45), 20, (255, 200, 0), -1)
    return picture


@pytest.fixture(scope="module")
def session(client: TestClient, image: np.ndarray) -> str:
    response = client.post("/api/upload", content=png(image))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["width"], body["height"], body["bboxes"], body["mask"]) == (120, 90, 0, False)
    return str(body["session"])


PIPELINE: list[dict[str, Any]] = [
    {"name": "Affine", "args": {"rotate": [-40, 40], "scale": [0.8, 1.2]}, "p": 1.0},
    {"name": "RandomBrightnessContrast", "args": {"brightness_limit": [-0.3, 0.3]}, "p": 0.8},
    {"name": "GaussNoise", "args": {}, "p": 1.0},
]


def apply(client: TestClient, session: str, seed: int | None, pipeline: Any = None, **extra: Any) -> Any:
    body = {"session": session, "pipeline": PIPELINE if pipeline is None else pipeline, "seed": seed, **extra}
    response = client.post("/api/apply", json=body)
    assert response.status_code == 200, response.text
    return response.json()


# ---- catalogue and forms ---------------------------------------------------------------------


def test_catalogue_lists_transforms_by_family(client: TestClient) -> None:
    entries = client.get("/api/transforms").json()
    names = {e["name"] for e in entries}
    assert {"Affine", "HorizontalFlip", "GaussianBlur", "CoarseDropout", "RandomBrightnessContrast"} <= names
    assert not {"Compose", "OneOf", "Sequential"} & names
    assert not any(n.startswith("_") for n in names)
    keys = [(e["family"], e["name"]) for e in entries]
    assert keys == sorted(keys)
    by_name = {e["name"]: e for e in entries}
    assert by_name["Affine"]["family"] == "geometric"
    assert all(e["family"] == getattr(A, e["name"]).family for e in entries if hasattr(A, e["name"]))
    assert len({e["family"] for e in entries}) >= 5
    assert by_name["FDA"]["needs_metadata"] and not by_name["Affine"]["needs_metadata"]


def fields(client: TestClient, name: str) -> dict[str, Any]:
    response = client.get(f"/api/transforms/{name}")
    assert response.status_code == 200
    body = response.json()
    assert body["doc"].strip(), f"{name} has no docstring to show"
    assert [f["name"] for f in body["fields"]] == list(getattr(A, name).InitSchema.model_fields)
    return {f["name"]: f for f in body["fields"]}


def test_form_of_a_pixel_transform_has_ranges_booleans_and_defaults(client: TestClient) -> None:
    form = fields(client, "RandomBrightnessContrast")
    assert form["brightness_limit"]["widget"] == "range"
    assert form["brightness_limit"]["default"] == [-0.2, 0.2]
    assert form["brightness_by_max"]["widget"] == "boolean" and form["brightness_by_max"]["default"] is True
    assert form["p"]["widget"] == "number" and (form["p"]["min"], form["p"]["max"]) == (0.0, 1.0)


def test_form_of_a_spatial_transform_has_enums_and_example_values(client: TestClient) -> None:
    form = fields(client, "Affine")
    assert form["rotate"]["widget"] == "range"
    assert form["rotate"]["value"] == [-20.0, 20.0]  # example_args over the default (0, 0)
    assert form["rotate"]["default"] == [0.0, 0.0]
    assert form["rotate_method"]["widget"] == "enum"
    assert form["rotate_method"]["options"] == ["largest_box", "ellipse"]
    assert form["border_mode"]["widget"] == "enum" and 0 in form["border_mode"]["options"]
    assert form["scale"]["widget"] == "axes" and form["scale"]["value"]["x"] == [0.8, 1.2]


def test_form_of_integer_ranges_and_metadata_transforms(client: TestClient) -> None:
    dropout = fields(client, "CoarseDropout")
    assert dropout["num_holes_range"]["widget"] == "range"
    assert dropout["num_holes_range"]["item_type"] == "integer"
    fda = client.get("/api/transforms/FDA").json()
    assert fda["needs_metadata"]
    widgets = {f["name"]: f["widget"] for f in fda["fields"]}
    assert widgets["reference_images"] == "readonly" and widgets["read_fn"] == "readonly"
    assert client.get("/api/transforms/NoSuchThing").status_code == 404


# ---- applying ---------------------------------------------------------------------------------


def test_same_seed_reproduces_and_new_seed_resamples(client: TestClient, session: str) -> None:
    first = apply(client, session, 7)
    again = apply(client, session, 7)
    assert first["seed"] == 7 and first["image"] == again["image"]
    assert first["applied"] == again["applied"]
    assert first["applied"][0]["name"] == "Affine" and -40 <= first["applied"][0]["params"]["rotate"] <= 40
    other = apply(client, session, 8)
    assert other["image"] != first["image"]
    assert other["applied"][0]["params"]["rotate"] != first["applied"][0]["params"]["rotate"]
    drawn = apply(client, session, None)
    assert isinstance(drawn["seed"], int) and drawn["seed"] >= 0


def test_apply_matches_the_library(client: TestClient, session: str, image: np.ndarray) -> None:
    shown = decode(apply(client, session, 11)["image"])
    pipeline = A.Compose(
        [
            A.Affine(rotate=(-40, 40), scale=(0.8, 1.2), p=1.0),
            A.RandomBrightnessContrast(brightness_limit=(-0.3, 0.3), p=0.8),
            A.GaussNoise(p=1.0),
        ],
        seed=11,
    )
    assert np.array_equal(shown, pipeline(image=image)["image"])


def test_a_changed_parameter_changes_the_result(client: TestClient, session: str) -> None:
    base = apply(client, session, 3, [{"name": "Affine", "args": {"rotate": [10, 10]}, "p": 1}])
    turned = apply(client, session, 3, [{"name": "Affine", "args": {"rotate": [30, 30]}, "p": 1}])
    assert base["image"] != turned["image"]
    assert turned["applied"][0]["params"]["rotate"] == pytest.approx(30.0)


def test_probability_zero_skips_the_step(client: TestClient, session: str, image: np.ndarray) -> None:
    result = apply(client, session, 1, [{"name": "InvertImg", "args": {}, "p": 0.0}])
    assert result["applied"] == []
    assert np.array_equal(decode(result["image"]), image)


def test_sample_scene_draws_targets_that_follow(client: TestClient) -> None:
    info = client.get("/api/session/sample").json()
    assert info["mask"] and info["bboxes"] == 4 and info["keypoints"] == 5
    flip = [{"name": "HorizontalFlip", "args": {}, "p": 1.0}]
    drawn = decode(apply(client, "sample", 0, flip)["image"])
    plain = decode(apply(client, "sample", 0, flip, draw_targets=False)["image"])
    scene = sample_scene()
    assert np.array_equal(plain, scene["image"][:, ::-1])
    assert not np.array_equal(drawn, plain)
    original = client.get("/api/session/sample/original.png")
    assert original.status_code == 200 and original.headers["content-type"] == "image/png"


# ---- uploads ----------------------------------------------------------------------------------


def test_upload_with_mask_boxes_and_keypoints(client: TestClient, image: np.ndarray) -> None:
    sid = client.post("/api/upload", content=png(image)).json()["session"]
    mask = np.zeros((90, 120), np.uint8)
    mask[20:60, 30:90] = 2
    ok = cv2.imencode(".png", mask)[1].tobytes()
    assert client.post(f"/api/session/{sid}/mask", content=ok).json()["mask"]
    coco = {
        "annotations": [{"bbox": [30, 20, 60, 40], "category_id": 1}],
        "categories": [{"id": 1, "name": "sun"}],
    }
    body = client.post(f"/api/session/{sid}/boxes?filename=a.json", content=json.dumps(coco)).json()
    assert body["bboxes"] == 1
    yolo = "0 0.5 0.5 0.5 0.5\n1 0.25 0.25 0.1 0.1\n"
    assert client.post(f"/api/session/{sid}/boxes?filename=a.txt", content=yolo).json()["bboxes"] == 2
    points = [[10, 10], {"x": 50, "y": 40, "label": "eye"}]
    assert client.post(f"/api/session/{sid}/keypoints", content=json.dumps(points)).json()["keypoints"] == 2
    result = apply(client, sid, 2, [{"name": "HorizontalFlip", "args": {}, "p": 1.0}])
    assert result["bboxes"] == 2 and result["keypoints"] == 2
    wrong = cv2.imencode(".png", np.zeros((10, 10), np.uint8))[1].tobytes()
    response = client.post(f"/api/session/{sid}/mask", content=wrong)
    assert response.status_code == 422 and "mask" in response.json()["detail"]
    bad = client.post(f"/api/session/{sid}/boxes?filename=a.txt", content="0 0.5 0.5\n")
    assert bad.status_code == 422 and "YOLO" in bad.json()["detail"]
    assert client.post(f"/api/session/{sid}/keypoints", content="{not json").status_code == 422


def test_undecodable_image_is_refused(client: TestClient) -> None:
    response = client.post("/api/upload", content=b"this is not an image at all")
    assert response.status_code == 422
    assert "could not be decoded" in response.json()["detail"]
    assert client.post("/api/upload", content=b"").status_code == 422


def test_oversized_upload_is_refused(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    big = b"\0" * (inputs.MAX_UPLOAD_BYTES + 1)
    response = client.post("/api/upload", content=big)
    assert response.status_code == 413 and "limit" in response.json()["detail"]


def test_too_many_pixels_is_refused_before_decoding(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputs, "MAX_PIXELS", 50 * 50)
    response = client.post("/api/upload", content=png(np.zeros((60, 60, 3), np.uint8)))
    assert response.status_code == 413 and "pixels" in response.json()["detail"]
    jpeg = cv2.imencode(".jpg", np.zeros((60, 60, 3), np.uint8))[1].tobytes()
    assert client.post("/api/upload", content=jpeg).status_code == 413


def test_targets_cannot_replace_the_sample_and_sessions_must_exist(client: TestClient) -> None:
    assert client.post("/api/session/sample/keypoints", content="[]").status_code == 400
    assert client.post("/api/apply", json={"session": "nope", "pipeline": []}).status_code == 404


# ---- malformed requests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"pipeline": [{"name": "NoSuchTransform"}]}, "unknown transform"),
        ({"pipeline": [{"name": "Affine", "args": {"rotate": "sideways"}}]}, "rotate"),
        ({"pipeline": [{"name": "GaussianBlur", "args": {"sigma_limit": [3, 1]}}]}, "sigma_limit"),
        ({"pipeline": [{"name": "Affine", "args": {"no_such_arg": 1}}]}, "no_such_arg"),
        ({"pipeline": [{"name": "FDA"}]}, "needs metadata"),
        ({"pipeline": [{"name": "Affine", "p": 2}]}, "p"),
        ({"pipeline": "Affine"}, "pipeline"),
        ({"pipeline": [], "seed": -1}, "seed"),
        ({"pipeline": [], "unexpected": 1}, "unexpected"),
    ],
)
def test_malformed_requests_are_4xx_with_a_message(
    client: TestClient, body: dict[str, Any], words: str
) -> None:
    response = client.post("/api/apply", json={"session": "sample", **body})
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]


def test_invalid_json_body_is_422(client: TestClient) -> None:
    response = client.post("/api/apply", content=b"{", headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_parameter_error_message_is_passed_through(client: TestClient) -> None:
    body = {"session": "sample", "pipeline": [{"name": "GaussianBlur", "args": {"sigma_limit": [3, 1]}}]}
    detail = client.post("/api/apply", json=body).json()["detail"]
    with pytest.raises(A.ParameterError) as error:
        A.GaussianBlur(sigma_limit=[3, 1])
    assert str(error.value) in detail


# ---- export ------------------------------------------------------------------------------------


def export(client: TestClient, session: str, seed: int, fmt: str) -> str:
    body = {"session": session, "pipeline": PIPELINE, "seed": seed, "format": fmt}
    response = client.post("/api/export", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["text"])


def test_yaml_export_loads_and_reproduces_the_shown_image(
    client: TestClient, session: str, image: np.ndarray
) -> None:
    shown = decode(apply(client, session, 42)["image"])
    text = export(client, session, 42, "yaml")
    pipeline = A.load(io.StringIO(text), data_format="yaml")
    assert isinstance(pipeline, A.Compose) and pipeline.seed == 42
    assert [type(t).__name__ for t in pipeline.transforms] == [s["name"] for s in PIPELINE]
    assert np.array_equal(pipeline(image=image)["image"], shown)


def test_python_export_runs_and_reproduces_the_shown_image(
    client: TestClient, session: str, image: np.ndarray
) -> None:
    shown = decode(apply(client, session, 5)["image"])
    code = export(client, session, 5, "python")
    assert code.startswith("import invariance as A")
    namespace: dict[str, Any] = {}
    exec(compile(code, "pipeline.py", "exec"), namespace)
    assert np.array_equal(namespace["pipeline"](image=image)["image"], shown)


def test_exports_with_targets_reproduce_boxes_too(client: TestClient) -> None:
    applied = apply(client, "sample", 9, draw_targets=True)
    scene = sample_scene()
    for fmt in ("yaml", "python"):
        text = export(client, "sample", 9, fmt)
        if fmt == "yaml":
            pipeline = A.load(io.StringIO(text), data_format="yaml")
        else:
            namespace: dict[str, Any] = {}
            exec(compile(text, "pipeline.py", "exec"), namespace)
            pipeline = namespace["pipeline"]
        result = pipeline(
            image=scene["image"],
            mask=scene["mask"],
            bboxes=scene["bboxes"],
            labels=scene["labels"],
            keypoints=scene["keypoints"],
            keypoint_labels=scene["keypoint_labels"],
        )
        from invariance.viz import draw_targets

        assert np.array_equal(draw_targets(**result), decode(applied["image"]))


def test_page_is_served_without_external_assets(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    for text in (page.text, client.get("/static/app.js").text, client.get("/static/style.css").text):
        assert "http://" not in text and "https://" not in text


def test_other_host_names_are_refused_when_hosts_are_given() -> None:
    guarded = TestClient(create_app(allowed_hosts=["127.0.0.1", "localhost"]), base_url="http://127.0.0.1")
    assert guarded.get("/api/session/sample").status_code == 200
    assert guarded.get("/api/session/sample", headers={"host": "evil.example"}).status_code == 400


def test_large_results_can_be_shown_smaller(client: TestClient, session: str) -> None:
    flip = [{"name": "HorizontalFlip", "args": {}, "p": 1.0}]
    small = apply(client, session, 0, flip, max_side=64)
    assert small["scaled"] and (small["width"], small["height"]) == (120, 90)
    assert decode(small["image"]).shape == (48, 64, 3)
    assert not apply(client, session, 0, flip, max_side=1600)["scaled"]
    original = client.get(f"/api/session/{session}/original.png?max_side=64")
    assert cv2.imdecode(np.frombuffer(original.content, np.uint8), cv2.IMREAD_COLOR).shape == (48, 64, 3)
    assert client.get(f"/api/session/{session}/original.png?max_side=1").status_code == 422


# ---- controls derived from the declarations ----------------------------------------------------


def test_enumerations_carry_the_opencv_names_of_their_values(client: TestClient) -> None:
    form = fields(client, "Affine")
    assert form["interpolation"]["option_names"][:2] == ["INTER_NEAREST", "INTER_LINEAR"]
    assert form["border_mode"]["option_names"][4] == "BORDER_REFLECT_101"
    assert form["mask_interpolation"]["options"] == [0, 1, 2, 3, 4]
    named = 0
    for entry in client.get("/api/transforms").json():
        for field in client.get(f"/api/transforms/{entry['name']}").json()["fields"]:
            if "option_names" in field:
                named += 1
                assert [getattr(cv2, n) for n in field["option_names"]] == field["options"], field
    assert named > 40  # every interpolation and border-mode field, across the catalogue


def test_ranges_get_sliders_from_the_declaration(client: TestClient) -> None:
    affine = fields(client, "Affine")
    assert affine["rotate"]["slider"] == {"min": -180, "max": 180, "step": 1, "declared": True}
    assert affine["p"]["slider"]["min"] == 0.0 and affine["p"]["slider"]["max"] == 1.0
    blur = fields(client, "GaussianBlur")
    assert blur["blur_limit"]["slider"]["step"] == 1 and blur["blur_limit"]["item_type"] == "integer"
    # ranges the declaration leaves open get a slider that covers their values, from zero when
    # nothing is negative, symmetric otherwise
    sigma = blur["sigma_limit"]["slider"]
    assert sigma["min"] == 0.0 and sigma["max"] >= 3.0 and not sigma["declared"]
    brightness = fields(client, "RandomBrightnessContrast")["brightness_limit"]["slider"]
    assert brightness["min"] == -brightness["max"] and brightness["max"] >= 0.2
    for entry in client.get("/api/transforms").json():
        for field in client.get(f"/api/transforms/{entry['name']}").json()["fields"]:
            if field["widget"] not in ("range", "axes"):
                continue
            slider = field["slider"]
            assert slider["min"] < slider["max"] and slider["step"] > 0, (entry["name"], field)
            values = [field["value"], field["default"]]
            if field["widget"] == "axes":
                values = [v for d in values if isinstance(d, dict) for v in d.values()]
            numbers = [n for v in values if isinstance(v, list) for n in v]
            assert all(slider["min"] <= n <= slider["max"] for n in numbers), (entry["name"], field)


def test_per_axis_dicts_are_axes_with_their_keys(client: TestClient) -> None:
    affine = fields(client, "Affine")
    for name in ("scale", "shear", "translate_percent", "translate_px"):
        assert affine[name]["widget"] == "axes" and affine[name]["axes"] == ["x", "y"]
    assert affine["translate_percent"]["nullable"] and not affine["scale"]["nullable"]
    assert affine["scale"]["slider"]["min"] > 0


# ---- the grid of samples -------------------------------------------------------------------------


def grid(client: TestClient, body: dict[str, Any]) -> Any:
    response = client.post("/api/grid", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_grid_tiles_are_the_library_output_for_consecutive_seeds(
    client: TestClient, session: str, image: np.ndarray
) -> None:
    body = {"session": session, "pipeline": PIPELINE, "seed": 100, "draw_targets": False, "tile_side": 128}
    result = grid(client, body)
    assert len(result["tiles"]) == 16  # the default
    assert [t["seed"] for t in result["tiles"]] == list(range(100, 116))
    for tile in result["tiles"][:4]:
        pipeline = A.Compose(
            [
                A.Affine(rotate=(-40, 40), scale=(0.8, 1.2), p=1.0),
                A.RandomBrightnessContrast(brightness_limit=(-0.3, 0.3), p=0.8),
                A.GaussNoise(p=1.0),
            ],
            seed=tile["seed"],
        )
        assert np.array_equal(decode(tile["image"]), pipeline(image=image)["image"])
        assert tile["applied"][0]["name"] == "Affine"
    # tile 0 is what /api/apply shows for the same seed
    assert apply(client, session, 100, draw_targets=False)["image"] == result["tiles"][0]["image"]
    assert result["boxes_dropped"] is None and result["keypoints_dropped"] is None


def test_grid_counts_the_boxes_and_keypoints_dropped(client: TestClient) -> None:
    crop = [{"name": "RandomCrop", "args": {"height": 200, "width": 200}, "p": 1.0}]
    result = grid(client, {"session": "sample", "pipeline": crop, "seed": 3, "count": 24})
    scene = sample_scene()
    kept_boxes = kept_points = 0
    for seed in range(3, 27):
        pipeline = A.Compose(
            [A.RandomCrop(height=200, width=200, p=1.0)],
            bbox_params={"format": "pascal_voc", "label_fields": ["labels"]},
            keypoint_params={"format": "xy", "label_fields": ["keypoint_labels"], "remove_invisible": True},
            seed=seed,
        )
        out = pipeline(
            **{k: scene[k] for k in ("image", "mask", "bboxes", "labels", "keypoints", "keypoint_labels")}
        )
        kept_boxes += len(out["bboxes"])
        kept_points += len(out["keypoints"])
    assert (result["boxes_in"], result["keypoints_in"]) == (4 * 24, 5 * 24)
    assert (result["boxes_kept"], result["keypoints_kept"]) == (kept_boxes, kept_points)
    assert result["boxes_dropped"] == pytest.approx(1 - kept_boxes / 96)
    assert result["keypoints_dropped"] == pytest.approx(1 - kept_points / 120)
    assert 0 < result["boxes_dropped"] < 1
    assert [t["bboxes"] for t in result["tiles"]] != [4] * 24
    drawn = decode(result["tiles"][0]["image"])
    assert max(drawn.shape[:2]) <= 256  # tiles are shrunk to tile_side


@pytest.mark.parametrize(
    ("extra", "words"),
    [({"count": 0}, "count"), ({"count": 65}, "count"), ({"tile_side": 8}, "tile_side")],
)
def test_grid_limits_are_4xx(client: TestClient, extra: dict[str, Any], words: str) -> None:
    response = client.post("/api/grid", json={"session": "sample", "pipeline": [], **extra})
    assert response.status_code == 422 and words in response.json()["detail"]


def test_thumbnail_draws_targets_where_the_shrunk_image_has_them() -> None:
    from invariance.explore.panels import thumbnail

    image = np.zeros((200, 400, 3), np.uint8)
    result = {
        "image": image,
        "bboxes": [[100.0, 50.0, 300.0, 150.0]],
        "labels": [""],
        "keypoints": [[200.0, 100.0]],
    }
    tile = thumbnail(result, 100, draw=True)
    assert tile.shape == (50, 100, 3)
    lit = np.argwhere(tile.max(axis=2) > 0)
    assert lit[:, 1].min() >= 24 and lit[:, 1].max() <= 76  # the box (x 25..75) and the point inside
    assert lit[:, 0].min() >= 11 and lit[:, 0].max() <= 39
    assert tile[25, 50].any()  # the keypoint at (50, 25)
    assert not thumbnail(result, 100, draw=False).any()


# ---- time per transform --------------------------------------------------------------------------


def test_profile_times_each_step_with_the_library_profiler(client: TestClient, session: str) -> None:
    steps = [
        {"name": "HorizontalFlip", "args": {}, "p": 1.0},
        {"name": "GaussianBlur", "args": {"blur_limit": [3, 5]}, "p": 1.0},
        {"name": "InvertImg", "args": {}, "p": 0.0},
    ]
    response = client.post("/api/profile", json={"session": session, "pipeline": steps, "runs": 5})
    assert response.status_code == 200, response.text
    report = response.json()
    assert 1 <= report["runs"] <= 5
    assert [s["name"] for s in report["steps"]] == ["HorizontalFlip", "GaussianBlur", "InvertImg"]
    flip, blur, invert = report["steps"]
    assert flip["fired"] == blur["fired"] == report["runs"] and invert["fired"] == 0
    assert flip["ms_when_fired"] > 0 and blur["ms_when_fired"] > 0 and invert["ms_when_fired"] is None
    assert report["total_ms"] >= flip["ms_per_image"] + blur["ms_per_image"]
    bad = client.post("/api/profile", json={"session": session, "pipeline": steps, "runs": 0})
    assert bad.status_code == 422 and "runs" in bad.json()["detail"]


# ---- policy files ----------------------------------------------------------------------------------

POLICY = A.Compose(
    [A.HorizontalFlip(p=0.5), A.GaussianBlur(blur_limit=(3, 7), p=0.3), A.Affine(rotate=(-15, 15), p=0.7)],
    seed=21,
)


def policy_text(fmt: str) -> str:
    buffer = io.StringIO()
    A.save(POLICY, buffer, data_format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_policy_file_loads_into_steps_that_export_back_to_it(
    client: TestClient, session: str, fmt: str
) -> None:
    response = client.post(f"/api/policy?filename=policy.{fmt}", content=policy_text(fmt))
    assert response.status_code == 200, response.text
    loaded = response.json()
    assert [s["name"] for s in loaded["steps"]] == ["HorizontalFlip", "GaussianBlur", "Affine"]
    assert [s["p"] for s in loaded["steps"]] == [0.5, 0.3, 0.7]
    assert loaded["steps"][1]["args"]["blur_limit"] == [3, 7] and loaded["seed"] == 21
    body = {"session": session, "pipeline": loaded["steps"], "seed": 21, "format": "yaml"}
    text = client.post("/api/export", json=body).json()["text"]
    assert A.fingerprint(A.load(io.StringIO(text), data_format="yaml")) == A.fingerprint(POLICY)


def test_the_page_is_diffed_against_the_loaded_policy(client: TestClient, session: str) -> None:
    steps = client.post("/api/policy?filename=p.yaml", content=policy_text("yaml")).json()["steps"]

    def diff(pipeline: list[dict[str, Any]]) -> Any:
        body = {"session": session, "pipeline": pipeline, "policy": policy_text("yaml"), "filename": "p.yaml"}
        response = client.post("/api/diff", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    assert diff(steps) == {"same": True, "changes": []}
    edited = [dict(s) for s in steps]
    edited[1] = {**edited[1], "p": 0.6}
    edited.append({"name": "ToGray", "args": {}, "p": 0.1})
    changes = diff(edited)["changes"]
    assert changes[0] == "transform.transforms[1]<GaussianBlur>.p: 0.3 -> 0.6"
    assert changes[1].startswith("transform.transforms[3]: added ToGray(")
    assert changes == A.diff(
        POLICY,
        A.Compose(
            [
                *POLICY.transforms[:1],
                A.GaussianBlur(blur_limit=(3, 7), p=0.6),
                POLICY.transforms[2],
                A.ToGray(p=0.1),
            ],
            seed=21,
        ),
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("::: [", "could not be loaded"),
        ("transform: {__class_fullname__: NoSuchTransform}", "NoSuchTransform"),
        (None, "block of transforms"),
    ],
)
def test_bad_policy_files_are_4xx_with_a_message(client: TestClient, text: str | None, words: str) -> None:
    if text is None:
        buffer = io.StringIO()
        A.save(A.Compose([A.OneOf([A.HorizontalFlip(), A.VerticalFlip()])]), buffer, data_format="yaml")
        text = buffer.getvalue()
    response = client.post("/api/policy?filename=p.yaml", content=text)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]


def test_a_single_transform_policy_loads_and_diffs(client: TestClient, session: str) -> None:
    buffer = io.StringIO()
    A.save(A.GaussianBlur(blur_limit=(3, 5), p=0.2), buffer, data_format="json")
    text = buffer.getvalue()
    loaded = client.post("/api/policy?filename=blur.json", content=text).json()
    assert loaded["steps"] == [
        {"name": "GaussianBlur", "args": {"blur_limit": [3, 5], "sigma_limit": [0.5, 3.0]}, "p": 0.2}
    ]
    assert loaded["seed"] is None
    body = {"session": session, "policy": text, "filename": "blur.json"}
    same = client.post("/api/diff", json={**body, "pipeline": loaded["steps"]}).json()
    assert same == {"same": True, "changes": []}
    changed = client.post("/api/diff", json={**body, "pipeline": [{**loaded["steps"][0], "p": 0.4}]}).json()
    assert changed["changes"] == ["transform.p: 0.2 -> 0.4"]


def test_fixed_length_tuples_are_number_boxes_and_polymorphic_values_stay_json(client: TestClient) -> None:
    gravel = fields(client, "RandomGravel")["gravel_roi"]
    assert (gravel["widget"], gravel["length"], gravel["value"]) == ("numbers", 4, [0.1, 0.4, 0.9, 0.9])
    # a fill may be a number or one value per channel: genuinely free-form, so JSON text
    assert fields(client, "Affine")["fill"]["widget"] == "json"
