"""``invariance preview`` and the drawing helpers behind it."""

from __future__ import annotations

import base64
import re

import cv2
import numpy as np
from typer.testing import CliRunner

from invariance.tools.cli import app
from invariance.tools.preview import preview_grids
from invariance.tools.sample_data import write_sample_dataset
from invariance.viz import draw_targets, html_page, make_grid

runner = CliRunner()


def test_preview_png_for_every_format(tmp_path):
    for fmt in ("coco", "yolo", "voc", "images"):
        root = write_sample_dataset(tmp_path / fmt, fmt, count=1, height=90, width=120, masks=fmt == "images")
        out = tmp_path / f"{fmt}.png"
        result = runner.invoke(app, ["preview", str(root), "-o", str(out), "-n", "3", "--cell", "96"])
        assert result.exit_code == 0, result.output
        grid = cv2.imread(str(out))
        # original + 3 samples in 3 columns: 2 rows of 96 px cells (plus padding)
        assert grid.shape[0] > 2 * 96 and grid.shape[1] > 3 * 96


def test_preview_html_embeds_every_grid_without_external_links(tmp_path):
    root = write_sample_dataset(tmp_path / "d", "coco", count=2, height=90, width=120)
    out = tmp_path / "p.html"
    result = runner.invoke(app, ["preview", str(root), "-o", str(out), "-n", "2", "--cell", "64"])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 2
    decoded = cv2.imdecode(np.frombuffer(base64.b64decode(images[0]), np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None and decoded.shape[2] == 3
    assert "http://" not in page and "https://" not in page


def test_preview_is_seeded_and_independent_of_how_many_images(tmp_path):
    root = write_sample_dataset(tmp_path, "yolo", count=2, height=90, width=120)
    one = preview_grids(root, policy="detection/strong", samples=3, seed=5, limit=1, cell=64)
    two = preview_grids(root, policy="detection/strong", samples=3, seed=5, limit=2, cell=64)
    other = preview_grids(root, policy="detection/strong", samples=3, seed=6, limit=1, cell=64)
    assert np.array_equal(one[0][1], two[0][1])
    assert not np.array_equal(one[0][1], other[0][1])


def test_preview_without_original(tmp_path):
    root = write_sample_dataset(tmp_path, "images", count=1, height=60, width=80)
    with_original = preview_grids(root, samples=3, columns=4, cell=50)[0][1]
    without = preview_grids(root, samples=3, columns=4, cell=50, show_original=False)[0][1]
    assert with_original.shape[1] > without.shape[1]


def test_preview_reports_a_bad_policy(tmp_path):
    root = write_sample_dataset(tmp_path, "images", count=1, height=60, width=80)
    result = runner.invoke(app, ["preview", str(root), "--policy", "no/such"])
    assert result.exit_code == 2
    assert "neither a file nor a preset" in result.output


def test_draw_targets_overlays_instance_masks_boxes_and_visible_keypoints_only():
    image = np.zeros((40, 40, 3), np.uint8)
    instance = np.zeros((40, 40), np.uint8)
    instance[10:20, 10:20] = 1
    drawn = draw_targets(
        image,
        masks=[instance],
        bboxes=[[25, 25, 35, 35]],
        labels=["a"],
        keypoints=[(5, 5), (30, 5)],
        keypoint_visible=[True, False],
        skeleton=[(0, 1)],
    )
    assert drawn[15, 15].any() and not drawn[2, 2].any()
    assert drawn[25, 30].any()  # box edge
    assert drawn[5, 5].any()
    assert not drawn[5, 30].any() and not drawn[5, 18].any()  # hidden point, no edge to it


def test_html_page_and_grid_helpers():
    tiles = [np.full((10, 20, 3), 200, np.uint8), np.zeros((20, 10), np.uint8)]
    grid = make_grid(tiles, columns=2, cell=16, pad=2)
    assert grid.shape == (16 + 4, 2 * 16 + 6, 3)
    page = html_page("t <x>", [("a & b", grid)])
    assert "t &lt;x&gt;" in page and "a &amp; b" in page and page.count("<img") == 1
