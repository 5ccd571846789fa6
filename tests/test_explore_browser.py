"""End-to-end test of ``invariance explore`` in headless Chromium (Debian's chromium + chromedriver).

Skipped when the ``explore`` extra, selenium or the browser is missing. CI installs them with
``apt-get install -y chromium chromium-driver`` and ``pip install fastapi uvicorn selenium``.
"""

from __future__ import annotations

import base64
import io
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")

import invariance as A  # noqa: E402
from invariance.explore.app import create_app  # noqa: E402
from invariance.explore.server import free_port  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "explore.png"
GRID_SCREENSHOT = SCREENSHOT.with_name("explore-grid.png")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver",
)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the explorer server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory() as profile:
        options = Options()
        options.binary_location = str(CHROMIUM)
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1360,900",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
        driver.set_page_load_timeout(30)
        try:
            yield driver
        finally:
            driver.quit()


def wait_for(condition: Any, timeout: float = 20.0, what: str = "condition") -> Any:
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except StaleElementReferenceException:  # the page redrew the element meanwhile: look again
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def click(driver: Any, css: str) -> None:
    """Click the element ``css`` selects, looking it up again if the page redrew it meanwhile."""

    def attempt() -> bool:
        driver.find_element("css selector", css).click()
        return True

    wait_for(attempt, what=f"a click on {css}")


def shown_image(driver: Any) -> np.ndarray:
    src = driver.find_element("id", "result").get_attribute("src")
    assert src.startswith("data:image/png;base64,")
    data = np.frombuffer(base64.b64decode(src.split(",", 1)[1]), np.uint8)
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def settle(driver: Any, before: str | None) -> str:
    """Wait until a new run finished (its version changed) and the page is idle; the version."""

    def done() -> str | None:
        body = driver.find_element("tag name", "body")
        version = body.get_attribute("data-version")
        return version if version and version != before and not body.get_attribute("data-busy") else None

    result: str = wait_for(done, what="the pipeline to run")
    status = driver.find_element("id", "status")
    assert "error" not in (status.get_attribute("class") or ""), status.text
    return result


