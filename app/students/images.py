"""Decoding uploaded photos safely: type by content, size from the header before any pixel is decoded."""
from __future__ import annotations

import struct
import threading

import cv2
import numpy as np

# Content signatures: the upload's bytes decide its type, never its name.
IMAGE_SIGNATURES = {b"\xff\xd8\xff": "jpeg", b"\x89PNG\r\n\x1a\n": "png"}
# A 109 KB PNG can declare 30000x30000 pixels and take 12 GB to decode (issue 14). Phone photos are
# 12-50 MP; 40 MP decoded is 120 MB of BGR, and at most MAX_CONCURRENT_DECODES run at once.
MAX_IMAGE_PIXELS = 40_000_000
MAX_CONCURRENT_DECODES = 2
# Smaller than the smallest face the gate accepts: nothing to find (and the detector's tiles need room).
MIN_IMAGE_SIDE = 48

_decodes = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)

# JPEG start-of-frame markers (baseline, progressive, lossless...); C4/C8/CC are not frames.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class ImageError(ValueError):
    """An upload is not a usable image; the message is shown to the teacher."""


def image_kind(data: bytes) -> str | None:
    """'jpeg', 'png' or None, from the first bytes."""
    return next((k for sig, k in IMAGE_SIGNATURES.items() if data.startswith(sig)), None)


def header_size(data: bytes, kind: str) -> tuple[int, int] | None:
    """(width, height) read from a PNG IHDR or a JPEG SOF header without decoding; None if not found."""
    if kind == "png":
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        return struct.unpack(">II", data[16:24])
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def decode_image(data: bytes) -> np.ndarray:
    """BGR image from JPEG/PNG bytes; refuses other types, huge or tiny sizes, truncated or corrupt files."""
    kind = image_kind(data)
    if kind is None:
        raise ImageError("not a JPEG or PNG image")
    size = header_size(data, kind)
    if size is None:
        raise ImageError(f"the {kind.upper()} file is corrupt and cannot be read")
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageError(f"the image is too large ({width}x{height} pixels; at most "
                         f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels)")
    if min(width, height) < MIN_IMAGE_SIDE:
        raise ImageError(f"the image is too small ({width}x{height} pixels)")
    # libjpeg/libpng decode a truncated file with a grey bottom and only a warning: check the end marker.
    tail = data.rstrip(b"\x00\r\n ")[-12:]
    if (kind == "jpeg" and not tail.endswith(b"\xff\xd9")) or (kind == "png" and b"IEND" not in tail):
        raise ImageError(f"the {kind.upper()} file is incomplete or corrupt")
    with _decodes:
        try:
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        except cv2.error:
            image = None
    if image is None or image.size == 0:
        raise ImageError(f"the {kind.upper()} file is corrupt and cannot be read")
    # The header must have told the truth (EXIF rotation may swap the sides).
    if sorted(image.shape[:2]) != sorted((height, width)):
        raise ImageError(f"the {kind.upper()} file is corrupt and cannot be read")
    return image
