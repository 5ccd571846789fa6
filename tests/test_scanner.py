"""Scanner artefacts behave as the physics they model says they must."""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A


def _run(transform: A.BasicTransform, **data: np.ndarray) -> dict:
    return A.Compose([transform], seed=0)(**data)


def _square(size: int = 64, value: float = 0.7) -> np.ndarray:
    image = np.zeros((size, size), np.float32)
    image[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = value
    return image


def test_gibbs_full_bandwidth_is_the_identity_and_truncation_rings_at_edges():
    image = _square()
    same = _run(A.GibbsRinging(retained_fraction_range=(1.0, 1.0), p=1), image=image)["image"]
    np.testing.assert_array_equal(same, image)
    rung = _run(A.GibbsRinging(retained_fraction_range=(0.3, 0.3), p=1), image=image)["image"]
    row = rung[32]
    assert row.max() > 0.7 + 0.03, "overshoot past the plateau next to the edge"
    assert abs(float(rung.mean()) - float(image.mean())) < 0.01, "the mean (DC) is kept"


def test_gibbs_on_a_volume_rings_along_depth_too():
    # Slices are constant within themselves; only depth has an edge. Slice-wise 2-D truncation
    # could not change a constant slice; the volume's 3-D k-space does.
    volume = np.zeros((32, 16, 16), np.float32)
    volume[8:24] = 0.7
    out = _run(A.GibbsRinging(retained_fraction_range=(0.3, 0.3), p=1), volume=volume)["volume"]
    profile = out[:, 8, 8]
    assert profile.max() > 0.73 and not np.allclose(out, volume, atol=1e-3)
    np.testing.assert_allclose(out[12], out[12, 0, 0], atol=1e-5)  # each slice stays flat


def test_rician_noise_floor_matches_the_rayleigh_mean():
    sigma = 0.1
    dark = np.zeros((256, 256), np.float32)
    out = _run(A.RicianNoise(std_range=(sigma, sigma), p=1), image=dark)["image"]
    assert abs(float(out.mean()) - sigma * np.sqrt(np.pi / 2)) < 0.005
    bright = np.full((256, 256), 0.6, np.float32)
    lit = _run(A.RicianNoise(std_range=(sigma, sigma), p=1), image=bright)["image"]
    assert abs(float(lit.mean()) - np.sqrt(0.6**2 + sigma**2)) < 0.01, "biased upwards by the imaginary part"


def test_rician_channels_share_fields_unless_per_channel():
    image = np.full((32, 32, 3), 0.5, np.float32)
    shared = _run(A.RicianNoise(p=1), image=image)["image"]
    np.testing.assert_array_equal(shared[..., 0], shared[..., 2])
    own = _run(A.RicianNoise(per_channel=True, p=1), image=image)["image"]
    assert not np.array_equal(own[..., 0], own[..., 2])


def test_kspace_spikes_add_energy_at_a_frequency_and_its_mirror_only():
    image = np.full((64, 64), 0.5, np.float32)
    transform = A.KSpaceSpikeNoise(num_spikes_range=(1, 1), intensity_range=(0.01, 0.01), p=1)
    out = _run(transform, image=image)["image"]
    spectrum = np.abs(np.fft.fft2(out - image))
    strong = np.argwhere(spectrum > 0.5 * spectrum.max())
    assert 1 <= len(strong) <= 2
    if len(strong) == 2:
        (a, b), (c, d) = strong
        assert (a + c) % 64 == 0 and (b + d) % 64 == 0, "a spike and its conjugate mirror"
    assert out.std() > 0.001, "stripes across the whole image"


def test_zero_spikes_and_zero_bias_are_the_identity():
    image = _square()
    np.testing.assert_array_equal(
        _run(A.KSpaceSpikeNoise(num_spikes_range=(0, 0), p=1), image=image)["image"], image
    )
    np.testing.assert_array_equal(_run(A.BiasField(std_range=(0.0, 0.0), p=1), image=image)["image"], image)


def test_bias_field_is_a_smooth_positive_gain_over_the_whole_volume():
    volume = np.full((16, 64, 64), 0.4, np.float32)
    mask3d = (np.arange(64)[None, None, :] > 32).repeat(64, 1).repeat(16, 0).astype(np.uint8)
    out = _run(A.BiasField(std_range=(0.4, 0.4), scale_range=(0.1, 0.1), p=1), volume=volume, mask3d=mask3d)
    gain = out["volume"] / 0.4
    assert gain.min() > 0 and gain.std() > 0.02
    # A log-gain of std 0.4 drawn per voxel would jump by ~0.5 between neighbours; the coarse
    # grid (about 6 points over 64 voxels) interpolated linearly moves by a fraction of that.
    log_gain = np.log(gain)
    assert np.abs(np.diff(log_gain, axis=2)).max() < 0.25, "smooth in-plane"
    assert np.abs(np.diff(log_gain, axis=0)).max() < 0.25, "smooth across slices: one 3-D field"
    assert np.abs(log_gain[0] - log_gain[-1]).max() > 0.01, "the field changes along depth too"
    np.testing.assert_array_equal(out["mask3d"], mask3d)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: A.GibbsRinging(retained_fraction_range=(0.5, 1.5)), "retained_fraction_range"),
        (lambda: A.RicianNoise(std_range=(-0.1, 0.1)), "std_range"),
        (lambda: A.KSpaceSpikeNoise(num_spikes_range=(-1, 2)), "num_spikes_range"),
        (lambda: A.BiasField(scale_range=(0.0, 0.1)), "scale_range"),
        (lambda: A.GhostingArtifact(num_ghosts_range=(0, 2)), "num_ghosts_range"),
        (lambda: A.GhostingArtifact(intensity_range=(0.2, 1.2)), "intensity_range"),
        (lambda: A.GhostingArtifact(phase_encode_axis="depth"), "phase_encode_axis"),
        (lambda: A.MotionArtifact(num_motions_range=(-1, 2)), "num_motions_range"),
        (lambda: A.MotionArtifact(translation_range=(-2.0, 0.1)), "translation_range"),
    ],
)
def test_bad_arguments_are_named(factory, message):
    with pytest.raises(A.ParameterError, match=message):
        factory()


