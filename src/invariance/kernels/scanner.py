"""Scanner artefacts from the physics that makes them: MRI k-space and magnitude reconstruction.

Every function takes an image ``(H, W[, C])`` (``spatial=2``) or a volume ``(D, H, W[, C])``
(``spatial=3``), uint8 or float32 in [0, 1], and returns the same shape and dtype. Fourier
transforms run over the spatial axes only; channels are independent acquisitions.
Random inputs (noise fields, coarse gain grids, spike positions) are given by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def to_unit(array: np.ndarray) -> np.ndarray:
    """float32 in [0, 1] (uint8 divided by 255; float32 copied)."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) * np.float32(1 / 255)
    return array.astype(np.float32, copy=True)


def from_unit(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Back to ``dtype``: clipped to [0, 1], uint8 rounded."""
    np.clip(values, 0.0, 1.0, out=values)
    if dtype == np.uint8:
        return np.rint(values * 255.0).astype(np.uint8)
    return values.astype(np.float32, copy=False)


def _axes(array: np.ndarray, spatial: int) -> tuple[int, ...]:
    return tuple(range(spatial))


def truncate_kspace(array: np.ndarray, spatial: int, fraction: float) -> np.ndarray:
    """Gibbs ringing: keep the centred box of k-space with ``|k| <= floor(fraction * n / 2)`` on
    each spatial axis (a finite Cartesian acquisition window) and reconstruct. ``fraction=1``
    changes nothing; ``0`` keeps only the mean."""
    if fraction >= 1.0:
        return array.copy()
    unit = to_unit(array)
    axes = _axes(unit, spatial)
    spectrum = np.fft.fftn(unit, axes=axes)
    for axis in axes:
        n = unit.shape[axis]
        keep = int(np.floor(fraction * n / 2))
        k = np.abs(np.fft.fftfreq(n) * n)
        cut = k > keep
        if cut.any():
            index: list[slice | np.ndarray] = [slice(None)] * unit.ndim
            index[axis] = cut
            spectrum[tuple(index)] = 0
    out = np.fft.ifftn(spectrum, axes=axes).real.astype(np.float32)
    return from_unit(out, array.dtype)


def add_kspace_spikes(
    array: np.ndarray, spatial: int, positions: np.ndarray, amplitudes: np.ndarray
) -> np.ndarray:
    """Spike noise: each spike adds ``amplitude * max|F|`` at one frequency and its conjugate
    mirror (the spectrum stays Hermitian, so the image stays real), which shows as stripes.

    ``positions`` is ``(N, 3)`` fractions in [0, 1) of (depth, height, width); an image uses the
    last two, so the same draw serves an image and a volume. ``amplitudes`` is ``(N,)``.
    """
    if len(amplitudes) == 0:
        return array.copy()
    unit = to_unit(array)
    axes = _axes(unit, spatial)
    spectrum = np.fft.fftn(unit, axes=axes)
    peak = float(np.abs(spectrum).max()) or 1.0
    shape = unit.shape[:spatial]
    for position, amplitude in zip(positions, amplitudes):
        index = tuple(int(f * n) % n for f, n in zip(position[-spatial:], shape))
        mirror = tuple((-i) % n for i, n in zip(index, shape))
        value = float(amplitude) * peak
        spectrum[index] += value
        if mirror != index:
            spectrum[mirror] += value
    out = np.fft.ifftn(spectrum, axes=axes).real.astype(np.float32)
    return from_unit(out, array.dtype)


def rician_magnitude(array: np.ndarray, real: np.ndarray, imag: np.ndarray) -> np.ndarray:
    """MRI magnitude reconstruction: ``|signal + real + i imag|`` for Gaussian noise fields
    ``real`` and ``imag`` (in units of the white level, broadcast against the array). Dark
    regions get a positive noise floor (Rayleigh, mean ``sigma * sqrt(pi / 2)``) instead of
    zero-mean noise."""
    unit = to_unit(array)
    out = np.sqrt((unit + real) ** 2 + imag**2)
    return from_unit(out.astype(np.float32, copy=False), array.dtype)


def smooth_field(shape: Sequence[int], coarse: np.ndarray) -> np.ndarray:
    """A coarse grid upsampled (linearly, separably) to ``shape`` (2 or 3 spatial axes)."""
    field = coarse.astype(np.float32)
    if field.ndim == 2:
        return cv2.resize(field, (int(shape[1]), int(shape[0])), interpolation=cv2.INTER_LINEAR)
    d, h, w = (int(n) for n in shape)
    planes = np.stack([cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR) for p in field])
    flat = planes.reshape(planes.shape[0], h * w)
    return cv2.resize(flat, (h * w, d), interpolation=cv2.INTER_LINEAR).reshape(d, h, w)


def bias_field(array: np.ndarray, spatial: int, log_gain: np.ndarray) -> np.ndarray:
    """Intensity inhomogeneity: multiply by ``exp`` of a smooth log-gain field. ``log_gain`` is
    the coarse grid: spatial axes, then one column per channel (or one shared)."""
    unit = to_unit(array)
    shape = unit.shape[:spatial]
    fields = [np.exp(smooth_field(shape, log_gain[..., c])) for c in range(log_gain.shape[-1])]
    gain = np.stack(fields, axis=-1)
    if unit.ndim == spatial:
        gain = gain[..., 0]
    out = unit * gain
    return from_unit(out.astype(np.float32, copy=False), array.dtype)


def _magnitude(spectrum: np.ndarray, axes: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """The magnitude image of a (no longer Hermitian) spectrum, as a scanner reconstructs it."""
    out = np.abs(np.fft.ifftn(spectrum, axes=axes)).astype(np.float32)
    return from_unit(out, dtype)


def ghost_kspace(
    array: np.ndarray, spatial: int, axis: int, period: int, offset: int, intensity: float
) -> np.ndarray:
    """Ghosting: a signal that changes periodically during the scan (breathing, pulsatile flow)
    changes one k-space line in every ``period`` along the phase-encoding ``axis`` (a spatial
    axis index). Here lines ``k`` with ``k % period == offset`` are scaled by ``1 - intensity``;
    the reconstruction then holds ``period - 1`` faint copies of the object shifted by multiples
    of ``n / period`` along ``axis`` (wrapping around, as ghosts do), each of amplitude about
    ``intensity / period``. The magnitude image is returned."""
    if intensity <= 0 or period < 2:
        return array.copy()
    unit = to_unit(array)
    axes = _axes(unit, spatial)
    spectrum = np.fft.fftn(unit, axes=axes)
    n = unit.shape[axis]
    lines = np.arange(n) % period == offset % period
    index: list[slice | np.ndarray] = [slice(None)] * unit.ndim
    index[axis] = lines
    spectrum[tuple(index)] *= 1.0 - intensity
    return _magnitude(spectrum, axes, array.dtype)


def motion_kspace(
    array: np.ndarray, spatial: int, axis: int, boundaries: np.ndarray, shifts: np.ndarray
) -> np.ndarray:
    """Rigid motion during the scan: k-space lines along the phase-encoding ``axis`` are
    acquired in order (lowest frequency ``-n/2`` first), and the patient moves between them.
    ``boundaries`` (``M`` sorted fractions in (0, 1)) cut the acquisition into ``M + 1`` parts;
    part ``j`` sees the object shifted by ``shifts[j]`` pixels (one row per part, one column per
    spatial axis), which in k-space is the phase ramp ``exp(-2 pi i k . shift)``. The magnitude
    image is returned: blurred edges and ghost-like ripples along ``axis``."""
    unit = to_unit(array)
    axes = _axes(unit, spatial)
    spectrum = np.fft.fftn(unit, axes=axes)
    shape = unit.shape[:spatial]
    n = shape[axis]
    order = np.argsort(np.fft.fftfreq(n), kind="stable")  # acquisition order of the lines
    position = np.empty(n)
    position[order] = (np.arange(n) + 0.5) / n
    part = np.searchsorted(np.asarray(boundaries, dtype=np.float64), position)
    freqs = np.meshgrid(*(np.fft.fftfreq(m) for m in shape), indexing="ij")
    phase = np.zeros(shape)
    for j, shift in enumerate(np.asarray(shifts, dtype=np.float64)):
        ramp = sum(f * t for f, t in zip(freqs, shift))
        select = [slice(None)] * spatial
        lines = part == j
        select[axis] = lines
        phase[tuple(select)] = np.asarray(ramp)[tuple(select)]
    factor = np.exp(-2j * np.pi * phase)
    if unit.ndim > spatial:
        factor = factor[..., None]
    return _magnitude(spectrum * factor, axes, array.dtype)


__all__ = [
    "add_kspace_spikes",
    "bias_field",
    "from_unit",
    "ghost_kspace",
    "motion_kspace",
    "rician_magnitude",
    "smooth_field",
    "to_unit",
    "truncate_kspace",
]
