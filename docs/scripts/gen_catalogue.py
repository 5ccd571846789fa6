"""Generate the catalogue pages of the docs from each transform's own declaration.

This file is a mkdocs hook (``hooks:`` in mkdocs.yml), so ``mkdocs build --strict`` is
self-sufficient:

* ``on_config`` adds a "Catalogue" section to the nav, one entry per transform by family;
* ``on_pre_build`` redraws the pictures of transforms whose source changed
  (``gen_pictures.update``; cached by hash, so an unchanged catalogue draws nothing). Set
  ``INVARIANCE_DOCS_PICTURES=0`` to skip drawing and use the committed pictures as they are;
* ``on_files`` adds the generated pages (``catalogue/index.md`` and ``catalogue/<Name>.md``) to the
  build in memory: nothing is written to ``docs/``.

Everything on a page comes from the class: the parameter table from ``InitSchema`` (types,
JSON-schema bounds, defaults from the class signature) and the ``Args:`` section of the
docstring; targets, dtypes, channels and family from the class attributes; the example from
``example_args``. Run it as a script to write the pages to a folder for a look::

    python docs/scripts/gen_catalogue.py --out /tmp/catalogue [Name ...]
"""

from __future__ import annotations

import argparse
import enum
import inspect
import os
import re
import sys
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_pictures

SECTIONS = ("Args", "Arguments", "Parameters", "Returns", "Raises", "Example", "Examples", "Note", "Notes")
FAMILY_TITLES = {
    "geometric": "Geometric",
    "pixel": "Pixel (colour and tone)",
    "blur": "Blur",
    "noise": "Noise",
    "filter": "Filters",
    "morphology": "Morphology",
    "distortion": "Distortion",
    "weather": "Weather",
    "occlusion": "Occlusion",
    "mixing": "Mixing",
    "domain": "Domain adaptation",
    "sequence": "Sequences",
    "auto": "Automated policies",
    "volumetric": "Volumetric (3-D)",
    "medical": "Medical scanner artefacts",
    "utility": "Utility",
}


# -- docstrings ------------------------------------------------------------------------------------


def _inline(text: str) -> str:
    """reST-ish inline markup to Markdown; ``<`` outside code escaped so it never reads as HTML."""
    text = re.sub(r":(?:class|func|meth|mod|attr|data|obj):`~?([^`]+)`", r"``\1``", text)
    parts = re.split(r"(``[^`]+``|`[^`]+`)", text)
    out = []
    for part in parts:
        if part.startswith("``") and part.endswith("``") and len(part) > 4:
            out.append(f"`{part[2:-2]}`")
        elif part.startswith("`") and part.endswith("`") and len(part) > 2:
            out.append(part)
        else:
            out.append(part.replace("&", "&amp;").replace("<", "&lt;").replace("*", r"\*"))
    return re.sub(r"(?m)^(\s*)\\\* ", r"\1* ", "".join(out))  # list items keep their bullets


def split_docstring(doc: str) -> tuple[str, dict[str, str], list[tuple[str, str]]]:
    """``(body, {arg: description}, [(section, text), ...])`` of a Google-style docstring."""
    body: list[str] = []
    args: dict[str, str] = {}
    sections: list[tuple[str, list[str]]] = []
    current: list[str] | None = body
    in_args = False
    last_names: list[str] = []
    for line in doc.splitlines():
        header = line.strip().rstrip(":")
        if line and not line[0].isspace() and line.rstrip().endswith(":") and header in SECTIONS:
            in_args = header in ("Args", "Arguments", "Parameters")
            current = None if in_args else []
            if current is not None:
                sections.append((header, current))
            continue
        if in_args:
            if line and not line[0].isspace():  # the section ended: back to the body
                in_args = False
                current = body
                body.append(line)
                continue
            match = re.match(r"^ {2,8}([\w\s,*]+?)\s*(?:\([^)]*\))?:\s+(.*)$", line)
            if match and len(line) - len(line.lstrip()) <= 8 and not line.startswith(" " * 9):
                last_names = [n.strip().lstrip("*") for n in match.group(1).split(",")]
                for name in last_names:
                    args[name] = match.group(2).strip()
            elif line.strip() and last_names:
                for name in last_names:
                    args[name] += " " + line.strip()
            continue
        assert current is not None
        if current is not body and line and not line[0].isspace():  # the section ended
            current = body
        current.append(line)
    return (
        "\n".join(body).strip(),
        args,
        [(name, inspect.cleandoc("\n".join(lines))) for name, lines in sections],
    )


