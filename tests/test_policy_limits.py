"""Policy files are parsed under limits: size, depth, alias expansion, integer size (issue 20, item 3).

Every malformed document gets a ``SerializationError`` naming where the problem is, from ``load``,
``from_dict``, ``diff``, ``fingerprint`` and ``validate_policy``; the CLI prints it without a
traceback and exits non-zero.
"""

from __future__ import annotations

import io
import json
import time

import pytest
from typer.testing import CliRunner

import invariance as A
from invariance.core import serialization
from invariance.tools.cli import app
from invariance.tools.validate import validate_policy

runner = CliRunner()


def alias_bomb(levels: int = 9) -> str:
    """A YAML "billion laughs": each level is ten aliases of the one before (10**levels values)."""
    names = "abcdefghijklmnop"
    lines = ["a: &a [x,x,x,x,x,x,x,x,x,x]"]
    lines += [f"{names[i]}: &{names[i]} [{','.join([f'*{names[i - 1]}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


DEEP_JSON = "[" * 3000 + "]" * 3000
HUGE_INT = json.dumps({"transform": {"__class_fullname__": "Blur", "p": 1}}).replace(
    '"p": 1', '"p": ' + "9" * 5000
)
NOT_UTF8 = b'{"transform": {"__class_fullname__": "Bl\xffur"}}'

#: (file name, content, what the error must say)
HOSTILE_FILES = [
    ("bomb.yaml", alias_bomb().encode(), "YAML aliases"),
    ("deep.json", DEEP_JSON.encode(), "nested deeper than"),
    ("deep.yaml", DEEP_JSON.encode(), "nested deeper than"),
    ("huge.json", HUGE_INT.encode(), "64 bits"),
    ("huge.yaml", f"transform: {{__class_fullname__: Blur, p: {'9' * 5000}}}".encode(), "64 bits"),
    ("latin.json", NOT_UTF8, "not UTF-8"),
    ("self.yaml", b"&a [*a]", "contains itself"),
]


def test_the_alias_bomb_is_small_and_refused_fast():
    text = alias_bomb()
    assert len(text) < 500
    started = time.perf_counter()
    with pytest.raises(A.SerializationError, match="more than 100000 values"):
        A.load(io.StringIO(text), data_format="yaml")
    assert time.perf_counter() - started < 5  # refused from the alias graph, never expanded


def test_aliases_of_normal_size_still_load():
    text = (
        "transform:\n  __class_fullname__: Compose\n  transforms:\n"
        "    - {__class_fullname__: Blur, blur_limit: &k [3, 5]}\n"
        "    - {__class_fullname__: MedianBlur, blur_limit: *k}\n"
    )
    pipeline = A.load(io.StringIO(text), data_format="yaml")
    assert [type(t).__name__ for t in pipeline.transforms] == ["Blur", "MedianBlur"]


@pytest.mark.parametrize(("name", "content", "expected"), HOSTILE_FILES, ids=[f[0] for f in HOSTILE_FILES])
def test_load_refuses_hostile_files_with_a_serialization_error(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(A.SerializationError, match=expected) as caught:
        A.load(path)
    assert name in str(caught.value) or "policy" in str(caught.value)


@pytest.mark.parametrize(("name", "content", "expected"), HOSTILE_FILES, ids=[f[0] for f in HOSTILE_FILES])
def test_validate_and_diff_cli_print_errors_not_tracebacks(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    good = tmp_path / "good.json"
    A.save(A.Compose([A.Blur()]), good)
    for args in (["validate", str(path)], ["diff", str(good), str(path)], ["diff", str(path), str(good)]):
        result = runner.invoke(app, args)
        assert result.exit_code != 0, args
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        assert expected in result.output.replace("\n", " "), result.output
    report = validate_policy(path)
    assert not report.ok and expected in str(report.errors[0])


def test_file_size_is_limited(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "MAX_POLICY_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"transform": {"__class_fullname__": "Blur", "pad": "x" * 2000}}))
    with pytest.raises(A.SerializationError, match="the limit is 1000 bytes"):
        A.load(path)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        # 'int' object is not iterable, before
        ({"__class_fullname__": "Compose", "transforms": 5}, r"transform\.transforms: expected a list"),
        # unhashable type: 'list', before (and no path)
        (
            {
                "__class_fullname__": "ConditionalCompose",
                "key": "k",
                "values": [[1]],
                "transforms": [{"__class_fullname__": "NoOp"}],
            },
            r"transform \(ConditionalCompose\): .*values=\[\[1\]\]",
        ),
        ({"__class_fullname__": ["Blur"]}, r"transform\.__class_fullname__: expected a transform name"),
        (
            {"__class_fullname__": "Compose", "transforms": [7]},
            r"transform\.transforms\[0\]: expected a mapping",
        ),
        (
            {"__class_fullname__": "Compose", "transforms": [], "additional_targets": [1]},
            r"transform \(Compose\): .*additional_targets",
        ),
        (
            {"__class_fullname__": "Compose", "transforms": [{"__class_fullname__": "Blur", "p": [1]}]},
            r"transform\.transforms\[0\] \(Blur\): .*'p'",
        ),
        ({"__class_fullname__": "Compose", "transforms": [], "seed": "x"}, r"^transform\.seed \(Compose\): "),
        ({"__class_fullname__": "Blur", 3: 1}, "argument names must be strings"),
        ({"__class_fullname__": "Blur", "p": 10**30}, r"transform\.p: .* 64-bit range"),
        ({"__class_fullname__": "Blur", "p": object()}, r"transform\.p: object is not plain policy data"),
    ],
)
def test_from_dict_names_the_path_of_malformed_fields(document, expected):
    with pytest.raises(A.SerializationError, match=expected):
        A.from_dict(document)


def test_from_dict_diff_and_fingerprint_refuse_deep_dicts():
    deep: dict = {"__class_fullname__": "Blur"}
    node = deep
    for _ in range(3000):
        node["x"] = {}
        node = node["x"]
    for call in (A.from_dict, A.fingerprint, lambda d: A.diff(d, {"__class_fullname__": "Blur"})):
        with pytest.raises(A.SerializationError, match="nested deeper than 100 levels"):
            call(deep)


def test_diff_of_raw_dicts_with_odd_transform_lists_does_not_crash():
    left = {"__class_fullname__": "Compose", "transforms": [1, {"__class_fullname__": "Blur"}]}
    right = {"__class_fullname__": "Compose", "transforms": "abc"}
    assert A.diff(left, right) == ["transform.transforms: [1, {'__class_fullname__': 'Blur'}] -> 'abc'"]
