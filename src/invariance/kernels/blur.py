"""Blur kernels."""

from __future__ import annotations

import cv2
import numpy as np

from invariance.kernels._cv import restore_channel_axis


def gaussian_kernel_size(sigma: float) -> int:
    """The odd kernel size that holds a Gaussian of ``sigma`` (3.5 sigma each side, as PIL)."""
    size = int(sigma * 3.5) * 2 + 1
    return size if size % 2 == 1 else size + 1


def gaussian_blur(img: np.ndarray, ksize: int, sigma: float) -> np.ndarray:
    """Separable Gaussian blur with an odd ``ksize`` (0: derived from ``sigma``), reflect-101 border."""
    if ksize == 0:
        ksize = gaussian_kernel_size(sigma)
    if ksize <= 1 and sigma <= 0:
        return img.copy()
    return restore_channel_axis(cv2.GaussianBlur(img, (ksize, ksize), sigmaX=sigma, sigmaY=sigma), img)