def test_upload_tune_export_reproduce(server_url: str, browser: Any, tmp_path: Path) -> None:
    driver = browser
    driver.get(server_url)
    wait_for(lambda: driver.find_element("tag name", "body").get_attribute("data-ready"), what="the page")
    assert len(driver.find_elements("css selector", "#catalogue .family button")) > 50

    # search filters the catalogue
    search = driver.find_element("id", "search")
    search.send_keys("brightness")
    names = [
        b.get_attribute("data-name")
        for b in driver.find_elements("css selector", "#catalogue .family button")
    ]
    assert "RandomBrightnessContrast" in names and "Affine" not in names
    search.clear()
    search.send_keys("affine")

    # the user's own image, uploaded from a file
    rng = np.random.default_rng(5)
    image = cv2.GaussianBlur(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8), (7, 7), 0)
    cv2.rectangle(image, (30, 20), (90, 80), (250, 40, 40), -1)
    upload = tmp_path / "mine.png"
    cv2.imwrite(str(upload), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    version = driver.find_element("tag name", "body").get_attribute("data-version")
    driver.find_element("id", "image-file").send_keys(str(upload))
    version = settle(driver, version)
    wait_for(lambda: "160\u00d7120" in driver.find_element("id", "session-info").text, what="the upload")
    assert np.array_equal(shown_image(driver), image)  # empty pipeline: the image itself

    # add Affine from the catalogue (p=1 in the pipeline), then change its rotation range
    driver.find_element("css selector", '#catalogue button[data-name="Affine"]').click()
    version = settle(driver, version)
    driver.find_element("id", "seed").clear()
    driver.find_element("id", "seed").send_keys("1234")
    driver.find_element("id", "apply").click()
    version = settle(driver, version)
    first = shown_image(driver)
    assert not np.array_equal(first, image)
    low, high = driver.find_elements("css selector", '#form [data-field="rotate"] input')
    for element, value in ((low, "-90"), (high, "-60")):
        element.clear()
        element.send_keys(value)
        element.send_keys("\t")
    version = settle(driver, version)
    wait_for(lambda: "rotate" in driver.find_element("id", "applied").text, what="applied parameters")
    changed = shown_image(driver)
    assert not np.array_equal(changed, first), "changing a parameter must change the result"
    applied = driver.find_element("id", "applied").text
    assert "Affine" in applied and "rotate" in applied

    # export the YAML policy; it loads and reproduces what the page shows, with the seed
    driver.find_element("id", "export-yaml").click()
    wait_for(lambda: driver.find_element("id", "export-text").get_attribute("value"), what="the export")
    text = driver.find_element("id", "export-text").get_attribute("value")
    assert "seed: 1234" in text and "Affine" in text
    pipeline = A.load(io.StringIO(text), data_format="yaml")
    assert np.array_equal(pipeline(image=image)["image"], changed)

    # resample draws a new seed and a new view
    seed_before = driver.find_element("id", "seed").get_attribute("value")
    driver.find_element("id", "resample").click()
    settle(driver, version)
    assert driver.find_element("id", "seed").get_attribute("value") != seed_before

    # the README screenshot: docs/images/explore.png with INVARIANCE_EXPLORE_SCREENSHOT=1
    keep = os.environ.get("INVARIANCE_EXPLORE_SCREENSHOT") == "1"
    take_screenshot(driver, SCREENSHOT if keep else tmp_path / "explore.png")


def take_screenshot(driver: Any, path: Path) -> None:
    """The built-in sample through a two-step pipeline, for the README (docs/images/explore.png)."""
    version = driver.find_element("tag name", "body").get_attribute("data-version")
    driver.find_element("id", "seed").clear()
    driver.find_element("id", "seed").send_keys("2024")
    driver.find_element("id", "use-sample").click()
    version = settle(driver, version)
    driver.execute_script(
        "const s = document.getElementById('search'); s.value = ''; s.dispatchEvent(new Event('input'));"
    )
    click(driver, '#catalogue button[data-name="RandomBrightnessContrast"]')
    version = settle(driver, version)
    click(driver, "#pipeline li .name")
    wait_for(
        lambda: driver.find_elements("css selector", '#form [data-field="rotate"]'), what="the Affine form"
    )
    low, high = driver.find_elements("css selector", '#form [data-field="rotate"] input')
    for element, value in ((high, "25"), (low, "-25")):
        element.clear()
        element.send_keys(value, "\t")
        version = settle(driver, version)
    driver.find_element("id", "export-python").click()
    wait_for(
        lambda: "A.Compose" in driver.find_element("id", "export-text").get_attribute("value"), what="export"
    )
    wait_for(
        lambda: driver.execute_script("return document.getElementById('original').complete"),
        what="the original",
    )
    grid_settled(driver, None)
    driver.execute_script("window.scrollTo(0, 0);")
    shot = cv2.imdecode(np.frombuffer(driver.get_screenshot_as_png(), np.uint8), cv2.IMREAD_COLOR)
    encoded = cv2.imencode(".png", shot, [cv2.IMWRITE_PNG_COMPRESSION, 9])[1].tobytes()
    while len(encoded) > 380_000:
        shot = cv2.resize(shot, None, fx=0.9, fy=0.9, interpolation=cv2.INTER_AREA)
        encoded = cv2.imencode(".png", shot, [cv2.IMWRITE_PNG_COMPRESSION, 9])[1].tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encoded)
    assert len(encoded) < 400_000


def test_pipeline_builder_reorders_removes_and_sets_p(server_url: str, browser: Any) -> None:
    driver = browser
    driver.get(server_url)
    wait_for(lambda: driver.find_element("tag name", "body").get_attribute("data-ready"), what="the page")
    version = settle(driver, None)
    for name in ("HorizontalFlip", "InvertImg", "ToGray"):
        driver.find_element("css selector", f'#catalogue button[data-name="{name}"]').click()
        version = settle(driver, version)

    def steps() -> list[str]:
        return [e.text for e in driver.find_elements("css selector", "#pipeline li .name")]

    def applied() -> list[str]:
        return [line.split(" ")[0] for line in driver.find_element("id", "applied").text.splitlines()]

    assert steps() == ["HorizontalFlip", "InvertImg", "ToGray"]
    assert applied() == ["HorizontalFlip", "InvertImg", "ToGray"]
    driver.find_elements("css selector", "#pipeline li .move-down")[0].click()
    version = settle(driver, version)
    assert steps() == ["InvertImg", "HorizontalFlip", "ToGray"] and applied() == steps()
    driver.find_elements("css selector", "#pipeline li .remove")[2].click()
    version = settle(driver, version)
    assert steps() == ["InvertImg", "HorizontalFlip"]
    p = driver.find_elements("css selector", "#pipeline li .step-p")[0]
    p.clear()
    p.send_keys("0", "\t")
    settle(driver, version)
    assert applied() == ["HorizontalFlip"]
    # metadata-dependent transforms are marked and not added
    marked = driver.find_element("css selector", '#catalogue button[data-name="FDA"]')
    assert "needs metadata" in marked.text
    marked.click()
    wait_for(lambda: "needs metadata" in driver.find_element("id", "doc").text, what="the FDA note")
    assert steps() == ["InvertImg", "HorizontalFlip"]


# ---- controls derived from the declarations, the grid of samples, timings and policy files ------


