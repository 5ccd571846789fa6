"""The docs generators: catalogue pages from declarations, pictures cached by a source hash."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("skimage")

SCRIPTS = Path(__file__).resolve().parents[1] / "docs" / "scripts"
NAMES = ["Rotate", "GaussNoise", "CoarseDropout"]


@pytest.fixture(scope="module")
def gen() -> tuple[object, object]:
    sys.path.insert(0, str(SCRIPTS))
    try:
        yield importlib.import_module("gen_pictures"), importlib.import_module("gen_catalogue")
    finally:
        sys.path.remove(str(SCRIPTS))


def test_pictures_are_drawn_once_and_redrawn_when_the_hash_changes(gen, tmp_path: Path) -> None:
    pictures, _ = gen
    drawn: list[str] = []
    assert pictures.update(NAMES, out=tmp_path, log=drawn.append) == {}
    assert len(drawn) == 3
    for name in NAMES:
        path = tmp_path / f"{name}.jpg"
        assert path.read_bytes()[:2] == b"\xff\xd8"  # a JPEG
        assert path.stat().st_size < 60_000
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert set(manifest) == set(NAMES)
    drawn.clear()
    pictures.update(NAMES, out=tmp_path, log=drawn.append)
    assert drawn == []  # nothing changed: nothing redrawn
    left = pictures.stale(tmp_path)
    assert set(NAMES).isdisjoint(left) and "HorizontalFlip" in left
    manifest["Rotate"] = "stale"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    pictures.update(NAMES, out=tmp_path, log=drawn.append)
    assert len(drawn) == 1 and "Rotate" in drawn[0]


def test_the_hash_follows_the_transform_source_and_example(gen, monkeypatch: pytest.MonkeyPatch) -> None:
    pictures, _ = gen
    import invariance as A

    before = pictures.picture_hash(A.Rotate)
    assert before == pictures.picture_hash(A.Rotate)
    assert before != pictures.picture_hash(A.Affine)
    monkeypatch.setattr(A.Rotate, "example_args", {"limit": 45})
    assert pictures.picture_hash(A.Rotate) != before


def test_the_hash_does_not_depend_on_where_the_font_is_installed(
    gen, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pictures, _ = gen
    import shutil

    import invariance as A

    font = Path(A.TextImage.example_args["font_path"])
    if not font.is_file():
        pytest.skip("the example font is not installed (invariance[text])")
    here = pictures.picture_hash(A.TextImage)
    moved = tmp_path / "another-venv" / font.name
    moved.parent.mkdir()
    shutil.copy(font, moved)
    monkeypatch.setattr(A.TextImage, "example_args", {**A.TextImage.example_args, "font_path": str(moved)})
    assert pictures.picture_hash(A.TextImage) == here  # same font file, another environment
    moved.write_bytes(font.read_bytes()[:-1] + b"x")
    assert pictures.picture_hash(A.TextImage) != here  # another font draws another picture


def test_the_picture_grid_holds_the_original_and_five_samples(gen) -> None:
    pictures, _ = gen
    import invariance as A

    grid = pictures.render(A.HorizontalFlip)
    size, pad, columns = pictures.SIZE, 3, pictures.COLUMNS
    rows = (1 + pictures.SAMPLES + columns - 1) // columns
    assert grid.shape == (rows * (size + pad) + pad, columns * (size + pad) + pad, 3)
    first = grid[pad : pad + size, pad : pad + size]
    second = grid[pad : pad + size, 2 * pad + size : 2 * pad + 2 * size]
    # p=1 flip: the second tile is the first mirrored (up to the drawn caption in the corner)
    assert abs(first[40:].astype(int) - second[40:, ::-1].astype(int)).mean() < 12


def test_pages_are_generated_from_the_declaration(gen, tmp_path: Path) -> None:
    _, catalogue = gen
    import invariance as A

    pages = catalogue.generate(NAMES, images=tmp_path, prefix="../images/catalogue/")
    assert set(pages) == {"index.md", *(f"{n}.md" for n in NAMES)}
    rotate = pages["Rotate.md"]
    for field in A.Rotate.InitSchema.model_fields:
        assert f"| `{field}` |" in rotate
    assert "| `p` | `float` | `0.5` | 0.0 ≤ x ≤ 1.0 |" in rotate
    assert "one of `'largest_box'`, `'ellipse'`" in rotate
    assert "**Targets:** image, images, mask, masks, bboxes, keypoints" in rotate
    assert "No picture" in rotate  # tmp_path holds no pictures yet
    index = pages["index.md"]
    assert "[Rotate](Rotate.md)" in index and "[GaussNoise](GaussNoise.md)" in index
    # parameter order is the signature's: p last
    rows = [line for line in pages["GaussNoise.md"].splitlines() if line.startswith("| `")]
    assert rows[0].startswith("| `std_range`") and rows[-1].startswith("| `p`")


def test_docstring_markup_becomes_markdown(gen) -> None:
    _, catalogue = gen
    body, args, sections = catalogue.split_docstring(
        "Summary.\n\nMore ``code`` here.\n\nArgs:\n    a, b: the pair, in\n        [0, 1].\n    c: x.\n\n"
        "Example:\n    >>> t = 1\n\nTargets: image."
    )
    assert args == {"a": "the pair, in [0, 1].", "b": "the pair, in [0, 1].", "c": "x."}
    assert "Targets: image." in body
    assert sections[0][0] == "Example"
    assert catalogue._inline("a <b> ``c<d>`` :class:`~x.Y`") == "a &lt;b> `c<d>` `x.Y`"
    assert (
        catalogue.describe_schema({"anyOf": [{"type": "number", "minimum": 0}, {"type": "null"}]}, {})
        == "x ≥ 0"
    )


def test_committed_pictures_stay_small() -> None:
    folder = SCRIPTS.parent / "images" / "catalogue"
    pictures = list(folder.glob("*.jpg"))
    if not pictures:
        pytest.skip("no catalogue pictures committed")
    assert all(p.stat().st_size < 60_000 for p in pictures)
    assert sum(p.stat().st_size for p in pictures) < 8_000_000


def test_nav_pages_not_written_yet_are_left_out(gen, tmp_path: Path) -> None:
    _, catalogue = gen
    (tmp_path / "guide").mkdir()
    (tmp_path / "here.md").write_text("# here")
    (tmp_path / "guide" / "a.md").write_text("# a")
    nav = [
        {"Home": "here.md"},
        {"Guides": [{"A": "guide/a.md"}, {"Later": "guide/later.md"}]},
        {"Gone": [{"B": "b.md"}]},
        {"Catalogue": "catalogue/index.md"},
    ]
    notes: list[str] = []
    kept = catalogue._prune(nav, tmp_path, notes.append)
    assert kept == [
        {"Home": "here.md"},
        {"Guides": [{"A": "guide/a.md"}]},
        {"Catalogue": "catalogue/index.md"},
    ]
    assert len(notes) == 2