def _markdown_text(text: str) -> str:
    """A docstring paragraph block as Markdown (indented runs become code blocks)."""
    out: list[str] = []
    block: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        if prose:
            out.append(_inline("\n".join(prose)))  # whole runs: code spans may cross lines
            prose.clear()
        if block:
            out.extend(["", "```python", *inspect.cleandoc("\n".join(block)).splitlines(), "```", ""])
            block.clear()

    for line in text.splitlines():
        if line.startswith((">>> ", "... ")) or (block and line.startswith("    ")):
            if prose:
                flush()
            block.append(line)
            continue
        if block:
            flush()
        prose.append(line)
    flush()
    return "\n".join(out)


# -- parameters ------------------------------------------------------------------------------------


def type_name(annotation: Any) -> str:
    """A short readable name of a type annotation (``tuple[float, float] | float``)."""
    if annotation is type(None) or annotation is None:
        return "None"
    if annotation is typing.Any:
        return "Any"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return "Literal[" + ", ".join(repr(a) for a in args) + "]"
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        if args:
            inner = ", ".join("..." if a is Ellipsis else type_name(a) for a in args)
            return f"{name}[{inner}]"
        return str(name)
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("collections.abc.", "")


def _bounds(schema: dict[str, Any]) -> str:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is None and high is None:
        return ""
    lo_op = "<" if "exclusiveMinimum" in schema else "≤"
    hi_op = "<" if "exclusiveMaximum" in schema else "≤"
    if low is not None and high is not None:
        return f"{low} {lo_op} x {hi_op} {high}"
    if low is not None:
        return f"x {'>' if lo_op == '<' else '≥'} {low}"
    return f"x {hi_op} {high}"


def describe_schema(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """The constraint a field's JSON schema states: bounds, allowed values, pair ranges."""
    if "$ref" in schema:
        schema = {
            **defs.get(schema["$ref"].rsplit("/", 1)[-1], {}),
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v!r}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']!r}`"
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        parts = [describe_schema(o, defs) for o in options if o.get("type") != "null"]
        parts = [p for p in parts if p]
        return "; or ".join(dict.fromkeys(parts))
    items = schema.get("prefixItems")
    if items:
        inner = [describe_schema(i, defs) for i in items]
        if any(inner):
            if len(set(inner)) == 1:
                return f"each item {inner[0]}"
            return "items: " + ", ".join(i or "any" for i in inner)
        return ""
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        inner_text = describe_schema(schema["items"], defs)
        return f"each item {inner_text}" if inner_text else ""
    return _bounds(schema)


def _default_text(value: Any) -> str:
    if value is inspect.Parameter.empty:
        return "*required*"
    if isinstance(value, enum.Enum):
        value = value.value
    if callable(value):
        return f"`{getattr(value, '__name__', type(value).__name__)}`"
    text = repr(value)
    if isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, tuple) and all(isinstance(v, float) for v in value):
        text = "(" + ", ".join(f"{v:.4g}" for v in value) + ")"
    return f"`{text}`" if len(text) < 60 else f"`{text[:57]}...`"


def _cell(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


def parameter_rows(cls: type[Any]) -> list[dict[str, str]]:
    """One row per ``InitSchema`` field: name, type, default, constraint, description."""
    fields = cls.InitSchema.model_fields
    try:
        whole = cls.InitSchema.model_json_schema()
        properties = whole.get("properties", {})
        defs = whole.get("$defs", {})
    except Exception:  # callables and arrays have no JSON schema: no bounds to show
        properties, defs = {}, {}
    try:
        signature = inspect.signature(cls)
        defaults = {n: p.default for n, p in signature.parameters.items()}
    except (TypeError, ValueError):
        defaults = {}
    _, docs, _ = split_docstring(inspect.getdoc(cls) or "")
    rows = []
    order = [n for n in defaults if n in fields] + [n for n in fields if n not in defaults]
    for name in order:
        field = fields[name]
        if name in defaults:
            default = defaults[name]
        elif field.is_required():
            default = inspect.Parameter.empty
        else:
            default = field.get_default(call_default_factory=True)
        rows.append(
            {
                "name": name,
                "type": type_name(field.annotation),
                "default": _default_text(default),
                "range": describe_schema(properties.get(name, {}), defs),
                "doc": docs.get(name, field.description or ""),
            }
        )
    return rows


# -- pages -----------------------------------------------------------------------------------------


def _short(value: Any) -> str:
    """Source-like text of an example argument; arrays (pixels) shown as ``...``."""
    if isinstance(value, enum.Enum):
        return repr(value.value)
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return "..."
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_short(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_short(v)}" for k, v in value.items()) + "}"
    if callable(value):
        return str(getattr(value, "__name__", "..."))
    text = repr(value)
    return text if len(text) < 80 else text[:76] + "..."


def _call_text(name: str, args: dict[str, Any]) -> str:
    inner = ", ".join(f"{k}={_short(v)}" for k, v in args.items())
    return f"A.{name}({inner})"