def exported_steps(driver: Any) -> list[dict[str, Any]]:
    """The page's pipeline as its exported YAML policy says (the transforms' dicts)."""
    import yaml

    field = driver.find_element("id", "export-text")
    driver.execute_script("arguments[0].value = '';", field)
    driver.find_element("id", "export-yaml").click()
    text = wait_for(lambda: field.get_attribute("value"), what="the YAML export")
    steps: list[dict[str, Any]] = yaml.safe_load(text)["transform"]["transforms"]
    return steps


def grid_settled(driver: Any, before: str | None) -> str:
    """Wait until the panels (grid, timings, diff) of a newer run are drawn; their version."""

    def done() -> str | None:
        body = driver.find_element("tag name", "body")
        version = body.get_attribute("data-panels")
        latest = version == body.get_attribute("data-panels-wanted")
        return version if version and version != before and latest else None

    result: str = wait_for(done, what="the grid and timings")
    return result


def test_controls_grid_timings_and_policy(server_url: str, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    driver = browser
    driver.get(server_url)
    wait_for(lambda: driver.find_element("tag name", "body").get_attribute("data-ready"), what="the page")
    version = settle(driver, None)
    driver.find_element("css selector", '#catalogue button[data-name="Affine"]').click()
    version = settle(driver, version)
    seed = driver.find_element("id", "seed")
    seed.clear()
    seed.send_keys("77")
    driver.find_element("id", "apply").click()
    version = settle(driver, version)
    before = shown_image(driver)
    assert exported_steps(driver)[0]["rotate"] == [-20.0, 20.0]

    # a range is a two-handle slider with number boxes: drag the high handle of rotate right
    rotate = driver.find_element("css selector", '#form [data-field="rotate"]')
    assert len(rotate.find_elements("css selector", ".slider .thumb")) == 2
    high_box = rotate.find_element("css selector", "input.high")
    ActionChains(driver).drag_and_drop_by_offset(
        rotate.find_element("css selector", ".thumb.high"), 30, 0
    ).perform()
    version = settle(driver, version)
    high = float(high_box.get_attribute("value"))
    assert high > 20.0
    moved = shown_image(driver)
    assert not np.array_equal(moved, before), "moving the slider must change the result"
    assert exported_steps(driver)[0]["rotate"] == [-20.0, high]
    # the number box beside it sets an exact value, and the handle follows
    high_box.clear()
    high_box.send_keys("45", "\t")
    version = settle(driver, version)
    assert exported_steps(driver)[0]["rotate"] == [-20.0, 45.0]
    handle = rotate.find_element("css selector", ".thumb.high")
    assert handle.get_attribute("aria-valuenow") == "45"

    # an enumeration shows OpenCV's names and sends the number
    interpolation = Select(driver.find_element("css selector", '#form [data-field="interpolation"] select'))
    assert interpolation.first_selected_option.text == "INTER_LINEAR"
    assert "INTER_NEAREST" in [o.text for o in interpolation.options]
    border = Select(driver.find_element("css selector", '#form [data-field="border_mode"] select'))
    assert border.first_selected_option.text == "BORDER_CONSTANT"
    reflected_before = shown_image(driver)
    border.select_by_visible_text("BORDER_REFLECT_101")
    version = settle(driver, version)
    assert not np.array_equal(shown_image(driver), reflected_before)
    assert exported_steps(driver)[0]["border_mode"] == 4

    # a per-axis dict: while x/y are linked, moving x moves y; unlinked, x moves alone
    scale = driver.find_element("css selector", '#form [data-field="scale"]')
    linked = scale.find_element("css selector", "input.linked")
    assert linked.is_selected()
    x_high = scale.find_element("css selector", '[data-axis="x"] .thumb.high')
    x_high.send_keys(Keys.ARROW_RIGHT)
    version = settle(driver, version)
    step = exported_steps(driver)[0]
    assert step["scale"] == {"x": [0.8, 1.21], "y": [0.8, 1.21]}
    linked_image = shown_image(driver)
    linked.click()
    assert not linked.is_selected()
    x_high.send_keys(Keys.ARROW_RIGHT)
    version = settle(driver, version)
    step = exported_steps(driver)[0]
    assert step["scale"] == {"x": [0.8, 1.22], "y": [0.8, 1.21]}
    assert not np.array_equal(shown_image(driver), linked_image)
    y_box = scale.find_element("css selector", '[data-axis="y"] input.high')
    assert y_box.get_attribute("value") == "1.21"

    # the grid: 16 samples by default, the seed under each, applied parameters on a click,
    # and the share of boxes and keypoints dropped across the grid
    panels = grid_settled(driver, None)
    tiles = driver.find_elements("css selector", "#grid .tile")
    assert len(tiles) == 16
    assert [t.find_element("tag name", "figcaption").text for t in tiles[:3]] == [
        "seed 77",
        "seed 78",
        "seed 79",
    ]
    info = driver.find_element("id", "grid-info").text
    assert "boxes dropped" in info and "keypoints dropped" in info and "budget" in info
    assert "of 64)" in info and "of 80)" in info  # 16 samples of the scene's 4 boxes and 5 keypoints
    assert tiles[15].find_element("tag name", "figcaption").text == "seed 92"
    tiles[2].click()
    details = driver.find_element("id", "tile-info").text
    assert details.startswith("seed 79") and "Affine" in details and "rotate" in details
    Select(driver.find_element("id", "grid-count")).select_by_visible_text("8")
    panels = grid_settled(driver, panels)
    assert len(driver.find_elements("css selector", "#grid .tile")) == 8

    # time per transform, from the profiler
    driver.find_element("css selector", '#catalogue button[data-name="HorizontalFlip"]').click()
    version = settle(driver, version)
    panels = grid_settled(driver, panels)
    rows = driver.find_elements("css selector", "#profile tbody tr")
    assert [r.get_attribute("data-name") for r in rows] == ["Affine", "HorizontalFlip"]
    assert all("\u00d7" in r.text for r in rows)  # the "x fastest" column

    # load a policy file: its steps replace the builder's, and the page diffs against it
    policy = tmp_path / "policy.yaml"
    A.save(
        A.Compose([A.HorizontalFlip(p=0.5), A.GaussianBlur(blur_limit=(3, 7), p=0.3)], seed=5),
        policy,
        data_format="yaml",
    )
    driver.find_element("id", "policy-file").send_keys(str(policy))
    wait_for(
        lambda: (
            [e.text for e in driver.find_elements("css selector", "#pipeline li .name")]
            == ["HorizontalFlip", "GaussianBlur"]
        ),
        what="the policy's steps",
    )
    version = settle(driver, version)
    assert driver.find_element("id", "seed").get_attribute("value") == "5"
    wait_for(lambda: "same steps as policy.yaml" in driver.find_element("id", "diff").text, what="the diff")
    assert [s["__class_fullname__"] for s in exported_steps(driver)] == ["HorizontalFlip", "GaussianBlur"]
    p = driver.find_elements("css selector", "#pipeline li .step-p")[1]
    p.clear()
    p.send_keys("1", "\t")
    settle(driver, version)
    wait_for(
        lambda: "transforms[1]<GaussianBlur>.p: 0.3 -> 1.0" in driver.find_element("id", "diff").text,
        what="the diff to show the change",
    )

    # no script errors along the way (the browser's own favicon request is the only 404)
    logged = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert [m for m in logged if "favicon.ico" not in m] == []

    keep = os.environ.get("INVARIANCE_EXPLORE_SCREENSHOT") == "1"
    take_grid_screenshot(driver, GRID_SCREENSHOT if keep else tmp_path / "explore-grid.png")


def take_grid_screenshot(driver: Any, path: Path) -> None:
    """The grid of 16 samples of a small detection policy on the built-in scene (docs/images/explore-grid.png)."""
    driver.set_window_size(1500, 1600)
    try:
        version = driver.find_element("tag name", "body").get_attribute("data-version")
        driver.find_element("id", "use-sample").click()
        version = settle(driver, version)
        while driver.find_elements("css selector", "#pipeline li .remove"):
            driver.find_elements("css selector", "#pipeline li .remove")[0].click()
            version = settle(driver, version)
        seed = driver.find_element("id", "seed")
        seed.clear()
        seed.send_keys("2024", "\t")
        version = settle(driver, version)
        from selenium.webdriver.support.ui import Select

        Select(driver.find_element("id", "grid-count")).select_by_visible_text("16")
        for name in ("Affine", "HorizontalFlip", "RandomBrightnessContrast"):
            driver.find_element("css selector", f'#catalogue button[data-name="{name}"]').click()
            version = settle(driver, version)
        grid_settled(driver, None)
        wait_for(lambda: len(driver.find_elements("css selector", "#grid .tile")) == 16, what="16 tiles")
        driver.find_elements("css selector", "#grid .tile")[5].click()
        section = driver.find_element("id", "samples")
        driver.execute_script("arguments[0].scrollIntoView();", section)
        shot = cv2.imdecode(np.frombuffer(section.screenshot_as_png, np.uint8), cv2.IMREAD_COLOR)
    finally:
        driver.set_window_size(1360, 900)
    encoded = cv2.imencode(".png", shot, [cv2.IMWRITE_PNG_COMPRESSION, 9])[1].tobytes()
    while len(encoded) > 450_000:
        shot = cv2.resize(shot, None, fx=0.9, fy=0.9, interpolation=cv2.INTER_AREA)
        encoded = cv2.imencode(".png", shot, [cv2.IMWRITE_PNG_COMPRESSION, 9])[1].tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encoded)
    assert shot.shape[0] > 300 and shot.shape[1] > 500
