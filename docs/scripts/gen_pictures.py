"""Draw the catalogue pictures: each transform on a real photo, with mask, boxes and keypoints.

Run from the repository root::

    python docs/scripts/gen_pictures.py            # redraw only transforms whose source changed
    python docs/scripts/gen_pictures.py --force    # redraw everything
    python docs/scripts/gen_pictures.py Rotate Blur  # just these
    python docs/scripts/gen_pictures.py --check    # CI: exit 1 if a picture is missing or stale

Each picture is the original photo followed by five augmented samples (p=1, a fixed seed),
drawn from the transform's own ``example_args`` / ``example_data``. A JSON manifest next to the
pictures records a hash of what drew each one (the transform's class and module source, the
kernel modules that module imports, its example arguments and this script's drawing code); a picture is only
redrawn when that hash changes, so a transform edit regenerates its own picture and nothing else.
The docs build (``docs/scripts/gen_catalogue.py``, a mkdocs hook) calls :func:`update` too.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import importlib.util
import inspect
import json
import re
import sys
import textwrap
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "images" / "catalogue"
MANIFEST = "manifest.json"
SIZE = 160  # the photo is downscaled to SIZE x SIZE
SAMPLES = 5
SEED = 2024
COLUMNS = 3
MASK_ALPHA = 0.25
JPEG_QUALITY = 75
MAX_BYTES = 48_000  # noisy pictures are re-encoded at lower quality until they fit

# Targets drawn on scikit-image's astronaut, in its native 512 x 512 pixels.
_FACE_BOX = (165.0, 60.0, 290.0, 195.0)
_PATCH_BOX = (132.0, 346.0, 211.0, 425.0)
_SHUTTLE_BOX = (352.0, 0.0, 462.0, 285.0)
_KEYPOINTS = [(201.0, 112.0), (248.0, 112.0), (224.0, 133.0), (224.0, 151.0)]
_KEYPOINT_LABELS = ["right_eye", "left_eye", "nose", "mouth"]  # the subject's right eye is on the image left
#: A horizontal flip swaps which eye is which: the docs' keypoint guide explains ``label_mapping``.
LABEL_MAPPING = {
    name: {"keypoint_labels": {"right_eye": "left_eye", "left_eye": "right_eye"}}
    for name in ("HorizontalFlip", "Transpose")
}


#: Modules holding transforms that ``import invariance`` does not import (their extras may be absent).
OPTIONAL_MODULES = ("invariance.transforms.auto",)


def photo(size: int = SIZE) -> dict[str, Any]:
    """The astronaut photo at ``size`` x ``size`` with a class mask, boxes and keypoints."""
    from skimage import data

    full = data.astronaut()  # type: ignore[no-untyped-call]  (scikit-image is untyped)
    scale = size / full.shape[1]
    image = cv2.resize(full, (size, size), interpolation=cv2.INTER_AREA)
    mask = np.zeros((size, size), np.uint8)
    # 1: face (an ellipse in the face box), 2: mission patch (a disc), 3: helmet (an ellipse)
    x0, y0, x1, y1 = (v * scale for v in _FACE_BOX)
    cv2.ellipse(
        mask,
        (round((x0 + x1) / 2), round((y0 + y1) / 2)),
        (round((x1 - x0) / 2.4), round((y1 - y0) / 2.1)),
        0,
        0,
        360,
        1,
        -1,
    )
    px0, py0, px1, py1 = (v * scale for v in _PATCH_BOX)
    cv2.circle(mask, (round((px0 + px1) / 2), round((py0 + py1) / 2)), round((px1 - px0) / 2), 2, -1)
    cv2.ellipse(
        mask,
        (round(390 * scale), round(440 * scale)),
        (round(112 * scale), round(95 * scale)),
        0,
        0,
        360,
        3,
        -1,
    )
    boxes = [[v * scale for v in box] for box in (_FACE_BOX, _PATCH_BOX, _SHUTTLE_BOX)]
    return {
        "image": image,
        "mask": mask,
        "bboxes": boxes,
        "labels": ["face", "patch", "shuttle"],
        "keypoints": [[x * scale, y * scale] for x, y in _KEYPOINTS],
        "keypoint_labels": list(_KEYPOINT_LABELS),
    }


#: Families drawn on the synthetic scan (volumetric transforms and scanner artefacts).
VOLUME_FAMILIES = ("volumetric", "medical")
#: The scan drawn for volumetric transforms: (depth, height, width) voxels.
VOLUME_SHAPE = (40, 96, 96)


def phantom(shape: tuple[int, int, int] = VOLUME_SHAPE) -> dict[str, Any]:
    """A synthetic head scan: skull, brain, two ventricles and a lesion, with their 3-D mask
    (1 brain, 2 ventricles, 3 lesion) and three ``xyz`` landmarks. Smooth texture and a little
    noise make it look like a T1 slice rather than flat shapes."""
    d, h, w = shape
    z, y, x = np.mgrid[0:d, 0:h, 0:w].astype(np.float32)
    cz, cy, cx = (d - 1) / 2, (h - 1) / 2, (w - 1) / 2
    head = ((z - cz) / (0.48 * d)) ** 2 + ((y - cy) / (0.46 * h)) ** 2 + ((x - cx) / (0.38 * w)) ** 2
    brain = ((z - cz) / (0.42 * d)) ** 2 + ((y - cy) / (0.40 * h)) ** 2 + ((x - cx) / (0.32 * w)) ** 2
    ventricles = np.zeros(shape, bool)
    for side in (-1, 1):
        ventricles |= (
            ((z - cz) / (0.18 * d)) ** 2 + ((y - cy + 4) / (0.16 * h)) ** 2 + ((x - cx - side * 0.07 * w) / (0.04 * w)) ** 2
        ) < 1
    lz, ly, lx = cz + 0.12 * d, cy + 0.18 * h, cx - 0.15 * w
    lesion = ((z - lz) / 5) ** 2 + ((y - ly) / 8) ** 2 + ((x - lx) / 8) ** 2 < 1
    rng = np.random.default_rng(7)
    texture = cv2.GaussianBlur(rng.normal(0, 1, (d * h, w)).astype(np.float32), (0, 0), 3).reshape(shape)
    volume = np.zeros(shape, np.float32)
    volume[head < 1] = 200.0  # skull and scalp
    volume[brain < 1] = 110.0 + 12.0 * texture[brain < 1]
    volume[ventricles] = 35.0
    volume[lesion] = 175.0
    volume += rng.normal(0, 4, shape).astype(np.float32)
    mask3d = np.zeros(shape, np.uint8)
    mask3d[brain < 1] = 1
    mask3d[ventricles] = 2
    mask3d[lesion] = 3
    keypoints = [[lx, ly, lz], [cx - 0.07 * w, cy - 4, cz], [cx + 0.07 * w, cy - 4, cz]]
    return {
        "volume": np.clip(volume, 0, 255).astype(np.uint8),
        "mask3d": mask3d,
        "keypoints": keypoints,
        "keypoint_labels": ["lesion", "left_ventricle", "right_ventricle"],
    }


def _volume_tile(out: dict[str, Any], caption: str) -> np.ndarray:
    """The middle axial slice over the middle coronal view (depth stretched to read well), with
    the 3-D mask and the landmarks within two voxels of each view."""
    from invariance.viz import draw_targets

    volume, mask3d = np.asarray(out["volume"]), np.asarray(out["mask3d"])
    d, h, w = volume.shape[:3]
    points = np.asarray(out.get("keypoints", []), dtype=np.float64).reshape(-1, 3)
    labels = list(out.get("keypoint_labels", []))
    near_z = np.abs(points[:, 2] - d // 2) <= 2
    axial = draw_targets(
        volume[d // 2],
        mask=mask3d[d // 2],
        keypoints=points[near_z, :2],
        keypoint_labels=[lab for lab, n in zip(labels, near_z) if n],
        mask_alpha=MASK_ALPHA,
    )
    stretch = max(1.0, 0.5 * w / d)
    rows = max(1, round(d * stretch))
    coronal_image = cv2.resize(volume[:, h // 2], (w, rows), interpolation=cv2.INTER_LINEAR)
    coronal_mask = cv2.resize(mask3d[:, h // 2], (w, rows), interpolation=cv2.INTER_NEAREST)
    near_y = np.abs(points[:, 1] - h // 2) <= 2
    coronal = draw_targets(
        coronal_image,
        mask=coronal_mask,
        keypoints=np.column_stack([points[near_y, 0], (points[near_y, 2] + 0.5) * stretch - 0.5]),
        mask_alpha=MASK_ALPHA,
    )
    gap = np.full((3, w, 3), 255, np.uint8)
    return _caption(np.vstack([axial, gap, coronal]), caption)


def render_volume(cls: type[Any], samples: int = SAMPLES) -> np.ndarray:
    """The picture of a volumetric transform: the scan, then ``samples`` outputs, each tile its
    middle axial slice over its middle coronal view."""
    import invariance as A
    from invariance.viz import make_grid

    data = phantom()
    tiles = [_volume_tile(data, "original")]
    pipeline = A.Compose(
        [cls(**{**cls.example_args, "p": 1.0})],
        keypoint_params=A.KeypointParams(format="xyz", label_fields=["keypoint_labels"]),
        seed=SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index in range(samples):
            tiles.append(_volume_tile(pipeline(**data), f"sample {index + 1}"))
    return make_grid(tiles, columns=COLUMNS, pad=3, cell=SIZE)


#: Frames of the clip drawn for transforms of frame stacks (``images`` without ``image``).
CLIP_FRAMES = 12


def is_clip_transform(cls: type[Any]) -> bool:
    """Transforms that act on a clip's time axis (``images``) and not on single images."""
    return "images" in cls.supported_targets and "image" not in cls.supported_targets


