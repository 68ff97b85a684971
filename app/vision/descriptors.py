"""Local texture descriptors of a grey face crop: uniform LBP histograms on a grid, and HOG."""
from __future__ import annotations

import threading
from functools import lru_cache

import cv2
import numpy as np

LBP_BINS = 59  # 58 uniform 8-bit patterns + one bin for every other pattern


@lru_cache(maxsize=1)
def _uniform_lut() -> np.ndarray:
    """(256,) uint8: each 8-bit LBP code -> its uniform-pattern bin (0..57) or 58 for the rest."""
    lut = np.full(256, LBP_BINS - 1, np.uint8)
    nxt = 0
    for code in range(256):
        bits = [(code >> i) & 1 for i in range(8)]
        if sum(bits[i] != bits[(i + 1) % 8] for i in range(8)) <= 2:
            lut[code] = nxt
            nxt += 1
    return lut


def lbp_codes(grey: np.ndarray, radius: int = 1) -> np.ndarray:
    """(h - 2r, w - 2r) uint8 uniform-LBP bins of the 8 neighbours at distance `radius` (square ring)."""
    g = grey.astype(np.int16) if grey.dtype == np.uint8 else grey.astype(np.float32)
    r = radius
    h, w = g.shape
    centre = g[r:h - r, r:w - r]
    code = np.zeros(centre.shape, np.uint8)
    offsets = ((-r, -r), (-r, 0), (-r, r), (0, r), (r, r), (r, 0), (r, -r), (0, -r))  # clockwise
    for bit, (dy, dx) in enumerate(offsets):
        code |= (g[r + dy:h - r + dy, r + dx:w - r + dx] >= centre).astype(np.uint8) << bit
    return _uniform_lut()[code]


@lru_cache(maxsize=8)
def _cell_index(shape: tuple[int, int], grid: int) -> np.ndarray:
    """(h*w,) int: the grid cell of each pixel, times LBP_BINS (offset into the joint histogram)."""
    h, w = shape
    rows = np.minimum(np.arange(h) * grid // h, grid - 1)
    cols = np.minimum(np.arange(w) * grid // w, grid - 1)
    return ((rows[:, None] * grid + cols[None, :]) * LBP_BINS).ravel()


def lbp_grid(grey: np.ndarray, grid: int = 8, radius: int = 1) -> np.ndarray:
    """(grid * grid * 59,) float32: per-cell uniform-LBP histograms, each summing to 1."""
    codes = lbp_codes(grey, radius)
    hist = np.bincount(_cell_index(codes.shape, grid) + codes.ravel(), minlength=grid * grid * LBP_BINS)
    hist = hist.reshape(grid * grid, LBP_BINS).astype(np.float32)
    hist /= np.maximum(hist.sum(axis=1, keepdims=True), 1.0)
    return hist.ravel()


_local = threading.local()


def _hog(size: int, cell: int) -> cv2.HOGDescriptor:
    """One HOGDescriptor per thread and geometry (camera workers and training run concurrently)."""
    cache = _local.__dict__.setdefault("hogs", {})
    if (size, cell) not in cache:
        cache[(size, cell)] = cv2.HOGDescriptor((size, size), (2 * cell, 2 * cell), (cell, cell), (cell, cell), 9)
    return cache[(size, cell)]


def hog(grey: np.ndarray, cell: int = 8) -> np.ndarray:
    """cv2 HOG of a square uint8 crop: 9 orientations, cells of `cell` px, 2x2-cell blocks (L2-Hys)."""
    return _hog(grey.shape[0], cell).compute(np.ascontiguousarray(grey, np.uint8)).ravel()