def public_module(name: str, cls: type[Any]) -> str:
    """The shortest importable module that exports ``name`` (``invariance`` for the catalogue)."""
    parts = cls.__module__.split(".")
    for end in range(1, len(parts) + 1):
        module = sys.modules.get(".".join(parts[:end]))
        if module is not None and getattr(module, name, None) is cls:
            return module.__name__
    return cls.__module__


def first_sentence(cls: type[Any], limit: int = 110) -> str:
    """The docstring's first sentence (shortened to ``limit`` characters), for the index table."""
    doc = inspect.getdoc(cls) or ""
    first = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
    match = re.match(r"(.+?(?<! al)(?<!e\.g)(?<!i\.e)[.:])(\s|$)", first)
    text = match.group(1).rstrip(":;") if match else first
    if len(text) > limit:
        text = text[: limit - 3].rsplit(" ", 1)[0] + "..."
    if text.count("``") % 2:  # a code span cut in half
        text = text.replace("``", "")
    return text


def transform_page(name: str, cls: type[Any], picture: str | None, note: str = "") -> str:
    """The Markdown page of one transform. ``picture`` is its path relative to the page."""
    body, _, sections = split_docstring(inspect.getdoc(cls) or "")
    paragraphs = body.split("\n\n", 1)
    lines = [f"# {name}", ""]
    lines += [_markdown_text(paragraphs[0]), ""]
    lines += [
        f"**Family:** [{cls.family}](index.md#{cls.family}) · "
        f"**Targets:** {', '.join(cls.supported_targets)} · "
        f"**Dtypes:** {', '.join(cls.supported_dtypes)} · "
        f"**Channels:** {'1 or 3 (RGB)' if cls.supported_channels == 'rgb' else 'any'}",
        "",
    ]
    home = public_module(name, cls)
    shown = _call_text(name, dict(cls.example_args))
    if home != "invariance":
        shown = shown.removeprefix("A.")
    volumetric = cls.family in ("volumetric", "medical")
    clip = "images" in cls.supported_targets and "image" not in cls.supported_targets
    if picture is not None and volumetric:
        lines += [
            f"![{name} on a synthetic head scan: the original, then five samples]({picture})",
            "",
            "*A synthetic head scan, then five samples (p=1, a fixed seed) of "
            f"`{shown}`: each tile is the middle axial slice over the middle coronal view, with "
            "the 3-D mask and the `xyz` landmarks near each view drawn on top.*",
            "",
        ]
    elif picture is not None and clip:
        lines += [
            f"![{name} on a 12-frame clip: the original, then five samples]({picture})",
            "",
            "*A 12-frame clip (the photo panning, frame numbers burnt in), then five samples "
            f"(p=1, a fixed seed) of `{shown}`: the frames each keeps, in order.*",
            "",
        ]
    elif picture is not None:
        lines += [
            f"![{name} on the astronaut photo: the original, then five samples]({picture})",
            "",
            "*The original, then five samples (p=1, a fixed seed) of "
            f"`{shown}`; mask, boxes and keypoints drawn on top.*",
            "",
        ]
    elif note:
        lines += [f'!!! note "No picture"\n    {_inline(note)}', ""]
    lines += ["## Parameters", "", "| name | type | default | range | description |", "|---|---|---|---|---|"]
    for row in parameter_rows(cls):
        lines.append(
            f"| `{row['name']}` | `{row['type']}` | {_cell(row['default'])} | "
            f"{_cell(row['range'])} | {_cell(_inline(row['doc']))} |"
        )
    lines += ["", "## Description", ""]
    rest = paragraphs[1] if len(paragraphs) > 1 else ""
    lines += [_markdown_text(rest), ""]
    for title, text in sections:
        lines += [f"**{title}**", "", _markdown_text(text), ""]
    example = dict(cls.example_args)
    imports = ["import invariance as A"] if home == "invariance" else [f"from {home} import {name}"]
    call = _call_text(name, {**example, "p": 1.0})
    if home != "invariance":
        call = call.removeprefix("A.")
    lines += ["## Example", "", "```python", *imports, "", f"transform = {call}"]
    data_keys = "".join(f", {k}=..." for k in cls.example_data)
    call_args = "volume=volume, mask3d=mask3d" if volumetric else "image=image"
    if clip:
        call_args = "images=frames, masks=frame_masks"  # (T, H, W[, C]) and one mask per frame
    lines += [f"out = transform({call_args}{data_keys})", "```", ""]
    where = f"`{home}`" if home == cls.__module__ else f"`{cls.__module__}`, exported by `{home}`"
    lines += [f"Defined in {where}.", ""]
    return "\n".join(lines)