def _clip_tile(frames: np.ndarray, caption: str) -> np.ndarray:
    """A clip as a contact sheet: its frames in reading order, each numbered."""
    from invariance.viz import make_grid

    thumbs = [_caption(cv2.resize(f, (SIZE // 4, SIZE // 4)), str(i)) for i, f in enumerate(frames)]
    sheet = make_grid(thumbs, columns=4, pad=1, cell=SIZE // 4)
    return _caption(cv2.resize(sheet, (SIZE, SIZE * sheet.shape[0] // sheet.shape[1])), caption)


def render_clip(cls: type[Any], samples: int = SAMPLES) -> np.ndarray:
    """The picture of a clip transform: a 12-frame clip (the photo panning right, the frame
    number burnt in) and what the transform keeps of it."""
    import invariance as A
    from invariance.viz import make_grid

    image = photo()["image"]
    frames = []
    for t in range(CLIP_FRAMES):
        shifted = np.roll(image, 6 * t, axis=1).copy()
        cv2.putText(shifted, f"t={t}", (6, SIZE - 10), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 0), 3)
        frames.append(shifted)
    clip = np.stack(frames)
    tiles = [_clip_tile(clip, f"original: {CLIP_FRAMES} frames")]
    pipeline = A.Compose([cls(**{**cls.example_args, "p": 1.0})], seed=SEED)
    for index in range(samples):
        out = np.asarray(pipeline(images=clip)["images"])
        tiles.append(_clip_tile(out, f"sample {index + 1}: {len(out)} frames"))
    return make_grid(tiles, columns=COLUMNS, pad=3, cell=SIZE)


def picture_classes() -> dict[str, type[Any]]:
    """The transforms that get a catalogue page and picture, by name."""
    import invariance  # noqa: F401  (registers the catalogue)

    for optional in OPTIONAL_MODULES:  # transforms not imported by ``import invariance``
        with contextlib.suppress(ImportError):
            importlib.import_module(optional)
    from invariance.core.compose import BaseCompose
    from invariance.core.registry import is_base, registered
    from invariance.core.transform import BasicTransform

    everything = registered()
    out: dict[str, type[Any]] = {}
    for name, cls in sorted(everything.items()):
        if name.startswith("_") or not isinstance(cls, type) or not issubclass(cls, BasicTransform):
            continue
        if issubclass(cls, BaseCompose) or cls.__module__.startswith("invariance.core"):
            continue
        if not cls.__module__.startswith("invariance."):
            continue  # user classes defined while the docs build (tests, examples)
        if inspect.isabstract(cls):
            continue
        if is_base(cls):
            continue  # an abstract base (OcclusionTransform), not a transform to use
        out[name] = cls
    return out


def _kernel_modules(source: str) -> list[str]:
    names = set(re.findall(r"invariance\.kernels(?:\.(\w+)| import ([\w, ]+))", source))
    modules: set[str] = set()
    for dotted, imported in names:
        for part in [dotted, *imported.split(",")]:
            part = part.strip()
            if part and (ROOT / "src" / "invariance" / "kernels" / f"{part}.py").exists():
                modules.add(part)
    return sorted(modules)


def _source(obj: Any) -> str:
    """``obj``'s code as a syntax tree dump: comments and formatting do not count."""
    try:
        text = inspect.getsource(obj)
    except (OSError, TypeError):
        return ""
    try:
        return ast.dump(ast.parse(textwrap.dedent(text)))
    except SyntaxError:
        return text


def _drawing_source() -> str:
    """What decides every picture on this script's side: its settings and drawing functions."""
    settings = (SIZE, SAMPLES, SEED, COLUMNS, JPEG_QUALITY, MAX_BYTES, MASK_ALPHA, LABEL_MAPPING)
    functions = (photo, _pipeline, _caption, _fit, render, _write_jpeg)
    return repr(settings) + "".join(_source(f) for f in functions)


def _portable(value: Any) -> Any:
    """``value`` with every path to an existing file replaced by the file's name and content hash.

    An example argument such as TextImage's ``font_path`` is an absolute path into the current
    environment; hashing the path itself made every new virtual environment redraw the picture
    (and change tracked files). The file's content is what decides the picture.
    """
    if isinstance(value, dict):
        return {k: _portable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_portable(v) for v in value)
    if isinstance(value, (str, Path)) and len(str(value)) < 4096 and Path(value).is_absolute():
        path = Path(value)
        if path.is_file():
            return f"file:{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}"
    return value


def picture_hash(cls: type[Any]) -> str:
    """A hash of everything that decides ``cls``'s picture."""
    digest = hashlib.sha256()
    module = sys.modules.get(cls.__module__)
    module_source = _source(module) if module is not None else ""
    digest.update(module_source.encode())
    for base in cls.__mro__:
        if base.__module__.startswith("invariance.") and base.__module__ != cls.__module__:
            digest.update(_source(base).encode())
    for kernel in _kernel_modules(module_source):
        kernel_source = (ROOT / "src" / "invariance" / "kernels" / f"{kernel}.py").read_text()
        digest.update(ast.dump(ast.parse(kernel_source)).encode())
    digest.update(repr(sorted(_portable(cls.example_args).items(), key=str)).encode())
    digest.update(repr(sorted(_portable(cls.example_data).items(), key=str)).encode())
    digest.update(_drawing_source().encode())
    if is_clip_transform(cls):
        digest.update("".join(_source(f) for f in (_clip_tile, render_clip)).encode())
    if cls.family in VOLUME_FAMILIES:
        digest.update(
            (repr(VOLUME_SHAPE) + "".join(_source(f) for f in (phantom, _volume_tile, render_volume))).encode()
        )
    return digest.hexdigest()[:16]


def _pipeline(transform: Any) -> Any:
    import invariance as A

    return A.Compose(
        [transform],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=0.2),
        keypoint_params=A.KeypointParams(
            format="xy", label_fields=["keypoint_labels"], label_mapping=LABEL_MAPPING
        ),
        seed=SEED,
    )


def _caption(image: np.ndarray, text: str) -> np.ndarray:
    out = np.ascontiguousarray(image)
    cv2.putText(out, text, (4, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (4, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def _as_arrays(out: dict[str, Any]) -> dict[str, Any]:
    """Tensors (ToTensorV2's CHW image and mask) back to the HWC arrays the drawing reads."""
    shown = dict(out)
    for key in ("image", "mask"):
        value = out.get(key)
        if value is not None and hasattr(value, "numpy") and not isinstance(value, np.ndarray):
            array = value.numpy()
            shown[key] = array.transpose(1, 2, 0) if key == "image" and array.ndim == 3 else array
    return shown


def _fit(out: dict[str, Any], size: int = SIZE) -> dict[str, Any]:
    """An output of another size scaled to fit ``size`` before drawing, so marks keep their size."""
    image = np.asarray(out["image"])
    scale = size / max(image.shape[:2])
    if abs(scale - 1) < 0.05:
        return out
    h, w = max(1, round(image.shape[0] * scale)), max(1, round(image.shape[1] * scale))
    fitted = dict(out)
    smooth = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    fitted["image"] = cv2.resize(image, (w, h), interpolation=smooth)
    if out.get("mask") is not None:
        fitted["mask"] = cv2.resize(np.asarray(out["mask"]), (w, h), interpolation=cv2.INTER_NEAREST)
    if out.get("bboxes") is not None:
        fitted["bboxes"] = [[float(v) * scale for v in list(box)[:4]] for box in out["bboxes"]]
    if out.get("keypoints") is not None:
        fitted["keypoints"] = [[float(k[0]) * scale, float(k[1]) * scale] for k in out["keypoints"]]
    return fitted


def render(cls: type[Any], samples: int = SAMPLES) -> np.ndarray:
    """The picture of ``cls``: the original then ``samples`` augmented outputs, as one RGB grid."""
    from invariance.viz import draw_targets, make_grid

    data = photo()
    if "uint8" not in cls.supported_dtypes:
        data["image"] = data["image"].astype(np.float32) / 255.0
    data.update(cls.example_data)
    tiles = [_caption(draw_targets(**data, mask_alpha=MASK_ALPHA), "original")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = _pipeline(cls(**{**cls.example_args, "p": 1.0}))
        for index in range(samples):
            out = _fit(_as_arrays(pipeline(**data)))
            drawn = draw_targets(
                out["image"],
                mask=out.get("mask"),
                bboxes=out.get("bboxes"),
                labels=out.get("labels"),
                keypoints=out.get("keypoints"),
                keypoint_labels=out.get("keypoint_labels"),
                mask_alpha=MASK_ALPHA,
            )
            tiles.append(_caption(drawn, f"sample {index + 1}"))
    return make_grid(tiles, columns=COLUMNS, pad=3, cell=SIZE)


def _write_jpeg(path: Path, image: np.ndarray) -> None:
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    for quality in range(JPEG_QUALITY, 20, -10):
        ok, buffer = cv2.imencode(
            ".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1]
        )
        if not ok:
            raise OSError(f"could not encode {path.name}")
        if buffer.size <= MAX_BYTES:
            break
    path.write_bytes(buffer.tobytes())


def picture_path(name: str, out: Path = OUT) -> Path:
    return out / f"{name}.jpg"


def load_manifest(out: Path = OUT) -> dict[str, str]:
    path = out / MANIFEST
    if not path.exists():
        return {}
    loaded: dict[str, str] = json.loads(path.read_text())
    return loaded


def update(
    names: Iterable[str] | None = None, out: Path = OUT, force: bool = False, log: Any = print
) -> dict[str, str]:
    """Redraw the pictures whose hash changed (all of ``names``' with ``force``).

    Returns ``{name: error}`` for transforms that could not be drawn (their page says so).
    Pictures of transforms that no longer exist are deleted.
    """
    classes = picture_classes()
    wanted = list(classes) if names is None else [n for n in names if n in classes]
    if importlib.util.find_spec("skimage") is None:
        log("gen_pictures: scikit-image is not installed; pictures left as they are")
        return {}
    out.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(out)
    failures: dict[str, str] = {}
    for name in wanted:
        cls = classes[name]
        key = picture_hash(cls)
        path = picture_path(name, out)
        if not force and manifest.get(name) == key and path.exists():
            continue
        try:
            if cls.family in VOLUME_FAMILIES:
                picture = render_volume(cls)
            elif is_clip_transform(cls):
                picture = render_clip(cls)
            else:
                picture = render(cls)
        except Exception as error:  # a transform that cannot run on the photo gets no picture
            failures[name] = f"{type(error).__name__}: {error}"
            manifest.pop(name, None)
            path.unlink(missing_ok=True)
            log(f"gen_pictures: {name}: no picture ({failures[name]})")
            continue
        _write_jpeg(path, picture)
        manifest[name] = key
        log(f"gen_pictures: drew {path.name} ({path.stat().st_size // 1024} KB)")
    if names is None:
        for stale in sorted(set(manifest) - set(classes)):
            manifest.pop(stale)
            picture_path(stale, out).unlink(missing_ok=True)
            log(f"gen_pictures: removed {stale}.jpg (transform gone)")
    text = json.dumps(dict(sorted(manifest.items())), indent=1) + "\n"
    if not (out / MANIFEST).exists() or (out / MANIFEST).read_text() != text:
        (out / MANIFEST).write_text(text)  # unchanged: left alone (mkdocs serve watches it)
    return failures


def stale(out: Path = OUT) -> list[str]:
    """Transforms whose picture is missing or was drawn from other source (nothing is drawn)."""
    manifest = load_manifest(out)
    return [
        name
        for name, cls in picture_classes().items()
        if manifest.get(name) != picture_hash(cls) or not picture_path(name, out).exists()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="transform names (default: all)")
    parser.add_argument("--force", action="store_true", help="redraw even when the hash is unchanged")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    parser.add_argument(
        "--check", action="store_true", help="draw nothing; exit 1 if a picture is missing or stale (CI)"
    )
    args = parser.parse_args(argv)
    if args.check:
        names = stale(args.out)
        for name in names:
            print(f"{name}: picture missing or stale", file=sys.stderr)
        if names:
            print(
                "run: python docs/scripts/gen_pictures.py, then commit docs/images/catalogue", file=sys.stderr
            )
        return 1 if names else 0
    failures = update(args.names or None, out=args.out, force=args.force)
    for name, error in failures.items():
        print(f"{name}: {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