def test_ghosts_are_faint_copies_shifted_by_a_fraction_of_the_field_of_view():
    from invariance.kernels.scanner import ghost_kspace

    image = np.zeros((64, 64), np.float32)
    image[8:20, 24:40] = 0.8
    out = ghost_kspace(image, 2, axis=0, period=4, offset=1, intensity=0.8)
    # Three ghosts, 64 / 4 = 16 rows apart, each about intensity / period = 0.2 of the object.
    for shift in (16, 32, 48):
        ghost = out[8 + shift : 20 + shift, 24:40]
        np.testing.assert_allclose(ghost.mean(), 0.8 * 0.8 / 4, rtol=0.1)
    assert out[:, :20].max() < 1e-3 and out[:, 44:].max() < 1e-3, "ghosts move along the phase axis only"
    assert out[8:20, 24:40].mean() > 0.8 * 0.7, "the object itself stays"
    np.testing.assert_allclose(ghost_kspace(image, 2, 0, 4, 1, 0.0), image)


def test_ghosting_on_a_volume_repeats_its_ghosts_on_every_slice():
    volume = np.zeros((6, 48, 48), np.float32)
    volume[:, 4:12, 16:32] = 0.9
    transform = A.GhostingArtifact(num_ghosts_range=(2, 2), phase_encode_axis="width", p=1)
    out = _run(transform, volume=volume)["volume"]
    for d in range(6):
        np.testing.assert_allclose(out[d], out[0], atol=1e-5)
    assert out[:, 4:12, 32:].max() > 0.05, "a ghost beside the object along the width"
    assert out[:, 20:, :].max() < 1e-3


def test_motion_through_the_whole_scan_is_a_plain_shift_and_none_is_the_identity():
    from invariance.kernels.scanner import motion_kspace

    image = np.random.default_rng(0).random((32, 40)).astype(np.float32)
    moved = motion_kspace(image, 2, axis=0, boundaries=np.array([1e-9]), shifts=np.array([[0, 0], [3, 5]]))
    np.testing.assert_allclose(moved, np.roll(image, (3, 5), axis=(0, 1)), atol=1e-5)
    still = motion_kspace(image, 2, axis=0, boundaries=np.array([0.5]), shifts=np.zeros((2, 2)))
    np.testing.assert_allclose(still, image, atol=1e-5)


def test_motion_mid_scan_blurs_edges_along_the_phase_axis_only():
    from invariance.kernels.scanner import motion_kspace

    image = _square(64, 0.8)
    # Moving along the width half way through a scan whose lines run along the height.
    out = motion_kspace(image, 2, axis=0, boundaries=np.array([0.5]), shifts=np.array([[0, 0], [0, 4]]))
    assert not np.allclose(out, image, atol=1e-2)
    # The low-frequency half was acquired before the move: the object is mostly where it was.
    assert out[16:48, 16:48].mean() > 0.6
    # Ripples spread along the phase-encoding axis (rows), outside the object's rows too.
    assert out[:12, 16:48].max() > 0.02