def index_page(classes: dict[str, type[Any]], pictures: dict[str, str | None]) -> str:
    """The catalogue index: a table per family (name, targets, dtypes, thumbnail link)."""
    lines = [
        "# Catalogue",
        "",
        f"{len(classes)} transforms, grouped by family. Each page is generated from the transform's "
        "own declaration (its `InitSchema`, docstring and class attributes) and shows it on a photo "
        "with a mask, boxes and keypoints. `invariance list` prints the same table in a terminal.",
        "",
    ]
    for family, names in by_family(classes).items():
        lines += [f"## {FAMILY_TITLES.get(family, family.title())} {{#{family}}}", ""]
        lines += ["| transform | what it does | targets | dtypes | picture |", "|---|---|---|---|---|"]
        for name in names:
            cls = classes[name]
            picture = pictures.get(name)
            thumb = f"[view]({picture})" if picture else "none"
            lines.append(
                f"| [{name}]({name}.md) | {_cell(_inline(first_sentence(cls)))} | "
                f"{', '.join(cls.supported_targets)} | "
                f"{', '.join(cls.supported_dtypes)} | {thumb} |"
            )
        lines.append("")
    return "\n".join(lines)


def by_family(classes: dict[str, type[Any]]) -> dict[str, list[str]]:
    order = list(FAMILY_TITLES)
    families: dict[str, list[str]] = {}
    for name, cls in sorted(classes.items()):
        families.setdefault(cls.family, []).append(name)
    return dict(
        sorted(families.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0]))
    )


def generate(
    names: list[str] | None = None, images: Path = gen_pictures.OUT, prefix: str = "../images/catalogue/"
) -> dict[str, str]:
    """``{relative page path: markdown}`` for the catalogue (``names`` limits the transforms)."""
    classes = gen_pictures.picture_classes()
    if names is not None:
        classes = {n: c for n, c in classes.items() if n in names}
    pictures: dict[str, str | None] = {}
    for name in classes:
        exists = gen_pictures.picture_path(name, images).exists()
        pictures[name] = f"{prefix}{name}.jpg" if exists else None
    pages = {"index.md": index_page(classes, pictures)}
    for name, cls in classes.items():
        note = "" if pictures[name] else "This transform could not be drawn on the sample photo."
        pages[f"{name}.md"] = transform_page(name, cls, pictures[name], note)
    return pages


# -- mkdocs hook -----------------------------------------------------------------------------------


def _prune(items: list[Any], docs: Path, log: Callable[[str], None]) -> list[Any]:
    """``items`` (a nav list) without pages that are not in ``docs`` (not written yet)."""
    kept: list[Any] = []
    for item in items:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            inner = _prune(value, docs, log)
            if inner:
                kept.append({next(iter(item)): inner} if isinstance(item, dict) else inner)
        elif (
            isinstance(value, str)
            and not value.startswith(("catalogue/", "http"))
            and not (docs / value).exists()
        ):
            log(f"gen_catalogue: {value} is not written yet; left out of the nav")
        else:
            kept.append(item)
    return kept


def on_config(config: Any) -> Any:
    """Drop nav pages that do not exist yet; add the Catalogue section (by family)."""
    nav = config.get("nav")
    if nav is None:
        return config
    import logging

    nav[:] = _prune(nav, Path(config["docs_dir"]), logging.getLogger("mkdocs.hooks.gen_catalogue").info)
    classes = gen_pictures.picture_classes()
    section: list[Any] = [{"Overview": "catalogue/index.md"}]
    for family, names in by_family(classes).items():
        section.append({FAMILY_TITLES.get(family, family.title()): [f"catalogue/{n}.md" for n in names]})
    for index, item in enumerate(nav):
        if isinstance(item, dict) and "Catalogue" in item:
            nav[index] = {"Catalogue": section}
            break
    else:
        nav.append({"Catalogue": section})
    return config


def on_pre_build(config: Any) -> None:
    """Redraw pictures whose transform changed (unless ``INVARIANCE_DOCS_PICTURES=0``)."""
    if os.environ.get("INVARIANCE_DOCS_PICTURES", "1") == "0":
        return
    import logging

    log = logging.getLogger("mkdocs.hooks.gen_catalogue")
    gen_pictures.update(log=log.info)


def on_files(files: Any, config: Any) -> Any:
    """Add the generated catalogue pages to the build (in memory)."""
    from mkdocs.structure.files import File

    for path, text in generate().items():
        files.append(File.generated(config, f"catalogue/{path}", content=text))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the catalogue pages to a folder.")
    parser.add_argument("names", nargs="*")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--images", type=Path, default=gen_pictures.OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    prefix = os.path.relpath(args.images, args.out).replace(os.sep, "/") + "/"
    for path, text in generate(args.names or None, images=args.images, prefix=prefix).items():
        (args.out / path).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
