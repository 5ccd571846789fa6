"""Automated policies: operation sets and magnitude tables as published, targets in sync, seeds."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import invariance as A
from invariance.transforms.auto import AugMix, AutoAugment, RandAugment, TrivialAugmentWide, _ops
from invariance.transforms.auto.policies import AUTOAUGMENT_POLICIES

PAPER_OPS = {
    "Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness", "Color",
    "Contrast", "Sharpness", "Posterize", "Solarize", "AutoContrast", "Equalize",
}  # fmt: skip


def _table(space, name, bins, shape=(331, 331)):
    table, _ = space[name]
    return table(bins, shape)


def test_randaugment_ops_and_magnitudes_follow_the_paper():
    space = _ops.RANDAUGMENT_SPACE
    assert set(space) == PAPER_OPS  # 14 operations, Cubuk et al. 2020
    np.testing.assert_allclose(_table(space, "ShearX", 31)[[0, 30]], [0.0, 0.3])
    np.testing.assert_allclose(_table(space, "Rotate", 31)[[0, 15, 30]], [0.0, 15.0, 30.0])
    np.testing.assert_allclose(_table(space, "Brightness", 31)[30], 0.9)
    np.testing.assert_allclose(_table(space, "TranslateX", 31, (100, 331))[30], 150.0)
    np.testing.assert_allclose(_table(space, "TranslateY", 31, (331, 100))[30], 150.0)
    assert list(_table(space, "Posterize", 31)[[0, 30]]) == [8, 4]
    np.testing.assert_allclose(_table(space, "Solarize", 31)[[0, 30]], [1.0, 0.0])
    signed = {name for name, (_, s) in space.items() if s}
    assert signed == {"ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate"} | {
        "Brightness",
        "Color",
        "Contrast",
        "Sharpness",
    }


def test_trivialaugment_wide_space_follows_the_paper():
    space = _ops.TRIVIALAUGMENT_WIDE_SPACE
    assert set(space) == PAPER_OPS
    np.testing.assert_allclose(_table(space, "ShearY", 31)[30], 0.99)
    np.testing.assert_allclose(_table(space, "Rotate", 31)[30], 135.0)
    np.testing.assert_allclose(_table(space, "TranslateX", 31, (10, 10))[30], 32.0)  # pixels, any size
    np.testing.assert_allclose(_table(space, "Contrast", 31)[30], 0.99)
    assert list(_table(space, "Posterize", 31)[[0, 30]]) == [8, 2]


def test_autoaugment_policies_and_bins_follow_the_paper():
    for name, policy in AUTOAUGMENT_POLICIES.items():
        assert len(policy) == 25, name
        for sub in policy:
            assert len(sub) == 2
            for op, prob, bin_index in sub:
                assert op in _ops.AUTOAUGMENT_SPACE and 0.0 <= prob <= 1.0
                assert (bin_index is None) == (_ops.AUTOAUGMENT_SPACE[op][0] is None), (op, bin_index)
    assert AUTOAUGMENT_POLICIES["imagenet"][0] == (("Posterize", 0.4, 8), ("Rotate", 0.6, 9))
    assert AUTOAUGMENT_POLICIES["cifar10"][0] == (("Invert", 0.1, None), ("Contrast", 0.2, 6))
    assert AUTOAUGMENT_POLICIES["svhn"][0] == (("ShearX", 0.9, 4), ("Invert", 0.2, None))
    space = _ops.AUTOAUGMENT_SPACE
    assert list(_table(space, "Posterize", 10)) == [8, 8, 7, 7, 6, 6, 5, 5, 4, 4]
    np.testing.assert_allclose(_table(space, "Rotate", 10)[9], 30.0)
    np.testing.assert_allclose(_table(space, "ShearX", 10)[9], 0.3)


def test_augmix_operations_follow_the_paper():
    assert set(_ops.AUGMIX_SPACE) == {
        "AutoContrast", "Equalize", "Posterize", "Rotate", "Solarize", "ShearX", "ShearY", "TranslateX",
        "TranslateY",
    }  # fmt: skip
    assert set(_ops.AUGMIX_EXTRA_SPACE) == {"Brightness", "Color", "Contrast", "Sharpness"}
    space = _ops.AUGMIX_SPACE
    assert list(_table(space, "Posterize", 11)[[0, 10]]) == [4, 0]
    np.testing.assert_allclose(_table(space, "TranslateX", 11, (90, 300))[10], 100.0)
    np.testing.assert_allclose(_table(space, "Rotate", 11)[3], 9.0)


def test_magnitudes_match_torchvision_tables():
    tv = pytest.importorskip(
        "torchvision.transforms.v2",
        reason="torchvision is optional: pip install -e '.[test,torchvision]' to run this test",
    )
    h, w = 64, 96
    ours = {
        tv.RandAugment: (_ops.RANDAUGMENT_SPACE, 31),
        tv.TrivialAugmentWide: (_ops.TRIVIALAUGMENT_WIDE_SPACE, 31),
        tv.AutoAugment: (_ops.AUTOAUGMENT_SPACE, 10),
    }
    for cls, (space, bins) in ours.items():
        theirs = cls._AUGMENTATION_SPACE
        assert set(theirs) == set(space), cls
        for name, (fn, signed) in theirs.items():
            table, our_signed = space[name]
            assert signed == our_signed, name
            values = np.asarray(fn(bins, h, w), dtype=np.float64)
            if values.ndim == 0:
                assert table is None, name
                continue
            expected = values / 255.0 if name == "Solarize" and values.max() > 1 else values
            np.testing.assert_allclose(table(bins, (h, w)), expected, rtol=1e-6, atol=1e-6, err_msg=name)
    policies = {"imagenet": tv.AutoAugmentPolicy.IMAGENET, "cifar10": tv.AutoAugmentPolicy.CIFAR10}
    policies["svhn"] = tv.AutoAugmentPolicy.SVHN
    for name, policy in policies.items():
        theirs = tv.AutoAugment(policy)._policies
        assert [tuple(tuple(op) for op in sub) for sub in theirs] == list(AUTOAUGMENT_POLICIES[name])


# -- behaviour -------------------------------------------------------------------------------------


def _scene():
    image = np.full((80, 100, 3), 40, np.uint8)
    image[30:50, 40:64] = 230
    mask = np.zeros((80, 100), np.uint8)
    mask[30:50, 40:64] = 1
    return {"image": image, "mask": mask, "bboxes": [[40.0, 30.0, 64.0, 50.0]], "labels": [1],
            "keypoints": [[51.5, 39.5]], "kp_labels": ["c"]}  # fmt: skip


def _pipeline(policy, seed=0, replay=False):
    cls = A.ReplayCompose if replay else A.Compose
    return cls(
        [policy],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xy", label_fields=["kp_labels"], remove_invisible=False),
        seed=seed,
    )


def _run_ops(policy, ops, **data):
    """Run ``policy`` with the operations given (through a replay of edited parameters)."""
    first = _pipeline(policy, replay=True)(**data)
    saved = copy.deepcopy(first["replay"])
    saved["transforms"][0]["params"] = {"ops": ops}
    saved["transforms"][0]["applied"] = True
    return A.ReplayCompose.replay(saved, **data)


def test_translate_moves_every_target_by_whole_pixels():
    data = _scene()
    out = _run_ops(RandAugment(), [{"name": "TranslateX", "value": 10.7}], **data)
    np.testing.assert_array_equal(out["mask"][:, 10:], data["mask"][:, :-10])
    np.testing.assert_array_equal(out["image"][:, 50:74], data["image"][:, 40:64])
    assert out["bboxes"][0] == pytest.approx((50.0, 30.0, 74.0, 50.0))
    assert out["keypoints"][0] == pytest.approx((61.5, 39.5))


def test_shear_follows_pillow_convention_about_the_top_left_corner():
    data = _scene()
    out = _run_ops(RandAugment(), [{"name": "ShearX", "value": 0.25}], **data)
    # x' = x + 0.25 y: the box's top edge (y=30) shifts by 7.5, its bottom edge (y=50) by 12.5.
    assert out["bboxes"][0] == pytest.approx((47.5, 30.0, 76.5, 50.0))
    x, y = 51.5 + 0.5 + 0.25 * (39.5 + 0.5) - 0.5, 39.5
    assert out["keypoints"][0] == pytest.approx((x, y))
    assert out["mask"][int(y), round(x)] == 1


def test_pixel_ops_leave_geometry_alone_and_follow_their_formula():
    data = _scene()
    out = _run_ops(
        RandAugment(), [{"name": "Brightness", "value": 0.5}, {"name": "Posterize", "value": 4}], **data
    )
    np.testing.assert_array_equal(out["mask"], data["mask"])
    assert out["bboxes"] == data["bboxes"]
    expected = (np.clip(np.rint(data["image"].astype(float) * 1.5), 0, 255).astype(np.uint8)) & 0xF0
    np.testing.assert_array_equal(out["image"], expected)
    inv = _run_ops(AutoAugment(), [{"name": "Invert", "value": 0.0}], **data)
    np.testing.assert_array_equal(inv["image"], 255 - data["image"])
    sol = _run_ops(RandAugment(), [{"name": "Solarize", "value": 0.5}], **data)
    np.testing.assert_array_equal(sol["image"][35, 50], [25, 25, 25])  # 230 >= 127.5 -> 255 - 230


def test_sharpness_blends_with_the_smoothed_image():
    img = np.zeros((9, 9), np.uint8)
    img[4, 4] = 130
    out = _ops._sharpness(img, 0.0)  # factor 0: the smoothed image (5/13 of the centre)
    assert out[4, 4] == 50 and out[4, 5] == 10
    assert _ops._sharpness(img, 2.0)[4, 4] == 210  # 2 * 130 - 50


@pytest.mark.parametrize(
    "policy",
    [
        RandAugment(num_ops=3, magnitude=20),
        TrivialAugmentWide(),
        AutoAugment(policy="imagenet"),
        AutoAugment(policy="cifar10"),
        AutoAugment(policy="svhn"),
    ],
    ids=["rand", "trivial", "imagenet", "cifar10", "svhn"],
)
def test_targets_stay_in_sync_with_the_image(policy):
    data = _scene()
    pipeline = _pipeline(policy, seed=3)
    geometric = 0
    for _ in range(40):
        out = pipeline(**data)
        ys, xs = np.nonzero(out["mask"])
        if len(ys) == 0:
            continue
        if not np.array_equal(out["mask"], data["mask"]):
            geometric += 1
        (x0, y0, x1, y1) = out["bboxes"][0]
        # The mask region lies inside the box (pixel centres, with a pixel of slack for nearest).
        assert xs.min() + 0.5 >= x0 - 1 and xs.max() + 0.5 <= x1 + 1
        assert ys.min() + 0.5 >= y0 - 1 and ys.max() + 0.5 <= y1 + 1
        kx, ky = out["keypoints"][0]
        if 0 <= kx < 99 and 0 <= ky < 79:
            assert out["mask"][round(ky), round(kx)] == 1
    assert geometric > 0


def test_seeds_reproduce_and_differ():
    data = _scene()
    for policy_cls in (RandAugment, TrivialAugmentWide, AutoAugment, AugMix):
        a = [_pipeline(policy_cls(), seed=5)(**data)["image"] for _ in range(1)]
        b = [_pipeline(policy_cls(), seed=5)(**data)["image"] for _ in range(1)]
        np.testing.assert_array_equal(a[0], b[0])
        pipeline = _pipeline(policy_cls(), seed=5)
        outs = [pipeline(**data)["image"] for _ in range(6)]
        assert any(not np.array_equal(outs[0], o) for o in outs[1:]), policy_cls.__name__


def test_randaugment_draws_num_ops_at_the_fixed_magnitude():
    policy = RandAugment(num_ops=4, magnitude=30)
    pipeline = _pipeline(policy, replay=True)
    names = set()
    for _ in range(30):
        ops = pipeline(**_scene())["replay"]["transforms"][0]["params"]["ops"]
        assert len(ops) == 4
        for op in ops:
            names.add(op["name"])
            if op["name"] == "Rotate":
                assert abs(op["value"]) == 30.0
            if op["name"] == "Posterize":
                assert op["value"] == 4
    assert len(names) >= 10


def test_autoaugment_applies_ops_of_the_drawn_sub_policy():
    pipeline = _pipeline(AutoAugment(policy="svhn"), replay=True)
    for _ in range(20):
        params = pipeline(**_scene())["replay"]["transforms"][0]["params"]
        allowed = {op for op, _, _ in AUTOAUGMENT_POLICIES["svhn"][params["sub_policy"]]}
        assert {op["name"] for op in params["ops"]} <= allowed


def test_augmix_blends_and_leaves_targets():
    data = _scene()
    pipeline = _pipeline(AugMix(mixture_width=3, severity=5), seed=2, replay=True)
    out = pipeline(**data)
    params = out["replay"]["transforms"][0]["params"]
    assert sum(params["weights"]) == pytest.approx(1.0) and 0.0 <= params["m"] <= 1.0
    assert len(params["chains"]) == 3 and all(1 <= len(c) <= 3 for c in params["chains"])
    for chain in params["chains"]:
        for op in chain:
            assert op["name"] in _ops.AUGMIX_SPACE or op["name"] in _ops.AUGMIX_EXTRA_SPACE
    np.testing.assert_array_equal(out["mask"], data["mask"])
    assert out["bboxes"] == data["bboxes"]
    saved = copy.deepcopy(out["replay"])
    saved["transforms"][0]["params"]["m"] = 0.0
    np.testing.assert_array_equal(A.ReplayCompose.replay(saved, **data)["image"], data["image"])
    # float images stay in [0, 1]
    fimg = data["image"].astype(np.float32) / 255
    fout = _pipeline(AugMix(), seed=1)(**{**data, "image": fimg})["image"]
    assert fout.dtype == np.float32 and fout.min() >= 0 and fout.max() <= 1


def test_bad_arguments_name_the_argument():
    with pytest.raises(A.ParameterError, match="magnitude"):
        RandAugment(magnitude=31)
    with pytest.raises(A.ParameterError, match="policy"):
        AutoAugment(policy="coco")
    with pytest.raises(A.ParameterError, match="severity"):
        AugMix(severity=0)
    with pytest.raises(A.ParameterError, match="chain_depth"):
        AugMix(chain_depth=0)


def test_five_channels_are_refused():
    image = np.zeros((20, 20, 5), np.uint8)
    for policy in (RandAugment(), TrivialAugmentWide(), AutoAugment(), AugMix()):
        with pytest.raises(A.InputError, match="channels"):
            A.Compose([policy], seed=0)(image=image)


def test_policies_serialize():
    for policy in (RandAugment(num_ops=1, magnitude=5), AutoAugment(policy="svhn"), AugMix(severity=2)):
        rebuilt = A.from_dict(A.to_dict(A.Compose([policy])))
        assert A.fingerprint(rebuilt) == A.fingerprint(A.Compose([policy]))
